// nsrig's system call tracer: run a program in a container (or on the host) and count every
// system call of every thread and process it starts, per process and in total, with failures.
//
//   const r = await traceContainer(profile, { stdio: 'pipe' });
//   r.totals  // [{ name: 'read', count: 2003, errors: 0 }, ...]
import type { Readable } from 'node:stream';
import type { Profile } from '../../policy/profile/types.js';
import { launchContainer, type Container, type ContainerExit, type LaunchOptions } from '../container.js';
import { Tracer } from './tracer.js';
import { hostProfile, type HostCommandOptions } from './host-profile.js';
import type { SyscallCount, TracedProcess } from './syscall-tally.js';

export type { SyscallCount, TracedProcess } from './syscall-tally.js';
export type { TraceSummary } from './stop-loop.js';
export { Tracer, TracerError } from './tracer.js';
export { traceFilter, UnknownSyscallError } from './filter.js';
export { hostProfile, currentCapabilities, type HostCommandOptions } from './host-profile.js';

export interface TraceOptions {
  /** Replaces profile.process.args. */
  args?: string[];
  /** "pipe" collects the program's output into the result; "inherit" passes nsrig's own through. */
  stdio: 'pipe' | 'inherit';
  stdin?: LaunchOptions['stdin'];
  /** Count only these calls (x86_64 names); the others run without stopping at all. */
  onlySyscalls?: string[];
  /** Count failed returns too (default true); false halves the stops per call. */
  countErrors?: boolean;
  /**
   * More compiled programs to enforce, installed after the profile's own policy and before the
   * tracer's filter. A call a policy refuses (errno, kill, trap) never reaches the tracer's
   * SECCOMP_RET_TRACE (the kernel applies the strictest action), so it is not counted.
   */
  seccompPrograms?: Buffer[];
}

export interface TraceResult {
  /** How the container's first process ended. */
  exit: ContainerExit;
  /** Every traced process in the order it appeared, the first one first. */
  processes: TracedProcess[];
  /** Counts over all processes. */
  totals: SyscallCount[];
  errorsCounted: boolean;
  /** With stdio "pipe": everything the program wrote. */
  output?: { stdout: Buffer; stderr: Buffer };
}

function collect(stream: Readable | undefined): Promise<Buffer> {
  if (!stream) return Promise.resolve(Buffer.alloc(0));
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/**
 * Launches `profile` with a tracer attached from before stage 2 runs, and resolves once the
 * program and everything it started are gone. Throws LaunchError when the container could not
 * start (the tracer is gone then too).
 */
export async function traceContainer(profile: Profile, options: TraceOptions): Promise<TraceResult> {
  const countErrors = options.countErrors ?? true;
  const tracer = await Tracer.start({ countErrors, onlySyscalls: options.onlySyscalls });
  let container: Container;
  try {
    container = await launchContainer(profile, {
      args: options.args,
      stdio: options.stdio,
      stdin: options.stdin ?? 'null',
      // The tracer's filter last: its stops are then the contained program's calls only.
      seccompPrograms: [...(options.seccompPrograms ?? []), tracer.filter],
      beforeSetup: (pid) => tracer.attach(pid),
    });
  } catch (e) {
    // Attached: the failed launch killed the tracees and the thread ends by itself.
    if (tracer.isAttached) await tracer.finished().catch(() => undefined);
    else await tracer.abandon();
    throw e;
  }
  const output = options.stdio === 'pipe' ? Promise.all([collect(container.stdout), collect(container.stderr)]) : undefined;
  const exit = await container.wait();
  const summary = await tracer.finished();
  const result: TraceResult = { exit, processes: summary.processes, totals: summary.totals, errorsCounted: countErrors };
  if (output) {
    const [stdout, stderr] = await output;
    result.output = { stdout, stderr };
  }
  return result;
}

/** Traces a command on the host, without new namespaces, as `strace -f -c` would run it. */
export function traceCommand(args: string[], options: Omit<TraceOptions, 'args'> & HostCommandOptions = { stdio: 'pipe' }): Promise<TraceResult> {
  return traceContainer(hostProfile(args, options), options);
}
