// Running the probe in containers of a target: one container, or two alive at the same time.
import { fileURLToPath } from 'node:url';
import type { Profile } from '../policy/profile/types.js';
import type { ContainerSession, Target } from './target.js';
import { TargetError } from './target.js';
import { encodeRequest, PROBE_REQUEST_FLAG, type Observations, type ProbeRequest } from './probe/protocol.js';

export const PROBE_MAIN = fileURLToPath(new URL('./probe/main.js', import.meta.url));

export function probeCommand(request: ProbeRequest): string[] {
  return [process.execPath, PROBE_MAIN, PROBE_REQUEST_FLAG, encodeRequest(request)];
}

/** The probe did not produce observations: it crashed, or the container ended first. */
export class ProbeError extends Error {
  constructor(message: string, readonly stderr: string) {
    super(stderr ? `${message}\n${stderr.trim().split('\n').slice(-5).join('\n')}` : message);
    this.name = 'ProbeError';
  }
}

interface RunningProbe {
  session: ContainerSession;
  observations: Promise<Observations>;
}

function startReading(session: ContainerSession): Promise<Observations> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let settled = false;
    session.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    session.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0 && !settled) {
        settled = true;
        try {
          resolve(JSON.parse(out.slice(0, nl)) as Observations);
        } catch (e) {
          reject(new ProbeError(`probe printed invalid JSON: ${(e as Error).message}`, err));
        }
      }
    });
    session.wait().then((exit) => {
      if (settled) return;
      settled = true;
      const how = exit.timedOut ? 'timed out' : exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
      reject(new ProbeError(`the probe ${how} before reporting`, err));
    }, reject);
  });
}

export interface ScenarioOptions {
  /** Count the system calls of the (first) container, where the target can. */
  trace?: boolean;
}

export type SyscallTotals = { name: string; count: number; errors: number }[];

async function startProbe(target: Target, profile: Profile, request: ProbeRequest, trace = false): Promise<RunningProbe> {
  const session = await target.start({ profile, args: probeCommand(request), stdin: request.hold ? 'pipe' : 'null', traceSyscalls: trace });
  return { session, observations: startReading(session) };
}

async function finish(probe: RunningProbe): Promise<void> {
  probe.session.stdin?.end();
  await probe.session.destroy();
}

export async function runSingle(target: Target, profile: Profile, request: ProbeRequest, options: ScenarioOptions = {}): Promise<{ observed: Observations; syscalls?: SyscallTotals }> {
  const probe = await startProbe(target, profile, request, options.trace);
  try {
    const observed = await probe.observations;
    await finish(probe);
    return { observed, syscalls: await probe.session.syscalls?.() };
  } finally {
    await finish(probe);
  }
}

/** Two containers of one profile; both report while both are alive (the probes hold until released). */
export async function runPair(target: Target, profile: Profile, requests: [ProbeRequest, ProbeRequest]): Promise<[Observations, Observations]> {
  const first = await startProbe(target, profile, { ...requests[0], hold: true });
  let second: RunningProbe | undefined;
  try {
    const a = await first.observations;
    second = await startProbe(target, profile, { ...requests[1], hold: true });
    const b = await second.observations;
    return [a, b];
  } finally {
    await Promise.all([finish(first), second ? finish(second) : Promise.resolve()]);
  }
}

export function isTargetError(e: unknown): e is TargetError {
  return e instanceof TargetError;
}
