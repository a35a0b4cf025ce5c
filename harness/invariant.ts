// What an invariant is: an id, one sentence, a level, a reference, what it needs, and a
// predicate over what the probe observed. One file per invariant under harness/invariants/.
import type { HookKind, Profile, NamespaceType } from '../policy/profile/types.js';
import type { HookRecord, HookRecording } from './hook-recorder.js';
import type { InvariantLevel, Reference } from './results.js';
import type { Observations, ProbeRequest } from './probe/protocol.js';
import type { ConfigEdit, TargetInfo } from './target.js';
import type { HostFacts, HostSnapshot } from './host-facts.js';
import type { GenerationOptions } from './generators/profile-document.js';
import type { ExecGiven, JoinWindowRun } from './exec-scenario.js';
import type { LifecycleRun } from './lifecycle-scenario.js';

export type Verdict = { holds: true } | { holds: false; expected: string; observed: string };

export const HOLDS: Verdict = { holds: true };

/** A verdict from a comparison, with expected and observed rendered for the report. */
export function expectEqual(expected: unknown, observed: unknown): Verdict {
  const e = JSON.stringify(expected);
  const o = JSON.stringify(observed);
  return e === o ? HOLDS : { holds: false, expected: e, observed: o };
}

export function violated(expected: string, observed: string): Verdict {
  return { holds: false, expected, observed };
}

/** Check names in the suites runtime developers run: runtime-tools validation/, youki contest, crun tests/, LTP runtest/containers. */
export interface AnchorChecks {
  /** runtime-tools: a validation/ directory, or runtimetest's validate function. */
  runtimeTools?: string[];
  /** youki's contest: a test group or test name. */
  contest?: string[];
  /** crun: tests/FILE.py::function. */
  crun?: string[];
  /** LTP runtest/containers entries. */
  ltp?: string[];
}

interface InvariantBase {
  /** "area.name", e.g. "uts.hostname-isolated". */
  id: string;
  level: InvariantLevel;
  /** The property in one sentence. */
  title: string;
  reference: Reference;
  /** How generated profiles must look for this invariant to say something. */
  generate?: GenerationOptions;
  /**
   * The anchors' checks that observe the same property (by their own names), for the parity table
   * (docs/parity.md, `nsrig check --parity`). Empty lists are absent.
   */
  anchors?: AnchorChecks;
  /**
   * For a fixed config (`nsrig check --config`): why the invariant says nothing about that profile
   * as declared, or undefined when it applies. Absent: read from `generate` (harness/applicability.ts).
   */
  appliesTo?: (profile: Profile) => string | undefined;
  /** A reason to skip on this host or target, checked once before any case runs. */
  skipWhen?: (host: HostFacts, target: TargetInfo) => string | undefined;
}

/** A predicate over one container's observations (and the host after it ran). */
export interface SingleInvariant extends InvariantBase {
  scenario: 'single';
  /**
   * Launch with create, then start, whatever the check's lifecycle; editAfterCreate is written into
   * the container's configuration between the two. Targets that cannot create-start skip it.
   */
  createStart?: { editAfterCreate?(profile: Profile): ConfigEdit };
  request(profile: Profile, host: HostFacts): ProbeRequest;
  check(observed: Observations, profile: Profile, host: HostFacts, after: HostSnapshot): Verdict;
}

/** A predicate over two containers of the same profile alive at the same time. */
export interface PairInvariant extends InvariantBase {
  scenario: 'pair';
  request(profile: Profile, which: 0 | 1, host: HostFacts): ProbeRequest;
  check(observed: [Observations, Observations], profile: Profile, host: HostFacts): Verdict;
}

/** What a host-change invariant does on the host around one container. */
export interface HostChangePlan {
  /** What the probe looks at, both times. */
  request: ProbeRequest;
  /** Made on the host between the probe's two looks. */
  change(): void;
  /** Removes whatever prepare and change made; runs on every path. */
  undo(): void;
  /** What change() saw on the host before making its change (the first look's effect there), for check. */
  seenOnHost?: Record<string, unknown>;
}

/** A predicate over what one container sees before and after the host changes something while it runs. */
export interface HostChangeInvariant extends InvariantBase {
  scenario: 'host-change';
  /** Sets up on the host before the container starts. */
  prepare(profile: Profile, host: HostFacts): HostChangePlan;
  check(before: Observations, after: Observations, profile: Profile, host: HostFacts, seenOnHost: Record<string, unknown>): Verdict;
}

/**
 * A predicate over a process joined to a running container (exec) against the container's init,
 * both alive, and what the joined process was given (exec-scenario.ts).
 */
export interface ExecInvariant extends InvariantBase {
  scenario: 'exec';
  /** The init watches the join from inside (ProbeRequest.watchJoins); check then gets `window`. */
  watchJoins?: { memory: boolean };
  check(init: Observations, joined: Observations, given: ExecGiven, profile: Profile, host: HostFacts, window?: JoinWindowRun): Verdict;
}


/** What one container's recording hooks wrote (harness/hook-recorder.ts), and how its start went. */
export interface HookRun {
  /** The hook kinds the profile was given, in lifecycle order (those the target runs), and the failing one. */
  recording: HookRecording;
  /** The probe's report; undefined when the container did not start. */
  observed: Observations | undefined;
  /** The target's error when the start failed; undefined when it started. */
  startError: string | undefined;
  /** In the order the hooks ran, read once the container was deleted (or its start failed). */
  records: HookRecord[];
  /**
   * Launched create-start: how many records there were when start was invoked (the hooks that ran
   * during create); undefined when launched with run, or when the launch never reached start.
   */
  recordsBeforeStart: number | undefined;
  /**
   * Each host pid a runtime-namespace hook's state named, with its v2 cgroup, looked at from the
   * host once everything returned: whether the process and the cgroup directory still exist.
   */
  leftovers: { pid: number; alive: boolean; cgroup: string | null; cgroupExists: boolean }[];
}

/** A predicate over where, when and with what the OCI hooks of one container ran. */
export interface HooksInvariant extends InvariantBase {
  scenario: 'hooks';
  /** Which hook kinds to record, of those the target runs (all six, or fewer; ProfileConstraints.unsupportedHooks). */
  recording(supported: readonly HookKind[]): HookRecording;
  check(run: HookRun, profile: Profile, host: HostFacts): Verdict;
}

/** A launch the target must refuse: the error it gave (undefined when it started) and, when it started anyway, what the probe saw. */
export interface RefusalRun {
  startError: string | undefined;
  observed: Observations | undefined;
}

/**
 * A predicate over a launch of a profile the target must refuse, made from a generated (valid) one
 * by `refusable`; the host is looked at after it. The counterexample is the generated profile.
 */
export interface RefusalInvariant extends InvariantBase {
  scenario: 'refusal';
  refusable(profile: Profile): Profile;
  /**
   * Puts on the host what the refusable profile needs (a rootfs of its own, say) and gives the
   * profile to launch; its look runs after the launch, its undo on every path.
   */
  stage?(refusable: Profile, host: HostFacts): StagedRefusal;
  request(profile: Profile, host: HostFacts): ProbeRequest;
  check(run: RefusalRun, profile: Profile, host: HostFacts, after: HostSnapshot, seenOnHost: Record<string, unknown>): Verdict;
}

/** What a refusal invariant staged on the host for one case. */
export interface StagedRefusal {
  profile: Profile;
  /** What the host shows once the launch returned (refused or probed and torn down). */
  look(): Record<string, unknown>;
  undo(): void;
}


/**
 * A predicate over one container taken through create, start, state, (kill,) delete
 * (lifecycle-scenario.ts): what the target reported at each step and what the host held.
 * Always launched create-start; targets without it skip.
 */
export interface LifecycleInvariant extends InvariantBase {
  scenario: 'lifecycle';
  /** Send the program one of these with kill, drawn by fast-check beside the profile. */
  killSignals?: readonly NodeJS.Signals[];
  /** Move the init into a cgroup the container did not make between create and start (runtime-tools delete_only_create_resources). */
  foreignCgroup?: boolean;
  /** While the program runs, ask the target for a delete without --force (runtime-tools delete). */
  deleteWhileRunning?: boolean;
  /** While the program runs, ask the target to start it again (runtime-tools start). */
  startWhileRunning?: boolean;
  /** Once the program ended, ask the target for a SIGKILL (runtime-tools kill_no_effect). */
  killWhenStopped?: boolean;
  check(run: LifecycleRun, profile: Profile, host: HostFacts): Verdict;
}

export type Invariant = SingleInvariant | PairInvariant | HostChangeInvariant | ExecInvariant | HooksInvariant | RefusalInvariant | LifecycleInvariant;

export function areaOf(invariant: Invariant): string {
  return invariant.id.split('.')[0];
}

export function requiresNamespaces(...namespaces: NamespaceType[]): GenerationOptions {
  return { requireNamespaces: namespaces };
}
