// Running the probe in containers of a target: one container, two alive at the same time, or one
// that looks again after the host changed something.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import type { Profile } from '../policy/profile/types.js';
import type { ConfigEdit, ContainerSession, Lifecycle, Target } from './target.js';
import { TargetError } from './target.js';
import { encodeRequest, PROBE_REQUEST_FLAG, type Observations, type ProbeRequest } from './probe/protocol.js';
import type { HookRun, HostChangePlan, RefusalRun } from './invariant.js';
import { HookRecorder, RUNTIME_NAMESPACE_HOOKS, stateOf, type HookRecord, type HookRecording } from './hook-recorder.js';
import { readCgroupLayout } from '../core/cgroup-layout.js';
import { PROBE_IN_CONTAINER } from './probe-rig.js';

/** The probe's entry point on the host; inside containers it is PROBE_IN_CONTAINER (probe-rig.ts). */
export const PROBE_MAIN = fileURLToPath(new URL('./probe/main.js', import.meta.url));

export function probeCommand(request: ProbeRequest): string[] {
  return [process.execPath, PROBE_IN_CONTAINER, PROBE_REQUEST_FLAG, encodeRequest(request)];
}

/** The probe did not produce observations: it crashed, or the container ended first. */
export class ProbeError extends Error {
  constructor(message: string, readonly stderr: string) {
    super(stderr ? `${message}\n${stderr.trim().split('\n').slice(-5).join('\n')}` : message);
    this.name = 'ProbeError';
  }
}

export interface RunningProbe {
  session: ContainerSession;
  /** The probe's next report line; a ProbeError when it ends (or printed garbage) first. */
  nextReport: () => Promise<Observations>;
}

/** How long the end of a probe's output is awaited once the probe has exited. */
const OUTPUT_DRAIN_MS = 2000;

/** Reads a probe's report lines from anything with its stdio and end (a container, an exec'd process). */
export function reportReader(session: Pick<ContainerSession, 'stdout' | 'stderr' | 'wait'>): () => Promise<Observations> {
  let out = '';
  let err = '';
  let ended: Error | undefined;
  const lines: string[] = [];
  const waiting: { resolve: (o: Observations) => void; reject: (e: Error) => void }[] = [];
  const settle = () => {
    while (waiting.length > 0 && lines.length > 0) {
      const line = lines.shift()!;
      const waiter = waiting.shift()!;
      try {
        waiter.resolve(JSON.parse(line) as Observations);
      } catch (e) {
        waiter.reject(new ProbeError(`probe printed invalid JSON: ${(e as Error).message}`, err));
      }
    }
    if (ended) for (const waiter of waiting.splice(0)) waiter.reject(ended);
  };
  session.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  session.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let nl = out.indexOf('\n'); nl >= 0; nl = out.indexOf('\n')) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    settle();
  });
  // A process's exit can be seen before the last of its output is read (child_process reports the
  // exit on SIGCHLD, the pipe's data on later reads): under load a probe that had reported was taken
  // for one that ended without a word. So the end waits for the output's end, within a bound, since
  // a process left in a container without a pid namespace may hold the pipe open.
  const outputEnded = new Promise<void>((resolve) => {
    if (session.stdout.readableEnded || session.stdout.destroyed) resolve();
    session.stdout.once('end', resolve).once('close', resolve).once('error', () => resolve());
  });
  session.wait().then(async (exit) => {
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([outputEnded, new Promise<void>((resolve) => (bound = setTimeout(resolve, OUTPUT_DRAIN_MS)))]);
    clearTimeout(bound);
    const how = exit.timedOut ? 'timed out' : exit.signal ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
    ended = new ProbeError(`the probe ${how} before reporting`, err);
    settle();
  }, (e: Error) => {
    ended = e;
    settle();
  });
  return () => new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    settle();
  });
}

export interface ScenarioOptions {
  /** Count the system calls of the (first) container, where the target can. */
  trace?: boolean;
  /** How each container is launched; "run" when absent. */
  lifecycle?: Lifecycle;
  /** With create-start: written into the configuration between create and start. */
  editAfterCreate?: ConfigEdit;
  /** With create-start: called right before start, with the init's host pid. */
  beforeStart?: (initPid: number) => void;
}

export type SyscallTotals = { name: string; count: number; errors: number }[];

/**
 * A cgroup belongs to one container, and a fixed config's cases run at once (two in a pair, more
 * with --jobs): its declared cgroupsPath gets a suffix per container, in the last path component
 * (which is also the name in runc's systemd form slice:prefix:name). Nothing else of it changes.
 */
function withOwnCgroup(profile: Profile): Profile {
  return profile.cgroupsPath === undefined ? profile : { ...profile, cgroupsPath: `${profile.cgroupsPath}-nsrig-${randomBytes(4).toString('hex')}` };
}

export async function startProbe(target: Target, declared: Profile, request: ProbeRequest, options: ScenarioOptions = {}): Promise<RunningProbe> {
  const profile = withOwnCgroup(declared);
  const session = await target.start({
    profile, args: probeCommand(request), stdin: request.hold ? 'pipe' : 'null', traceSyscalls: options.trace ?? false,
    ...(options.lifecycle === undefined || options.lifecycle === 'run' ? {} : { lifecycle: options.lifecycle }),
    ...(options.editAfterCreate === undefined ? {} : { editAfterCreate: options.editAfterCreate }),
    ...(options.beforeStart === undefined ? {} : { beforeStart: options.beforeStart }),
  });
  return { session, nextReport: reportReader(session) };
}

export async function finish(probe: RunningProbe): Promise<void> {
  probe.session.stdin?.end();
  await probe.session.destroy();
}

export async function runSingle(target: Target, profile: Profile, request: ProbeRequest, options: ScenarioOptions = {}): Promise<{ observed: Observations; syscalls?: SyscallTotals }> {
  const probe = await startProbe(target, profile, request, options);
  try {
    const observed = await probe.nextReport();
    await finish(probe);
    return { observed, syscalls: await probe.session.syscalls?.() };
  } finally {
    await finish(probe);
  }
}

/** Two containers of one profile; both report while both are alive (the probes hold until released). */
export async function runPair(target: Target, profile: Profile, requests: [ProbeRequest, ProbeRequest], options: ScenarioOptions = {}): Promise<[Observations, Observations]> {
  const launch = { lifecycle: options.lifecycle };
  const first = await startProbe(target, profile, { ...requests[0], hold: true }, launch);
  let second: RunningProbe | undefined;
  try {
    const a = await first.nextReport();
    second = await startProbe(target, profile, { ...requests[1], hold: true }, launch);
    const b = await second.nextReport();
    return [a, b];
  } finally {
    await Promise.all([finish(first), second ? finish(second) : Promise.resolve()]);
  }
}

/**
 * One container that looks twice: once started, and again after the host made a change (a mount,
 * say) while it held. The plan's undo runs whatever happened.
 */
export async function runHostChange(target: Target, profile: Profile, plan: HostChangePlan, options: ScenarioOptions = {}): Promise<[Observations, Observations]> {
  try {
    const probe = await startProbe(target, profile, { ...plan.request, hold: true, lookAgain: true }, { lifecycle: options.lifecycle });
    try {
      const before = await probe.nextReport();
      plan.change();
      probe.session.stdin!.write('\n');
      return [before, await probe.nextReport()];
    } finally {
      await finish(probe);
    }
  } finally {
    plan.undo();
  }
}

export function isTargetError(e: unknown): e is TargetError {
  return e instanceof TargetError;
}

/**
 * One container of the profile with recording OCI hooks added (harness/hook-recorder.ts). A start
 * the target refuses is part of what is observed here (a failing hook must stop it), not an error;
 * the records are read once the container is deleted, so poststop's are in.
 */
export async function runWithHooks(target: Target, profile: Profile, recording: HookRecording, options: ScenarioOptions = {}): Promise<HookRun> {
  const recorder = new HookRecorder();
  try {
    const hooked = recorder.hooked(profile, recording);
    let observed: Observations | undefined;
    let startError: string | undefined;
    // With create-start, the moment start is invoked splits the hooks of create from those of start.
    let recordsBeforeStart: number | undefined;
    const beforeStart = (): void => {
      recordsBeforeStart = recorder.records().length;
    };
    try {
      // The probe holds until released: the container lives through start and its hooks whatever the timing.
      ({ observed } = await runSingle(target, hooked, { hold: true }, { lifecycle: options.lifecycle, beforeStart }));
    } catch (e) {
      if (!(e instanceof TargetError)) throw e;
      startError = e.message;
    }
    const records = recorder.records();
    return { recording, observed, startError, records, recordsBeforeStart, leftovers: hostPidLeftovers(records) };
  } finally {
    recorder.remove();
  }
}

/**
 * One container of a profile the target must refuse. A refusal is what is observed here, not an
 * error; a start that went through is probed, so the report shows what the container got (nothing
 * when the probe could not report: a rootfs without node, say).
 */
export async function runRefusal(target: Target, profile: Profile, request: ProbeRequest): Promise<RefusalRun> {
  try {
    const { observed } = await runSingle(target, profile, request);
    return { startError: undefined, observed };
  } catch (e) {
    if (e instanceof ProbeError) return { startError: undefined, observed: undefined };
    if (!(e instanceof TargetError)) throw e;
    return { startError: e.message + (e.detail ? `: ${e.detail}` : ''), observed: undefined };
  }
}

/** What remains on the host of each process a runtime-namespace hook was told about. */
function hostPidLeftovers(records: HookRecord[]): HookRun['leftovers'] {
  const seen = new Map<number, string | null>();
  for (const r of records) {
    const pid = stateOf(r)?.pid;
    if (RUNTIME_NAMESPACE_HOOKS.includes(r.kind) && typeof pid === 'number' && Number.isInteger(pid) && pid > 0) {
      seen.set(pid, seen.get(pid) ?? r.stateCgroup);
    }
  }
  const cgroupRoot = readCgroupLayout().unifiedMount;
  return [...seen].map(([pid, cgroup]) => ({
    pid,
    alive: fs.existsSync(`/proc/${pid}`),
    cgroup,
    cgroupExists: cgroup !== null && cgroupRoot !== undefined && fs.existsSync(path.join(cgroupRoot, cgroup)),
  }));
}

