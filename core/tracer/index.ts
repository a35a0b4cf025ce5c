// nsrig's system call tracer: run a program in a container (or on the host) and count every
// system call of every thread and process it starts, per process and in total, with failures.
//
//   const r = await traceContainer(profile, { stdio: 'pipe' });
//   r.totals  // [{ name: 'read', count: 2003, errors: 0 }, ...]
import type { Readable } from 'node:stream';
import type { Profile } from '../../policy/profile/types.js';
import { launchContainer, type Container, type ContainerExit, type LaunchOptions } from '../container.js';
import { Tracer, TracerError } from './tracer.js';
import { EbpfTrace, cgroupIdOf } from './ebpf-trace.js';
import { START_MARKER } from './ebpf-programs.js';
import { hostProfile, type HostCommandOptions } from './host-profile.js';
import type { SyscallCount, TracedProcess } from './syscall-tally.js';
import type { EbpfSummary } from './ebpf-trace.js';
import { UnknownSyscallError } from './filter.js';
import { syscallName, syscallNumber } from '../../policy/kernel/syscall-table.js';
import type { CallToRecord } from '../../policy/seccomp/violating-calls.js';

export type { SyscallCount, TracedProcess } from './syscall-tally.js';
export type { TraceSummary } from './stop-loop.js';
export { Tracer, TracerError } from './tracer.js';
export { traceFilter, UnknownSyscallError } from './filter.js';
export { hostProfile, currentCapabilities, type HostCommandOptions } from './host-profile.js';
export { ebpfAvailability, tryEbpfFacilities, type EbpfAvailability } from './ebpf-availability.js';

/**
 * How calls are counted. ptrace: two stops per call in a tracer thread (a seccomp stop, a
 * syscall-exit stop for errors). ebpf: programs on the raw_syscalls tracepoints count in kernel
 * maps, filtered by the container's cgroup, and the traced program never stops.
 */
export type TraceBackend = 'ebpf' | 'ptrace';

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
  /** ptrace unless given. */
  backend?: TraceBackend;
  /**
   * ebpf only: x86_64 calls whose arguments and pid are recorded, the first 8 of each name, or
   * with refusedWhen the first 8 the rules refuse.
   */
  sampleCalls?: readonly CallToRecord[];
}

/** One recorded call: who made it and its six argument registers at entry. */
export interface SampledCall {
  name: string;
  pid: number;
  args: bigint[];
}

export interface TraceResult {
  /** How the container's first process ended. */
  exit: ContainerExit;
  /** Every traced process in the order it appeared, the first one first. */
  processes: TracedProcess[];
  /** Counts over all processes. */
  totals: SyscallCount[];
  errorsCounted: boolean;
  backend: TraceBackend;
  /** ebpf with sampleCalls: the recorded calls. */
  samples?: SampledCall[];
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

/** With stdio "pipe", everything the program writes, read from the start so no pipe fills; else nothing. */
function pipedOutput(container: Container, stdio: TraceOptions['stdio']): Promise<TraceResult['output']> {
  if (stdio !== 'pipe') return Promise.resolve(undefined);
  return Promise.all([collect(container.stdout), collect(container.stderr)]).then(([stdout, stderr]) => ({ stdout, stderr }));
}

/**
 * Launches `profile` with a tracer attached from before stage 2 runs, and resolves once the
 * program and everything it started are gone. Throws LaunchError when the container could not
 * start (the tracer is gone then too).
 */
export async function traceContainer(profile: Profile, options: TraceOptions): Promise<TraceResult> {
  if (options.backend === 'ebpf') return traceWithEbpf(profile, options);
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
  const output = pipedOutput(container, options.stdio);
  const exit = await container.wait();
  const summary = await tracer.finished();
  const result: TraceResult = { exit, processes: summary.processes, totals: summary.totals, errorsCounted: countErrors, backend: 'ptrace' };
  const written = await output;
  if (written) result.output = written;
  return result;
}

function onlyWanted(counts: SyscallCount[], only: ReadonlySet<string> | undefined, countErrors: boolean): SyscallCount[] {
  return counts.filter((c) => only === undefined || only.has(c.name)).map((c) => (countErrors ? c : { ...c, errors: 0 }));
}

async function traceWithEbpf(profile: Profile, options: TraceOptions): Promise<TraceResult> {
  const countErrors = options.countErrors ?? true;
  const sampleCalls = (options.sampleCalls ?? []).map(({ name, refusedWhen }) => {
    const nr = syscallNumber(name, 'x86_64');
    if (nr === undefined) throw new UnknownSyscallError([name]);
    return refusedWhen ? { nr, refusedWhen } : { nr };
  });
  let trace: EbpfTrace | undefined;
  let container: Container;
  try {
    container = await launchContainer(profile, {
      args: options.args,
      stdio: options.stdio,
      stdin: options.stdin ?? 'null',
      seccompPrograms: options.seccompPrograms,
      traceStartMarker: START_MARKER,
      beforeSetup: (pid) => {
        const cgroupId = cgroupIdOf(pid);
        if (cgroupId === cgroupIdOf(process.pid)) throw new TracerError(`the container (pid ${pid}) has no cgroup of its own to trace`);
        trace = EbpfTrace.start({ cgroupId, root: pid, sampleCalls });
      },
    });
  } catch (e) {
    trace?.close();
    throw e;
  }
  let summary: EbpfSummary;
  let exit: ContainerExit;
  let output: TraceResult['output'];
  try {
    const collected = pipedOutput(container, options.stdio);
    // wait() returns once the container's cgroup is removed, i.e. every task in it has exited.
    exit = await container.wait();
    summary = trace!.summary();
    output = await collected;
  } finally {
    trace!.close();
  }
  if (summary.lost > 0) throw new TracerError(`${summary.lost} calls were not counted: more distinct (process, call) pairs than the eBPF tracer's table holds`);
  const only = options.onlySyscalls ? new Set(options.onlySyscalls) : undefined;
  const result: TraceResult = {
    exit,
    processes: summary.processes.map((p) => ({ ...p, syscalls: onlyWanted(p.syscalls, only, countErrors) })).filter((p) => p.syscalls.length > 0),
    totals: onlyWanted(summary.totals, only, countErrors),
    errorsCounted: countErrors,
    backend: 'ebpf',
  };
  if (options.sampleCalls) result.samples = summary.samples.map((s) => ({ name: syscallName(s.nr, 'x86_64') ?? `syscall_${s.nr}`, pid: s.pid, args: s.args }));
  if (output) result.output = output;
  return result;
}

/** Traces a command on the host, without new namespaces, as `strace -f -c` would run it. */
export function traceCommand(args: string[], options: Omit<TraceOptions, 'args'> & HostCommandOptions = { stdio: 'pipe' }): Promise<TraceResult> {
  return traceContainer(hostProfile(args, options), options);
}
