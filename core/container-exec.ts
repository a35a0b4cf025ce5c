// The engine's exec: a second process joined to a running container, with the guarantees an OCI
// runtime's `exec` gives. Node is multithreaded, and a multithreaded process may not setns into a
// user or mount namespace, so the joined process is a new one: the clone chain
// (core/native/process.ts) waits while the parent puts it in the container's cgroups, joins every
// namespace of the container's first process with one setns(pidfd) (all or none, user first) and
// execs stage 2 (from a sealed, execute-only copy of Node: stage2-executable.ts) with a step list
// that first proves the joins happened and then carries out the launch's own process steps (core/exec-steps.ts). The pid namespace, which setns only gives a
// process's children, is the one Node's main thread enters around the clone.
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import type { Readable } from 'node:stream';
import type { Profile, NamespaceType } from '../policy/profile/types.js';
import { CAPABILITY_NAMES } from '../policy/kernel/capabilities.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { compilePlan, namespaceFlag } from './plan.js';
import { joinedProcessSteps } from './exec-steps.js';
import { compileProfilePolicy } from './seccomp-program.js';
import { NSRIG_TREE, openHostHandles } from './host-handles.js';
import { resolveInRoot } from './path-in-root.js';
import { readProcessCgroups } from './cgroup-layout.js';
import { sealedNodeCopy } from './stage2-executable.js';
import type { Stage2Report } from './stage2-run.js';
import {
  cloneExec, closeFd, duplicateCloseOnExec, makePipe, pidfdExited, signalPidfd, waitForExit, describeExit, type ExitInfo,
} from './native/process.js';
import { openNamespace, setns } from './native/system.js';
import { parseReports, readAllFromFd, stderrTail, writeAllToFd, type Container } from './container.js';

/** A joined process normally reaches its program in well under a second. */
const JOIN_DEADLINE_MS = 20_000;

/** Every namespace a process has, and so every link the joined process must share with the init. */
const NAMESPACE_TYPES: readonly NamespaceType[] = ['user', 'mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'time'];

export interface ExecProcess {
  args: string[];
  /** The exact environment (HOME is added from the container's passwd when missing, as at launch). Default: the init's. */
  env?: Record<string, string>;
  /** Default: the init's. */
  cwd?: string;
  /** Default: the init's. */
  user?: { uid: number; gid: number; additionalGids?: number[] };
  /** A descriptor of the caller's that the program gets as its stdin (nsrig exec passes its own). Default: /dev/null. */
  stdin?: number;
}

/**
 * What a join needs of a running container: a Container of this process, or one that another nsrig
 * launched, rebuilt from its registry record (core/registered-container.ts).
 */
export type JoinableContainer = Pick<Container, 'id' | 'pid' | 'pidfd' | 'state' | 'launchedFrom'> & {
  cgroups?: { readonly directories: readonly string[] };
};

/** How the process is joined; the defaults are the engine's. */
export interface JoinOptions {
  /**
   * The executable stage 2 runs from, as a descriptor. Default: the sealed, execute-only copy of
   * Node (stage2-executable.ts) that keeps the joining process out of the container's reach. Only a
   * deliberately broken double of the engine passes another (harness/targets/doubles).
   */
  stage2Executable?: number;
}

/** A process that could not be joined to the container; nothing of it runs. */
export class ExecError extends Error {
  constructor(message: string, readonly step: string, readonly detail?: Stage2Report) {
    super(message);
    this.name = 'ExecError';
  }
}

/** A process joined to a container: stdin is ExecProcess.stdin or /dev/null; it dies with the container. */
export interface JoinedProcess {
  pid: number;
  stdout: Readable;
  stderr: Readable;
  /** Its exit, reaped once. */
  wait(): Promise<ExitInfo>;
}

function namespaceLinks(pid: number | 'self'): Record<string, string> {
  return Object.fromEntries(NAMESPACE_TYPES.map((type) => [type, fs.readlinkSync(`/proc/${pid}/ns/${type}`)]));
}

/** The capabilities a bounding set holds, from /proc/PID/status. */
function boundingSet(pid: number): bigint {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
  if (line === undefined) throw new ExecError(`/proc/${pid}/status has no CapBnd line`, 'read-init');
  return BigInt(`0x${line.slice('CapBnd:'.length).trim()}`);
}

/** The container's profile with the exec's process in place of its init's. */
function execProfile(profile: Profile, request: ExecProcess): Profile {
  const p = profile.process;
  return {
    ...profile,
    hooks: undefined,
    process: {
      ...p,
      args: request.args,
      env: request.env ?? p.env,
      cwd: request.cwd ?? p.cwd,
      ...(request.user ? { uid: request.user.uid, gid: request.user.gid, additionalGids: request.user.additionalGids } : {}),
    },
  };
}

/**
 * Stage 2 is Node, which the chain execs after the joins, so inside the container: the binary and
 * every library it maps must be the host's very files (same device and inode), or the container
 * would choose code that runs before its capabilities are dropped and its filter installed.
 * nsrig's own files come through inherited descriptors and are not looked up there.
 */
function assertHostNodeInside(initPid: number, ownTree: string[]): void {
  const mapped = new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '))
    .filter((p) => p.startsWith('/') && !p.endsWith(' (deleted)') && !p.startsWith('/dev/') && !ownTree.some((t) => p.startsWith(t))));
  mapped.add(process.execPath);
  for (const file of mapped) {
    const host = fs.statSync(file);
    const inside = resolveInRoot(`/proc/${initPid}/root`, file);
    const seen = inside === undefined ? undefined : fs.statSync(inside, { throwIfNoEntry: false });
    if (seen === undefined || seen.dev !== host.dev || seen.ino !== host.ino) {
      throw new ExecError(`the container does not show the host's ${file} at that path (${seen === undefined ? 'missing' : 'another file'}): `
        + 'the engine\'s exec runs nsrig\'s Node inside the container and runs only the host\'s own copy', 'check-node-inside');
    }
  }
}

/** The declared sets, never beyond what the init's bounding set still holds. */
function withinBounding(plan: ReturnType<typeof compilePlan>, bounding: bigint): void {
  const caps = plan.capabilities;
  const lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const missing = CAPABILITY_NAMES.map((_, n) => n).filter((n) => n <= lastCap && (bounding & (1n << BigInt(n))) === 0n);
  caps.dropFromBounding = [...new Set([...caps.dropFromBounding, ...missing])].sort((a, b) => a - b);
  caps.effective = (BigInt(caps.effective) & bounding).toString();
  caps.permitted = (BigInt(caps.permitted) & bounding).toString();
  caps.inheritable = (BigInt(caps.inheritable) & bounding).toString();
  caps.ambient = caps.ambient.filter((n) => (bounding & (1n << BigInt(n))) !== 0n);
}

/**
 * Joins a process to a running engine container and returns once it has exec'd its program.
 * Throws ExecError, with nothing left running, when it cannot be joined or set up.
 */
export async function execInContainer(container: JoinableContainer, request: ExecProcess, options: JoinOptions = {}): Promise<JoinedProcess> {
  const launched = container.launchedFrom;
  if (launched === undefined || container.state !== 'running') {
    throw new ExecError(`container ${container.id} is ${container.state}, not running: there is no process to join`, 'join');
  }
  const initPid = container.pid;
  // Its pidfd, not waitid: the container may be another nsrig's, whose first process is not our child.
  if (pidfdExited(container.pidfd)) throw new ExecError(`the first process of container ${container.id} (pid ${initPid}) has exited: there is nothing to join`, 'join');
  let expected: Record<string, string>;
  let bounding: bigint;
  try {
    expected = namespaceLinks(initPid);
    bounding = boundingSet(initPid);
  } catch (e) {
    throw new ExecError(`cannot read what container ${container.id}'s first process (pid ${initPid}) is in: ${(e as Error).message}`, 'read-init');
  }
  // Read while the pidfd still holds the process: a pid read after it exited could be another's.
  if (pidfdExited(container.pidfd)) throw new ExecError(`the first process of container ${container.id} exited while being read`, 'join');
  const own = namespaceLinks('self');
  // Joining one's own user namespace is refused (EINVAL); the others are joined only where they differ, as nsenter does.
  const joinFlags = NAMESPACE_TYPES.filter((t) => t !== 'pid' && own[t] !== expected[t]).reduce((acc, t) => acc | namespaceFlag(t), 0);

  const profile = execProfile(launched.profile, request);
  const opened: number[] = [];
  const pipe = () => {
    const p = makePipe();
    opened.push(...p);
    return p;
  };
  const handles = openHostHandles(undefined);
  opened.push(...handles.fds);
  let child: { pid: number; pidfd: number } | undefined;
  let diagnostics: ReturnType<typeof stderrTail> | undefined;
  let streams: { stdout: net.Socket; stderr: net.Socket } | undefined;
  try {
    assertHostNodeInside(initPid, [NSRIG_TREE, fs.realpathSync(path.join(NSRIG_TREE, 'node_modules'))]);
    const [controlRead, controlWrite] = pipe();
    const [reportRead, reportWrite] = pipe();
    const stdinRead = request.stdin === undefined ? fs.openSync('/dev/null', 'r') : duplicateCloseOnExec(request.stdin);
    opened.push(stdinRead);
    const [stdoutRead, stdoutWrite] = pipe();
    const [stderrRead, stderrWrite] = pipe();
    const [diagnosticsRead, diagnosticsWrite] = pipe();
    const policy = compileProfilePolicy(profile);
    const plan = compilePlan(profile, { report: reportWrite, stdin: stdinRead, stdout: stdoutWrite, stderr: stderrWrite }, {
      seccompPrograms: policy ? [policy] : [], noNewKeyring: launched.noNewKeyring,
    });
    withinBounding(plan, bounding);
    const steps = joinedProcessSteps(plan, expected);
    const stage2Executable = options.stage2Executable ?? sealedNodeCopy();

    const ownPidNamespace = own.pid !== expected.pid ? openNamespace('/proc/thread-self/ns/pid_for_children') : undefined;
    if (ownPidNamespace !== undefined) opened.push(ownPidNamespace);
    try {
      // Only this thread's children change namespace; back before anything else can clone.
      if (ownPidNamespace !== undefined) setns(container.pidfd, CLONE.NEWPID, `pid namespace of container ${container.id} for the joined process`);
      child = cloneExec({
        path: process.execPath,
        execFd: stage2Executable,
        argv: ['nsrig-stage2', ...handles.stage2Args, String(controlRead), String(reportWrite)],
        envp: handles.stage2Env,
        namespaceFlags: 0,
        inheritFds: [controlRead, reportWrite, stdinRead, stdoutWrite, stderrWrite, ...handles.fds],
        waitFd: controlRead,
        stdinFd: stdinRead,
        stdoutFd: diagnosticsWrite,
        stderrFd: diagnosticsWrite,
        // A container of no namespaces of its own has nothing to join (setns refuses flags 0); the check still runs.
        ...(joinFlags !== 0 ? { join: { pidfd: container.pidfd, flags: joinFlags } } : {}),
      });
    } finally {
      if (ownPidNamespace !== undefined) setns(ownPidNamespace, CLONE.NEWPID, 'nsrig\'s own pid namespace for children');
    }
    diagnostics = stderrTail(diagnosticsRead);
    streams = {
      stdout: new net.Socket({ fd: stdoutRead, readable: true, writable: false }),
      stderr: new net.Socket({ fd: stderrRead, readable: true, writable: false }),
    };
    const reportsText = readAllFromFd(reportRead);
    for (const fd of [diagnosticsRead, stdoutRead, stderrRead, reportRead]) opened.splice(opened.indexOf(fd), 1);
    for (const fd of [controlRead, reportWrite, stdinRead, stdoutWrite, stderrWrite, diagnosticsWrite, ...handles.fds, ...(ownPidNamespace === undefined ? [] : [ownPidNamespace])]) {
      opened.splice(opened.indexOf(fd), 1);
      closeFd(fd);
    }

    // Before it runs anything of its own: in the container's cgroups, and seen there from the host.
    for (const dir of container.cgroups?.directories ?? []) fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid));
    const cgroupOf = (pid: number) => readProcessCgroups(pid).memberships.map((m) => `${m.hierarchyId}:${m.name === undefined ? m.controllers.join(',') : `name=${m.name}`}:${m.path}`).join('\n');
    if (cgroupOf(child.pid) !== cgroupOf(initPid)) {
      throw new ExecError(`the joined process's cgroups differ from the first process's:\n${cgroupOf(child.pid)}\nnot\n${cgroupOf(initPid)}`, 'join-cgroup');
    }
    opened.splice(opened.indexOf(controlWrite), 1);
    await writeAllToFd(controlWrite, 'G' + JSON.stringify(steps));
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      signalPidfd(child!.pidfd, 'SIGKILL');
    }, JOIN_DEADLINE_MS);
    const reports = parseReports(await reportsText);
    clearTimeout(deadline);
    const failure = reports.find((r) => r.event === 'error');
    if (failure || timedOut || !reports.some((r) => r.event === 'exec')) {
      signalPidfd(child.pidfd, 'SIGKILL');
      const exit = await waitForExit(child.pidfd);
      closeFd(child.pidfd);
      child = undefined;
      const message = failure
        ? `joining step ${failure.step} failed: ${failure.message}`
        : timedOut ? `the joined process did not reach execve within ${JOIN_DEADLINE_MS} ms; it was killed` : `the joined process died before exec (${describeExit(exit)})`;
      const said = await diagnostics.tail();
      throw new ExecError(said ? `${message}\nits stderr ended with:\n${said}` : message, failure?.step ?? 'stage2', failure);
    }
    diagnostics.stop();
    const { pid, pidfd } = child;
    // Reaped as soon as it exits, waited on or not: a pid namespace's first process, killed, does
    // not finish dying while a process of its namespace is left unreaped, so the container's
    // teardown would wait for this one forever.
    const reaped = waitForExit(pidfd).finally(() => closeFd(pidfd));
    return { pid, ...streams, wait: () => reaped };
  } catch (e) {
    diagnostics?.stop();
    streams?.stdout.destroy();
    streams?.stderr.destroy();
    if (child) {
      signalPidfd(child.pidfd, 'SIGKILL');
      await waitForExit(child.pidfd);
      closeFd(child.pidfd);
    }
    opened.forEach(closeFd);
    throw e instanceof ExecError ? e : new ExecError(`cannot join container ${container.id}: ${(e as Error).message}`, 'join');
  }
}
