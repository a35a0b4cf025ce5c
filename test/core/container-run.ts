// Real containers for the engine's tests: a profile document goes through the real loader and
// the real launcher; the test gets the contained program's output and exit, and, while the
// program is held open, the Container so it can look at it from the host.
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { launchContainer, type Container, type ContainerExit, type LaunchOptions } from '../../core/container.js';
import { parseProfile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import type { Observations, ProbeRequest } from '../../harness/probe/protocol.js';
import { encodeRequest, PROBE_REQUEST_FLAG } from '../../harness/probe/protocol.js';
import { leftovers } from '../../harness/host-leftovers.js';
import { PROBE_IN_CONTAINER, RIG_DIR } from '../../harness/probe-rig.js';

/** The probe on the host, run from there by a container without a mount namespace of its own. */
const PROBE_ON_HOST = fileURLToPath(new URL('../../harness/probe/main.js', import.meta.url));
export const SOURCE = 'core-test.yaml';

export function profileOf(doc: Record<string, unknown>): Profile {
  return parseProfile(doc, SOURCE);
}

export interface Finished<T> {
  container: Container;
  exit: ContainerExit;
  stdout: string;
  stderr: string;
  /** What `outside` returned while the program was held. */
  outside: T;
}

export interface RunOptions<T> {
  args?: string[];
  /**
   * Called from the host once `ready(stdout)` holds, while the program blocks reading stdin;
   * stdin is closed after it returns. The program must block on stdin for this to mean anything.
   */
  outside?: (container: Container) => T | Promise<T>;
  ready?: (stdout: string) => boolean;
  launch?: Partial<LaunchOptions>;
}

function collect(stream: Readable | undefined, onData?: (text: string) => void): Promise<string> {
  if (!stream) return Promise.resolve('');
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      text += chunk;
      onData?.(text);
    });
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

/** Launches, optionally looks from outside while held, waits; the container is torn down on return. */
export async function run<T = undefined>(doc: Record<string, unknown>, options: RunOptions<T> = {}): Promise<Finished<T>> {
  // The probe is nsrig's own code: shown at the rig's path wherever the checkout lives.
  const container = await launchContainer(profileOf(doc), {
    nsrigTreeAt: RIG_DIR,
    stdio: 'pipe', stdin: options.outside ? 'pipe' : 'null', args: options.args, ...options.launch,
  });
  try {
    let signalReady: () => void = () => {};
    const readyOnce = new Promise<void>((resolve) => { signalReady = resolve; });
    const ready = options.ready ?? ((text: string) => text.includes('\n'));
    const stdout = collect(container.stdout, (text) => { if (ready(text)) signalReady(); });
    const stderr = collect(container.stderr);
    let outside = undefined as T;
    if (options.outside) {
      // Exit before readiness is a failure of the test's program: stop waiting and report it.
      const first = await Promise.race([readyOnce.then(() => 'ready' as const), stdout.then(() => 'ended' as const)]);
      if (first === 'ended') throw new Error(`the contained program ended before it was ready to be looked at: ${await stderr}`);
      outside = await options.outside(container);
      container.stdin?.end();
    }
    const exit = await container.wait();
    return { container, exit, stdout: await stdout, stderr: await stderr, outside };
  } finally {
    await container.destroy();
  }
}

/** A shell script as the contained program (sh is PID 1; each command it runs is a child). */
export function shell(script: string): string[] {
  return ['/bin/sh', '-c', script];
}

/** Ends a script: tell the host we are ready, then block until it closes stdin. */
export const HOLD = 'echo held; read _ || true';
export const heldReady = (text: string) => text.includes('held\n');

/** The probe as the contained program; its JSON line of observations is parsed. */
export async function runProbe<T = undefined>(doc: Record<string, unknown>, request: ProbeRequest = {},
  outside?: (container: Container) => T | Promise<T>): Promise<Finished<T> & { observations: Observations }> {
  const finished = await run(doc, {
    args: [process.execPath, profileOf(doc).namespaces.includes('mnt') ? PROBE_IN_CONTAINER : PROBE_ON_HOST, PROBE_REQUEST_FLAG, encodeRequest({ ...request, hold: outside !== undefined })],
    outside,
  });
  const line = finished.stdout.split('\n').find((l) => l.startsWith('{'));
  if (!line) throw new Error(`the probe printed no observations (exit ${JSON.stringify(finished.exit)}): ${finished.stderr}`);
  return { ...finished, observations: JSON.parse(line) as Observations };
}

/** ava hook body: after every test, nothing of ours remains on the host. */
export function assertNoLeftovers(t: ExecutionContext): void {
  t.deepEqual(leftovers(), [], 'teardown left something on the host');
}
