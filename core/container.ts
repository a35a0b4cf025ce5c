// The parent side of a launch: prepare what the child will inherit (pipes, host handles, cgroups),
// carry out the parent's steps (core/parent-steps.ts: clone, cgroup, id maps, veth, hooks, the
// release that sends stage 2 its steps) through this launch's own executor, and learn whether
// stage 2 reached execve. A Container is the handle on the result; destroy() leaves nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { Profile, NamespaceType } from '../policy/profile/types.js';
import { compilePlan, createdNamespaces, namespaceFlag, type LaunchPlan } from './plan.js';
import { launchSteps } from './setup-steps.js';
import { interleave, parentSteps, pausePoints, stage2Part } from './parent-steps.js';
import { Stage2Channel } from './stage2-channel.js';
import { runStepsAsync, type Executor } from './launch-interpreter.js';
import { nativeKernel } from './native/native-kernel.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { SIGNALS } from '../policy/kernel/signals.js';
import type { Stage2Report } from './stage2-run.js';
import type { ContainerCgroup } from './cgroup.js';
import { CgroupSetupError, ContainerCgroups } from './cgroup-resources.js';
import {
  cloneExec, closeFd, duplicateCloseOnExec, makePipe, signalPidfd, waitForExit, describeExit, type ExitInfo,
} from './native/process.js';
import { liveContainers } from './live-containers.js';

export { describeExit };
import { namespaceTypeAt, openNamespace, setns } from './native/system.js';
import { cloneExecJoining } from './native/joining-clone.js';
import { sealedNodeCopy } from './stage2-executable.js';
import { compileProfilePolicy } from './seccomp-program.js';
import { networkHub, type VethAttachment } from './network-hub.js';
import { LaunchError, StepListError } from './launch-error.js';
import { assertTimeOffsetsFit } from './time-offsets.js';
import { openHostHandles } from './host-handles.js';
import { consoleChannel } from './container-console.js';
import {
  HookError, runHookOutside, runHooksWarning, STATE_OCI_VERSION, type ContainerState as OciState,
} from './container-hooks.js';

export { LaunchError };

/** Setup normally takes well under a second; past this, something is stuck. */
const SETUP_DEADLINE_MS = 20_000;

/** clone's low byte is the signal the parent gets when the child exits, not a flag. */
const EXIT_SIGNAL_MASK = 0xff;

export interface LaunchOptions {
  /**
   * Shows nsrig's own built files (package.json, dist/, node_modules/) read-only at this directory
   * inside, over the profile's mounts, wherever the checkout lives: the harness runs its probe
   * from there. Needs the mount namespace; ignored without one.
   */
  nsrigTreeAt?: string;
  /** Replaces profile.process.args. */
  args?: string[];
  /** "inherit" passes nsrig's own stdin/stdout/stderr through (nsrig run). */
  stdio: 'pipe' | 'inherit';
  /** stdin when stdio is "pipe": a pipe the caller writes, or /dev/null. */
  stdin?: 'pipe' | 'null';
  /** More seccomp programs, installed after the profile's own policy (a tracer's filter). */
  seccompPrograms?: Buffer[];
  /** Keep nsrig's session keyring instead of joining a new one, like `runc run --no-new-keyring`. */
  noNewKeyring?: boolean;
  /** See LaunchPlan.traceStartMarker. */
  traceStartMarker?: number;
  /** Told, one line each, what is carried out differently from how the profile reads (a syscall name skipped). */
  warn?: (message: string) => void;
  /** Runs after the container process exists and before it starts setup (e.g. a tracer attaching). */
  beforeSetup?: (pid: number) => void | Promise<void>;
  /** The state's bundle for hooks (an absolute directory). Default: the profile file's directory, else the working directory. */
  bundle?: string;
  /**
   * The create-start lifecycle: runs once the container is created (its namespaces, cgroup, ids,
   * mounts, prestart/createRuntime/createContainer hooks and pivot_root done, stage 2 held before
   * the startContainer hooks, so the program cannot have run), with the container in state
   * "created". Its resolving is the start: stage 2 goes on. A throw, or destroying the container
   * here, ends the launch with nothing left.
   */
  created?: (container: Container) => void | Promise<void>;
  /** With a terminal: its size before the program starts, over the profile's consoleSize (the user's own terminal's, for nsrig run). */
  consoleSize?: { height: number; width: number };
}

export type ContainerState = 'created' | 'starting' | 'running' | 'exited' | 'destroyed';

export interface ContainerExit extends ExitInfo {
  timedOut: boolean;
}

export class Container {
  state: ContainerState = 'starting';
  readonly stdout: Readable | undefined;
  readonly stderr: Readable | undefined;
  readonly stdin: Writable | undefined;
  /** The veth pair between this container and the network hub, when its profile asks for one. */
  veth: VethAttachment | undefined;
  /** Every cgroup of the container (the v2 one and any v1 ones its resources need). */
  cgroups: ContainerCgroups | undefined;
  /** The bundle its state names (LaunchOptions.bundle), as its hooks are told. */
  bundle: string | undefined;
  /** Settings the host carried out differently from what the profile says, one line each (nsrig run prints them). */
  warnings: string[] = [];
  private reaped: Promise<ExitInfo> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timedOut = false;
  private destroyed: Promise<void> | undefined;
  /** The pty master of a container with a terminal, until takeConsole(); closed by destroy(). */
  private console: number | undefined;
  /** What it was launched from, for a process joined to it later (core/container-exec.ts). */
  launchedFrom: { profile: Profile; noNewKeyring: boolean } | undefined;
  /** Runs once everything is removed: the profile's poststop hooks (runtime.md "Lifecycle" step 13). */
  afterDestroy: (() => Promise<void>) | undefined;

  constructor(
    readonly id: string,
    readonly pid: number,
    /** A pidfd for the first process (a recycled pid is never signalled or joined); closed by destroy(). */
    readonly pidfd: number,
    private readonly cgroup: ContainerCgroup | undefined,
    private readonly ownsPidNamespace: boolean,
    streams: { stdout?: Readable; stderr?: Readable; stdin?: Writable },
  ) {
    this.stdout = streams.stdout;
    this.stderr = streams.stderr;
    this.stdin = streams.stdin;
  }

  /** Hands the terminal's pty master (profile.process.terminal) to the caller, who closes it; undefined without one. */
  takeConsole(): number | undefined {
    const master = this.console;
    this.console = undefined;
    return master;
  }

  /** Set once by the launch. */
  holdConsole(master: number): void {
    this.console = master;
  }

  /** The first process's exit, reaped once however many callers wait. */
  private reap(): Promise<ExitInfo> {
    this.reaped ??= waitForExit(this.pidfd);
    return this.reaped;
  }

  /** Resolves once the container's first process has exited and the container is torn down. */
  async wait(): Promise<ContainerExit> {
    const exit = await this.reap();
    if (this.state !== 'destroyed') this.state = 'exited';
    await this.destroy();
    return { ...exit, timedOut: this.timedOut };
  }

  /** Kills the whole container after ms milliseconds. */
  armTimeout(ms: number): void {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.killAll();
    }, ms);
    this.timer.unref();
  }

  /** Sends a signal to the container's first process only. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.state === 'destroyed') return;
    signalPidfd(this.pidfd, signal);
  }

  /** SIGKILL to every process of the container. Synchronous, so it can run in an exit handler. */
  killAll(): void {
    if (this.state === 'destroyed') return;
    // Killing PID 1 of a PID namespace kills everything in it; the cgroup covers the rest.
    signalPidfd(this.pidfd, 'SIGKILL');
    if (!this.ownsPidNamespace) this.cgroup?.killAll();
  }

  /** Kills, reaps and removes everything the container had. Idempotent. */
  destroy(): Promise<void> {
    this.destroyed ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.killAll();
      await this.reap();
      this.state = 'destroyed';
      this.cgroup?.killAll();
      await this.cgroup?.remove();
      await this.cgroups?.remove();
      closeFd(this.pidfd);
      if (this.console !== undefined) closeFd(this.takeConsole()!);
      liveContainers.delete(this);
      this.stdin?.destroy();
      // The pair would die with the container's network namespace, but only once the kernel gets
      // round to it; deleting it here leaves the hub as it was when destroy() returns.
      await this.veth?.remove();
      await this.afterDestroy?.();
    })();
    return this.destroyed;
  }
}

/** Each namespace path names a namespace of its declared type, found before anything is created. */
function checkNamespacePaths(profile: Profile): void {
  for (const [type, path] of Object.entries(profile.namespacePaths ?? {}) as [NamespaceType, string][]) {
    let actual: number;
    try {
      actual = namespaceTypeAt(path);
    } catch (e) {
      throw new LaunchError(`namespacePaths.${type}: ${path} is not a namespace file (${(e as Error).message})`, 'join-namespaces');
    }
    if (actual !== namespaceFlag(type)) {
      throw new LaunchError(`namespacePaths.${type}: ${path} is a namespace of another type, not ${type}`, 'join-namespaces');
    }
  }
}

/**
 * Runs clone with the joined namespaces' descriptors open (each closed again however it ends) and,
 * for a joined pid namespace, with this thread's children going there: setns(CLONE_NEWPID) moves
 * only pid_for_children, and only this thread's, so it goes back before anything else can clone.
 */
function withJoinedNamespaces<T>(join: { type: string; path: string }[], pidNamespace: string | undefined,
  clone: (setnsBefore: { fd: number; nstype: number }[]) => T): T {
  const fds: number[] = [];
  let ownPid: number | undefined;
  try {
    const setnsBefore = join.map(({ type, path: file }) => {
      const fd = openNamespace(file);
      fds.push(fd);
      return { fd, nstype: namespaceFlag(type as NamespaceType) };
    });
    if (pidNamespace === undefined) return clone(setnsBefore);
    ownPid = openNamespace('/proc/thread-self/ns/pid_for_children');
    const target = openNamespace(pidNamespace);
    fds.push(target);
    setns(target, CLONE.NEWPID, `pid namespace ${pidNamespace} for the container's first process`);
    return clone(setnsBefore);
  } finally {
    if (ownPid !== undefined) {
      setns(ownPid, CLONE.NEWPID, 'nsrig\'s own pid namespace for children');
      closeFd(ownPid);
    }
    fds.forEach(closeFd);
  }
}

export function bundleOf(profile: Profile, options: Pick<LaunchOptions, 'bundle'>): string {
  if (options.bundle !== undefined) return options.bundle;
  return fs.existsSync(profile.source) ? path.dirname(path.resolve(profile.source)) : process.cwd();
}

const STDERR_TAIL_LINES = 12;
const STDERR_TAIL_WAIT_MS = 500;

/** Keeps the last lines written to fd; tail() waits briefly for end-of-file (the writer's exit). */
export function stderrTail(fd: number): { tail(): Promise<string>; stop(): void } {
  const socket = new net.Socket({ fd, readable: true, writable: false });
  let text = '';
  const ended = new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      text = (text + c.toString('utf8')).slice(-16_384);
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  return {
    async tail() {
      await Promise.race([ended, new Promise((r) => setTimeout(r, STDERR_TAIL_WAIT_MS).unref())]);
      socket.destroy();
      return text.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
    },
    stop: () => socket.destroy(),
  };
}

export function readAllFromFd(fd: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

export function writeAllToFd(fd: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket({ fd, readable: false, writable: true });
    socket.on('error', reject);
    socket.end(text, () => resolve());
  });
}

export function parseReports(text: string): Stage2Report[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Stage2Report);
}

/**
 * Launches a container from a profile and returns once the contained program has been exec'd.
 * Throws LaunchError (and has removed everything) when setup fails.
 */
export async function launchContainer(profile: Profile, options: LaunchOptions): Promise<Container> {
  // Before anything exists: stage 2 would otherwise fail half-way with a bare ERANGE.
  assertTimeOffsetsFit(profile);
  checkNamespacePaths(profile);
  const id = `nsrig-${process.pid}-${randomBytes(4).toString('hex')}`;
  const opened: number[] = [];
  const pipe = () => {
    const p = makePipe();
    opened.push(...p);
    return p;
  };
  const closeAll = (fds: number[]) => fds.forEach((fd) => {
    const i = opened.indexOf(fd);
    if (i >= 0) {
      opened.splice(i, 1);
      closeFd(fd);
    }
  });
  let container: Container | undefined;
  let cgroups: ContainerCgroups | undefined;
  let diagnostics: ReturnType<typeof stderrTail> | undefined;
  let channel: Stage2Channel | undefined;
  try {
    const [controlRead, controlWrite] = pipe();
    const [reportRead, reportWrite] = pipe();
    // With a terminal the program's stdio is the pty, so stage 2 just keeps nsrig's own until it swaps them.
    const terminal = profile.process.terminal === true ? consoleChannel() : undefined;
    if (terminal) opened.push(terminal.parentEnd, terminal.childEnd);
    const inherit = options.stdio === 'inherit' || terminal !== undefined;
    const [stdinRead, stdinWrite] = inherit ? [0, -1] : options.stdin === 'pipe' ? pipe() : [fs.openSync('/dev/null', 'r'), -1];
    if (!inherit && options.stdin !== 'pipe') opened.push(stdinRead);
    const [stdoutRead, stdoutWrite] = inherit ? [-1, 1] : pipe();
    // In inherit mode the container's stderr is a copy of ours: descriptor 2 of stage 2 itself is the diagnostics pipe.
    const [stderrRead, stderrWrite] = inherit ? [-1, duplicateCloseOnExec(2)] : pipe();
    if (inherit) opened.push(stderrWrite);
    // What stage 2 writes on its own stderr before it sets up the program's: Node's words when it
    // cannot even load stage 2. Its tail goes into the LaunchError.
    const [diagnosticsRead, diagnosticsWrite] = pipe();
    const fds: LaunchPlan['fds'] = {
      report: reportWrite, control: controlRead, stdin: stdinRead, stdout: stdoutWrite, stderr: stderrWrite, ...(terminal ? { console: terminal.childEnd } : {}),
    };
    const policyProgram = compileProfilePolicy(profile, options.warn);
    const seccompPrograms = [...(policyProgram ? [policyProgram] : []), ...(options.seccompPrograms ?? [])];
    // What hooks run from stage 2 read on stdin, less the pid, which only stage 2 knows as the container sees it.
    const hookState = { ociVersion: STATE_OCI_VERSION, id, status: 'creating' as const, bundle: bundleOf(profile, options), annotations: {} };
    // Made and limited before the container's process exists: a value the kernel refuses fails here, with nothing to undo but the cgroups.
    try {
      cgroups = ContainerCgroups.create(id, profile);
    } catch (e) {
      if (e instanceof CgroupSetupError) throw new LaunchError(e.message, 'cgroup');
      throw e;
    }
    // A pids.max below what stage 2 needs is lowered by stage 2 itself right before execve.
    const lowerPidsLimit = cgroups.openLoweredPidsLimit();
    if (lowerPidsLimit) opened.push(lowerPidsLimit.fd);
    const sized = terminal && options.consoleSize ? { ...profile, process: { ...profile.process, consoleSize: options.consoleSize } } : profile;
    const callerActs = { beforeSetup: options.beforeSetup !== undefined, created: options.created !== undefined };
    const plan = compilePlan(sized, fds, {
      args: options.args, seccompPrograms, noNewKeyring: options.noNewKeyring, traceStartMarker: options.traceStartMarker, hookState, lowerPidsLimit,
      pauses: pausePoints(profile, callerActs),
    });
    const handles = openHostHandles(plan.rootfs ? options.nsrigTreeAt : undefined);
    opened.push(...handles.fds);
    plan.treeBinds = handles.treeBinds;
    // Built while the host handles are still open here: the list reads whether each is a directory.
    const steps = launchSteps(plan);
    const hub = plan.veth ? await networkHub() : undefined;
    const made = cgroups;
    // The whole launch, the parent's steps first: what `nsrig plan` prints, carried out here up to the release.
    // Stage 2 holds where the parent acts in between (its hooks, the caller's create-start).
    const order = interleave(parentSteps(profile, plan, { cgroupDirectories: made.directories, hookState, callerActs }), steps);
    const held = (): Container => {
      if (!container) throw new StepListError('a call on the child comes before the clone');
      return container;
    };
    const warn = options.warn ?? ((message: string) => process.stderr.write(`nsrig: warning: ${message}\n`));
    const state = (status: OciState['status'], pid?: number): OciState => ({
      ociVersion: STATE_OCI_VERSION, id, status, ...(pid === undefined ? {} : { pid }), bundle: bundleOf(profile, options), annotations: {},
    });
    // The lifecycle goes on to poststop whatever fails from the first hook, the created hand-over or
    // the release on (runtime.md "Lifecycle" steps 3-4, 12-13), whichever the list reaches first.
    const armPoststop = () => {
      held().afterDestroy ??= () => runHooksWarning(profile.hooks, 'poststop', state('stopped'), warn);
    };
    const setupDeadlineMs = Math.min(SETUP_DEADLINE_MS, profile.process.timeoutMs);
    /** Stage 2 failed, died or ran out of time before it exec'd: wait for it, then say why. */
    const setupFailed = async (failure: Stage2Report | undefined): Promise<never> => {
      const exit = await held().wait();
      const message = failure
        ? `setup step ${failure.step} failed: ${failure.message}`
        : channel?.timedOut === true
          ? `setup did not reach execve within ${setupDeadlineMs} ms; the container was killed`
          : `stage 2 died before exec (${describeExit(exit)})`;
      const said = await diagnostics?.tail();
      throw new LaunchError(said ? `${message}\nstage 2's stderr ended with:\n${said}` : message, failure?.step ?? 'stage2', failure);
    };
    const released = (): Stage2Channel => {
      if (!channel) throw new StepListError('a call on stage 2 comes before the release');
      return channel;
    };
    const launcher: Executor = {
      write_file: nativeKernel.write_file,
      clone: ({ flags, join, pidNamespace, joinFirst }) => {
        // cloneExec always asks for both: the container is held by its pidfd and reaped on SIGCHLD.
        if ((flags & CLONE.PIDFD) === 0 || (flags & EXIT_SIGNAL_MASK) !== SIGNALS.SIGCHLD) {
          throw new StepListError('clone must carry CLONE_PIDFD and SIGCHLD');
        }
        const request = {
          path: process.execPath,
          argv: ['nsrig-stage2', ...handles.stage2Args, String(controlRead), String(reportWrite)],
          envp: handles.stage2Env,
          namespaceFlags: flags & ~CLONE.PIDFD & ~EXIT_SIGNAL_MASK,
          inheritFds: [controlRead, reportWrite, stdinRead, stdoutWrite, stderrWrite, ...(terminal ? [terminal.childEnd] : []),
            ...(lowerPidsLimit ? [lowerPidsLimit.fd] : []), ...handles.fds],
          waitFd: controlRead,
          stderrFd: diagnosticsWrite,
        };
        // In a joined user namespace others may be there already: stage 2 runs from the sealed copy
        // of Node, as a joined process's does (core/stage2-executable.ts), out of their reach.
        const child = joinFirst !== undefined && joinFirst.length > 0
          ? withJoinedNamespaces(joinFirst, undefined, (fds) => cloneExecJoining({
            ...request, joinFirst: fds, ...(joinFirst.some((j) => j.type === 'user') ? { execFd: sealedNodeCopy() } : {}),
          }))
          : withJoinedNamespaces(join ?? [], pidNamespace, (setnsBefore) => cloneExec({ ...request, setnsBefore }));
        diagnostics = stderrTail(diagnosticsRead);
        opened.splice(opened.indexOf(diagnosticsRead), 1);
        const streams = inherit ? {} : {
          stdout: new net.Socket({ fd: stdoutRead, readable: true, writable: false }),
          stderr: new net.Socket({ fd: stderrRead, readable: true, writable: false }),
          stdin: stdinWrite >= 0 ? new net.Socket({ fd: stdinWrite, readable: false, writable: true }) : undefined,
        };
        for (const fd of [stdoutRead, stderrRead, stdinWrite]) if (fd >= 0) opened.splice(opened.indexOf(fd), 1);
        container = new Container(id, child.pid, child.pidfd, made.cgroup, createdNamespaces(profile).includes('pid'), streams);
        container.cgroups = made;
        container.launchedFrom = { profile, noNewKeyring: options.noNewKeyring ?? false };
        container.bundle = bundleOf(profile, options);
        container.warnings = made.warnings;
        liveContainers.add(container);
        // The child's ends belong to it now.
        closeAll([
          controlRead, reportWrite, stdoutWrite, stderrWrite, diagnosticsWrite, ...(inherit ? [] : [stdinRead]), ...(terminal ? [terminal.childEnd] : []),
          ...(lowerPidsLimit ? [lowerPidsLimit.fd] : []), ...handles.fds,
        ]);
        return child.pid;
      },
      attach_veth: (a) => {
        if (!hub) throw new StepListError('attach_veth without a network hub: the profile has no veth');
        held().veth = hub.attachVeth(a);
      },
      await_caller: async ({ point }) => {
        const c = held();
        if (point === 'before-setup') return options.beforeSetup?.(c.pid);
        armPoststop();
        if (!options.created) return;
        c.state = 'created';
        await options.created(c);
        if (c.state !== 'created') throw new LaunchError(`the container was ${c.state} before start`, 'start');
        c.state = 'starting';
      },
      run_hook: async ({ hook, state: hookStateNow }) => {
        armPoststop();
        try {
          await runHookOutside(hook, { ...hookStateNow, pid: held().pid });
        } catch (e) {
          if (e instanceof HookError) throw new LaunchError(e.message, e.list);
          throw e;
        }
      },
      release: async () => {
        armPoststop();
        channel = new Stage2Channel(reportRead, controlWrite, setupDeadlineMs, () => held().killAll());
        opened.splice(opened.indexOf(reportRead), 1);
        opened.splice(opened.indexOf(controlWrite), 1);
        await channel.send('G' + JSON.stringify(stage2Part(order)) + '\n');
      },
      await_stage2: async ({ point }) => {
        const report = await released().next();
        if (report?.event === 'paused' && report.point === point) return;
        if (report === undefined || report.event === 'error') await setupFailed(report);
        throw new StepListError(`the parent waited for stage 2 at ${point}, and stage 2 reported ${JSON.stringify(report)}`);
      },
      resume_stage2: () => released().resume(),
    };
    await runStepsAsync(order.filter((s) => s.phase === 'parent'), launcher);
    const launched = held();
    // Setup has a deadline of its own (the channel's): a stage 2 that never reaches execve is killed, not waited on.
    const reports: Stage2Report[] = [];
    for (let r = await released().next(); r !== undefined; r = await released().next()) reports.push(r);
    channel?.close();
    const failure = reports.find((r) => r.event === 'error');
    if (failure || channel?.timedOut === true || !reports.some((r) => r.event === 'exec')) await setupFailed(failure);
    diagnostics?.stop();
    // Stage 2 sent the master before it reported exec, so it is waiting on the socket already.
    if (terminal) {
      launched.holdConsole(terminal.receiveMaster());
      closeAll([terminal.parentEnd]);
    }
    launched.state = 'running';
    launched.armTimeout(profile.process.timeoutMs);
    await runHooksWarning(profile.hooks, 'poststart', state('running', launched.pid), warn);
    return launched;
  } catch (e) {
    diagnostics?.stop();
    channel?.close();
    closeAll([...opened]);
    await container?.destroy();
    if (container === undefined) await cgroups?.remove();
    throw e;
  }
}
