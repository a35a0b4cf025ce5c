// The seam between the harness and whatever runs containers. The harness drives a Target and
// never learns whether the built-in engine, an OCI runtime or a test double is behind it.
import type { Readable, Writable } from 'node:stream';
import type { HookKind, NamespaceType, Profile } from '../policy/profile/types.js';

export interface TargetInfo {
  kind: 'builtin' | 'oci' | 'double';
  /** "builtin", "runc", "crun", or a test double's name. */
  name: string;
  version: string;
  /** The runtime binary, for OCI targets. */
  path?: string;
}

/**
 * How a container is launched: "run" in one step, or "create" then "start", the way containerd
 * and CRI-O drive runtimes (runtime-spec, Lifecycle). Default "run".
 */
export type Lifecycle = 'run' | 'create-start';

export const LIFECYCLES: readonly Lifecycle[] = ['run', 'create-start'];

/** A change made to the container's configuration between create and start (create-start only). */
export interface ConfigEdit {
  hostname?: string;
  env?: Record<string, string>;
}

/** A container's state as the target reports it (runtime-spec runtime.md, State): the fields the rig reads. */
export interface ReportedState {
  status: string;
  pid?: number;
  bundle?: string;
}

/**
 * What a create-start launch saw between its steps, recorded as it was, not judged: the
 * lifecycle invariants judge it (a runtime whose create already runs the program still starts).
 */
export interface LifecycleRecord {
  /** The bundle directory the target made for this container; undefined where it makes none. */
  bundle: string | undefined;
  /** The state right after create, and the init's command line then (not yet the program's). */
  created: ReportedState & { initArgs: string[] };
  /** The state right after start: "running", or "stopped" when the program had already ended. */
  started: ReportedState;
}

export interface LaunchRequest {
  profile: Profile;
  /** Replaces profile.process.args when given (the harness passes the probe's command line). */
  args?: string[];
  /** "pipe" gives the session a writable stdin; "null" connects /dev/null. */
  stdin: 'pipe' | 'null';
  /** Count the contained program's system calls, where the target can (see ContainerSession.syscalls). */
  traceSyscalls?: boolean;
  /**
   * Leave the container in the caller's session keyring (`runc run --no-new-keyring`). Nothing in
   * the harness asks for it; broken doubles and wrappers do, to prove keyring.host-key-invisible can fail.
   */
  noNewKeyring?: boolean;
  lifecycle?: Lifecycle;
  /**
   * With create-start: edited into the container's configuration after create, before start; the
   * started container must not follow it. A target without a configuration file holds nothing to edit.
   */
  editAfterCreate?: ConfigEdit;
  /**
   * With create-start: called once the container is created, right before it is started (a mark in
   * a hook log, a foreign cgroup the init is moved into), with the init's host pid.
   */
  beforeStart?: (initPid: number) => void;
}

export interface ExitStatus {
  /** Exit code when the program exited, else null. */
  code: number | null;
  /** Signal name when it was killed by a signal, else null. */
  signal: string | null;
  /** True when the container was killed because it outlived profile.process.timeoutMs. */
  timedOut: boolean;
}

/** One started container. destroy() is idempotent and must leave nothing behind on the host. */
export interface ContainerSession {
  readonly id: string;
  /** PID of the container's first process as seen from the host, when the target knows it. */
  readonly hostPid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | undefined;
  wait(): Promise<ExitStatus>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  destroy(): Promise<void>;
  /** With create-start: what the launch saw between create and start. */
  readonly lifecycle?: LifecycleRecord;
  /**
   * The container's state as the target reports it now (`RUNTIME state`); undefined once the target
   * no longer knows the container (after destroy). Absent where the target cannot say.
   */
  state?(): Promise<ReportedState | undefined>;
  /**
   * `RUNTIME delete ID` without --force, whatever state the container is in: whether the target
   * refused it (and what it said). Absent where the target has no delete short of its teardown.
   */
  deleteUnforced?(): Promise<{ refused: boolean; said: string }>;
  /**
   * `RUNTIME kill ID SIGNAL` whatever state the container is in (kill() skips a container already
   * ended): whether the target refused it. Absent where the target has no such operation.
   */
  killAsIs?(signal: NodeJS.Signals): Promise<{ refused: boolean; said: string }>;
  /** `RUNTIME start ID` whatever state the container is in: whether the target refused it. Absent where the target has no such operation. */
  startAsIs?(): Promise<{ refused: boolean; said: string }>;
  /** With traceSyscalls: the calls of every process of the container, once it is gone; else undefined. */
  syscalls?(): Promise<{ name: string; count: number; errors: number }[] | undefined>;
  /**
   * Joins a second process to the running container (`RUNTIME exec`): its namespaces, cgroup and
   * restrictions, with the request's command, environment, cwd and user. Absent where the target
   * cannot; rejects with TargetError when the target refuses or fails to start it.
   */
  exec?(request: ExecRequest): Promise<ExecSession>;
}

/** A process to join to a running container. What is not given is the container's own process's. */
export interface ExecRequest {
  args: string[];
  /** The exact environment (nothing is added but HOME, as for the container's own process). */
  env?: Record<string, string>;
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** A host descriptor handed over on purpose as the process's fd 3 (runc's `--preserve-fds 1`). */
  preserveFd?: number;
  /** A cgroup below the container's to run it in (runc's and crun's `exec --cgroup`). */
  subCgroup?: string;
}

/** A process joined to a running container: its stdio (stdin is empty) and its end; it dies with the container. */
export interface ExecSession {
  /** Its pid as seen from the host, when the target knows it. */
  readonly hostPid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  wait(): Promise<ExitStatus>;
}

/** Profile fields a target may not implement; generated profiles then leave them out. */
export type OptionalProfileField = 'domainname' | 'timeOffsets';

/** What a target cannot carry out, so generated profiles avoid it (and say why). */
export interface ProfileConstraints {
  excludeNamespaces: { namespace: NamespaceType; reason: string }[];
  /** Fields the target ignores, being older than the runtime-spec that added them, and why. */
  excludeFields?: { field: OptionalProfileField; reason: string }[];
  /** System calls a seccomp policy cannot deny on this target without it failing to start, and why. */
  undeniableSyscalls?: { name: string; reason: string }[];
  /** A setgroups value every profile must have on this target, and why. */
  setgroups?: { value: 'allow' | 'deny'; reason: string };
  /** OCI hook kinds the target does not run (and refuses), and why. */
  unsupportedHooks?: { kind: HookKind; reason: string }[];
}

export interface Target {
  info(): Promise<TargetInfo>;
  /** Limits of this target, found by asking it (not assumed); none when absent. */
  constraints?(): Promise<ProfileConstraints>;
  /** What the host lacks to run this target; empty when it can run. */
  preflight(): Promise<string[]>;
  start(request: LaunchRequest): Promise<ContainerSession>;
  /** The lifecycles start() carries out; only "run" when absent. */
  lifecycles?(): readonly Lifecycle[];
  /**
   * Host files that run in a process while the target joins it to a container (exec): the runtime's
   * binary, the engine's Node. A container must never reach one of them for writing.
   */
  joinExecutables?(): Promise<string[]>;
}

/**
 * A launch the target could not perform: the runtime refused the configuration or failed to
 * start the container. Reported as a target error, never as a violated invariant.
 */
export class TargetError extends Error {
  readonly target: string;
  readonly detail: string | undefined;
  constructor(target: string, message: string, detail?: string) {
    super(`${target}: ${message}`);
    this.name = 'TargetError';
    this.target = target;
    this.detail = detail;
  }
}
