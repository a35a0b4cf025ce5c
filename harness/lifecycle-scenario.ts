// The lifecycle scenario: one container taken through the runtime-spec's operations, create,
// start, state, kill and delete, recording what the target reports at each step and what the
// host holds, so the lifecycle invariants judge the operations themselves. The probe is the
// program; it holds until released, so the container is running whenever the scenario asks.
import type { Profile } from '../policy/profile/types.js';
import type { ReportedState, Target } from './target.js';
import { CATCHABLE_SIGNALS, type Observations, type ProbeRequest } from './probe/protocol.js';
import { finish, probeCommand, startProbe } from './scenario.js';
import { ForeignCgroup, holdingsOf, stillRuns, mountsNaming, remainsOf, sweepRemains, type ContainerHoldings, type Remains } from './container-holdings.js';

/** How long the probe has to report a signal it caught (it reports 300 ms after the first). */
const CAUGHT_REPORT_MS = 5_000;

/** What one container's way through the lifecycle showed. */
export interface LifecycleRun {
  /** The program's command line (the probe's). */
  programArgs: string[];
  /** The init's pid as seen from the host, and the bundle the target made (undefined: none). */
  hostPid: number | undefined;
  bundle: string | undefined;
  /** `state` right after create, with the init's command line then; right after start; while the program runs; once it ended. */
  created: ReportedState & { initArgs: string[] };
  started: ReportedState;
  running: ReportedState | undefined;
  stopped: ReportedState | undefined;
  /** With a signal: the one asked for, and what the program caught (null: nothing within the wait). */
  kill: { signal: NodeJS.Signals; caught: string[] | null } | undefined;
  /** `state` after delete: undefined when the target no longer knows the container. */
  afterDelete: ReportedState | undefined;
  /** The container's own cgroup directories and how many processes they held while it ran. */
  held: { cgroups: string[]; processes: number };
  /** What of that (and host mounts naming it) was still there after delete (then swept). */
  remains: Remains;
  /** The probe's first report. */
  observed: Observations;
  /**
   * With deleteWhileRunning: what a delete without --force of the running container did: whether
   * the target refused it, the state after it, and whether the init still ran.
   */
  deleteWhileRunning: { refused: boolean; said: string; state: ReportedState | undefined; initRuns: boolean } | undefined;
  /** With startWhileRunning: what a second start of the running container did, the state after it, and whether the init still ran. */
  startWhileRunning: { refused: boolean; said: string; state: ReportedState | undefined; initRuns: boolean } | undefined;
  /** With killWhenStopped: what a SIGKILL asked for once the container had stopped did, and the state before and after it. */
  killWhenStopped: { refused: boolean; said: string; before: ReportedState | undefined; after: ReportedState | undefined } | undefined;
  /** With foreignCgroup: the cgroup the init was moved into between create and start, and whether it outlived delete. */
  foreign: { dir: string; keptAfterDelete: boolean } | undefined;
}

export interface LifecycleOptions {
  /** Send the program this signal with kill while it runs. */
  signal?: NodeJS.Signals;
  /** Between create and start, move the init into a cgroup the container did not make (ForeignCgroup). */
  foreignCgroup?: boolean;
  /** While the program runs, ask for a delete without --force (ContainerSession.deleteUnforced). */
  deleteWhileRunning?: boolean;
  /** While the program runs, ask for start again (ContainerSession.startAsIs). */
  startWhileRunning?: boolean;
  /** Once the program ended, ask for a SIGKILL (ContainerSession.killAsIs), as runtime-tools kill_no_effect does. */
  killWhenStopped?: boolean;
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Always create, then start: the operations in question are those of the create-start lifecycle.
 * A target that records nothing between the two (or cannot report a state) is a harness bug here,
 * since check.ts skips targets without create-start.
 */
export async function runLifecycle(target: Target, profile: Profile, options: LifecycleOptions = {}): Promise<LifecycleRun> {
  const { signal } = options;
  const request: ProbeRequest = { hold: true, ...(signal === undefined ? {} : { catchSignals: [...CATCHABLE_SIGNALS] }) };
  let foreign: ForeignCgroup | undefined;
  const beforeStart = options.foreignCgroup === true ? (initPid: number) => {
    foreign = ForeignCgroup.adopt(initPid);
  } : undefined;
  const probe = await startProbe(target, profile, request, { lifecycle: 'create-start', ...(beforeStart ? { beforeStart } : {}) }).catch((e: unknown) => {
    foreign?.remove();
    throw e;
  });
  const { session } = probe;
  let holdings: ContainerHoldings | undefined;
  let remains: Remains | undefined;
  try {
    const record = session.lifecycle;
    if (record === undefined || session.state === undefined) throw new Error(`the target launched ${session.id} with create-start but recorded no lifecycle or cannot report a state`);
    const mountsBefore = mountsNaming(session.id, record.bundle);
    const observed = await probe.nextReport();
    const running = await session.state();
    holdings = holdingsOf(session.hostPid ?? -1, mountsBefore);
    let startWhileRunning: LifecycleRun['startWhileRunning'];
    if (options.startWhileRunning === true) {
      if (session.startAsIs === undefined) throw new Error(`the target launched ${session.id} but has no start to ask of a running container`);
      const { refused, said } = await session.startAsIs();
      startWhileRunning = { refused, said, state: await session.state(), initRuns: stillRuns(holdings, session.hostPid ?? -1) };
    }
    let deleteWhileRunning: LifecycleRun['deleteWhileRunning'];
    if (options.deleteWhileRunning === true) {
      if (session.deleteUnforced === undefined) throw new Error(`the target launched ${session.id} but has no delete short of its teardown`);
      const { refused, said } = await session.deleteUnforced();
      deleteWhileRunning = { refused, said, state: await session.state(), initRuns: stillRuns(holdings, session.hostPid ?? -1) };
    }
    let kill: LifecycleRun['kill'];
    if (signal !== undefined) {
      const report = probe.nextReport();
      report.catch(() => undefined);
      await session.kill(signal);
      const caught = await withDeadline(report.then((o) => o.caughtSignals ?? [], () => null), CAUGHT_REPORT_MS);
      kill = { signal, caught: caught ?? null };
    }
    // Released, the probe ends; the state must then say so.
    session.stdin?.end();
    await withDeadline(session.wait(), CAUGHT_REPORT_MS);
    const stopped = await session.state();
    let killWhenStopped: LifecycleRun['killWhenStopped'];
    if (options.killWhenStopped === true) {
      if (session.killAsIs === undefined) throw new Error(`the target launched ${session.id} but has no kill to ask of a stopped container`);
      const { refused, said } = await session.killAsIs('SIGKILL');
      killWhenStopped = { refused, said, before: stopped, after: await session.state() };
    }
    await session.destroy();
    // Read before anything is swept: the sweep below removes whatever the init was in.
    const keptAfterDelete = foreign?.exists();
    const afterDelete = await session.state();
    remains = remainsOf(holdings, session.id, record.bundle);
    return {
      programArgs: probeCommand(request), hostPid: session.hostPid, bundle: record.bundle,
      created: record.created, started: record.started, running, stopped, kill, afterDelete,
      held: { cgroups: holdings.cgroupDirs, processes: holdings.processes.length }, remains, observed,
      foreign: foreign && { dir: foreign.dir, keptAfterDelete: keptAfterDelete === true }, deleteWhileRunning, killWhenStopped, startWhileRunning,
    };
  } finally {
    try {
      await finish(probe);
    } finally {
      // Also when a step above failed: what a broken delete left must not stay on the host.
      if (holdings !== undefined) sweepRemains(remains ?? remainsOf(holdings, session.id, session.lifecycle?.bundle), holdings);
      foreign?.remove();
    }
  }
}
