// What stage 2 does inside the new namespaces, in the order the kernel needs, as data: each step
// is a name, why it stands where it does, and the kernel calls it makes with their arguments.
// The parent builds the list and sends it; stage 2 only runs it (core/launch-interpreter.ts), and
// `nsrig plan` prints it. A descriptor one call makes and a later one uses is a named reference
// ({ ref: "bind-tree-0" }), and a call that depends on the container's filesystem carries its
// condition ({ when: { path, is } }), so another executor could carry out the same list.
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchPlan, PlannedMount } from './plan.js';
import type { CallName, KernelCalls, PausePoint } from './kernel.js';
import { MS, MNT_DETACH, MOUNT_ATTR } from '../policy/kernel/mount-flags.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { CLOCK } from '../policy/kernel/clocks.js';
import { SIGNALS } from '../policy/kernel/signals.js';
import { OCI_DEFAULT_DEVICES } from '../policy/profile/oci-spec.js';
import { StepListError } from './launch-error.js';

/** Where the new root is assembled: a directory every host has, covered only in our mount namespace. */
export const STAGING_ROOT = '/tmp';

/** The result of an earlier call in the same list, by the name that call gave it (`out`), else by the call's name. */
export interface Ref {
  ref: string;
}

/** An argument, or an earlier call's result in its place; a list may hold results as elements. */
type Arg<V> = V extends readonly (infer E)[] ? (E | Ref)[] | Ref : V | Ref;

export type WithRefs<T> = { [P in keyof T]: Arg<T[P]> };

/**
 * A call made only when path (in the container's filesystem, at that moment) is as stated; a
 * path given as a reference is an earlier call's result (resolve_in_root's), missing when null.
 */
export interface Condition {
  path: string | Ref;
  is: 'dir' | 'non-dir' | 'present';
}

export type KernelCall = {
  [K in CallName]: {
    call: K;
    args: WithRefs<KernelCalls[K]['args']>;
    out?: string;
    when?: Condition;
    /** When the call fails with this errno name, the fallback call is made instead. */
    orElse?: { code: string; fallback: KernelCall };
    /**
     * Words that stand for earlier results inside text arguments: each "/"-separated part of a
     * string argument equal to a key becomes that result (the child's pid in "/proc/PID/uid_map").
     */
    fill?: Record<string, Ref>;
  };
}[CallName];

/** What a call may carry besides its name and arguments. */
export type CallExtra = { out?: string; when?: Condition; orElse?: { code: string; fallback: KernelCall }; fill?: Record<string, Ref> };

export interface SetupStep {
  name: string;
  /** Why the step is there and there, for a person reading the plan. */
  why?: string;
  /**
   * "parent": made by nsrig from outside (core/parent-steps.ts), up to the release that hands the
   * rest to stage 2; "setup" prepares the container; "exec" resolves the program, tells the
   * parent, and execs it.
   */
  phase: 'parent' | 'setup' | 'exec';
  calls: KernelCall[];
}

/** Host facts the list depends on, read by the parent when it builds the list. */
export interface HostView {
  /** The host root's top-level entries (a host-root view clones each directory and copies each symlink). */
  rootEntries: { name: string; kind: 'dir' | 'symlink' | 'other'; link?: string }[];
  /** Whether a bind source is a directory (its mount point is then a directory, else a file). */
  isDirectory(source: string): boolean;
  /** Whether something is at path (a hook's executable), as nsrig sees it; a view without it takes every path as there. */
  exists?(path: string): boolean;
}

/** Host root entries that are the host's live state, not its system: never shown, only mount points. */
export const HOST_ROOT_HIDDEN = new Set(['proc', 'sys', 'dev', 'run', 'tmp', 'lost+found']);

export function readHostView(): HostView {
  return {
    rootEntries: fs.readdirSync('/', { withFileTypes: true }).map((e) => (e.isSymbolicLink()
      ? { name: e.name, kind: 'symlink' as const, link: fs.readlinkSync(`/${e.name}`) }
      : { name: e.name, kind: e.isDirectory() ? 'dir' as const : 'other' as const })),
    // A missing source is left to open_tree, which fails first and names it.
    isDirectory: (source) => fs.statSync(source, { throwIfNoEntry: false })?.isDirectory() ?? true,
    exists: (p) => fs.existsSync(p),
  };
}

export function call<K extends CallName>(name: K, args: WithRefs<KernelCalls[K]['args']>, extra: CallExtra = {}): KernelCall {
  return { call: name, args, ...extra } as KernelCall;
}

const inRoot = (dest: string) => path.join(STAGING_ROOT, dest);
const SAFE = MS.NOSUID | MS.NODEV | MS.NOEXEC;
const VETH_RUNNING_TIMEOUT_MS = 5_000;

/** Every step of stage 2 for a plan, in order, the exec phase included. Steps the plan does not need are left out. */
export function launchSteps(plan: LaunchPlan, host: HostView = readHostView()): SetupStep[] {
  const steps: SetupStep[] = [];
  const add = (name: string, why: string | undefined, calls: KernelCall[], when = true) => {
    if (when) steps.push({ name, ...(why ? { why } : {}), phase: 'setup', calls });
  };
  let ready = false;
  const addReady = () => {
    if (ready) return;
    ready = true;
    steps.push({
      name: 'resolve-executable', phase: 'exec',
      why: 'from here on a seccomp filter may forbid write(2), so the program is found and the parent told first',
      calls: [
        call('find_executable', { name: plan.args[0]!, pathVar: plan.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/bin:/bin' }, { out: 'executable' }),
        call('report_ready', { fd: plan.fds.report }),
        // Before the seccomp steps, which may refuse close(2) and so hide the marker from the tracer.
        ...(plan.traceStartMarker !== undefined ? [call('close', { fd: plan.traceStartMarker })] : []),
      ],
    });
  };
  const mnt = plan.rootfs !== undefined;
  const hostRoot = plan.rootfs?.path === '/';
  add('join-namespaces', 'first: every later step (sysctls, names, interfaces) acts on the namespaces the container is to have',
    plan.joinNamespaces.flatMap((ns, i) => [
      call('open', { path: ns.path }, { out: `namespace-${i}` }),
      call('setns', { fd: { ref: `namespace-${i}` }, nstype: ns.flag, what: `${ns.type} namespace ${ns.path}` }),
      call('close', { fd: { ref: `namespace-${i}` } }),
    ]), plan.joinNamespaces.length > 0);
  add('verify-joined-namespaces', 'right after the joins: one the clone chain could not make left stage 2 where it was, and nothing may be set up there',
    [call('expect_namespaces', { links: plan.joinedLinks, ...(plan.joinedLinks.user === undefined ? {} : { root: true }) })], Object.keys(plan.joinedLinks).length > 0);
  add('clone-bind-sources', 'before propagation is severed, so a bind declared slave or shared keeps its source\'s peer group; bind sources are cloned while their host paths are still visible (the root will cover /tmp)',
    plan.mounts.flatMap(({ mount: m, propagation }, i) => (m.type === 'bind' ? bindCloneCalls(m, propagation, i) : [])), mnt);
  add('make-mounts-private', 'before anything else is mounted: sever propagation so no mount of ours reaches the host',
    [call('mount', { source: null, target: '/', fstype: null, flags: MS.PRIVATE | MS.REC, data: null })], mnt);
  add('enter-cgroup-namespace', 'after the parent placed us in our own cgroup, so that cgroup becomes the namespace root',
    [call('unshare', { flags: CLONE.NEWCGROUP })], plan.namespaces.includes('cgroup') && plan.joinedLinks.cgroup === undefined);
  add('enter-time-namespace', 'offsets are written through the host\'s /proc while it is still writable, and before execve, which moves us into the new time namespace',
    timeNamespaceCalls(plan), plan.namespaces.includes('time') && plan.joinedLinks.time === undefined);
  add('write-sysctls', '/proc/sys answers for the namespaces of the process writing it, so the host\'s procfs, still visible and writable here, reaches the container\'s own; before any root is made read-only',
    plan.sysctl.map(({ path: file, value }) => call('write_file', { path: file, data: value })), plan.sysctl.length > 0);
  // A path that is missing now is left to run_hook, which fails naming the hook (ENOENT).
  const openedHooks = new Set(mnt ? (plan.hooks?.createContainer ?? []).flatMap((h, i) => (host.exists?.(h.path) ?? true ? [i] : [])) : []);
  add('open-create-container-hooks', 'config.md: a createContainer hook\'s path resolves in the runtime\'s namespace, and the staging root about to be attached covers /tmp: each is opened now and run through its descriptor',
    [...openedHooks].map((i) => call('open', { path: plan.hooks!.createContainer[i]!.path }, { out: createContainerHook(i) })), openedHooks.size > 0);
  add('clone-rootfs', 'a directory rootfs is cloned whole, and locked read-only before it is attached anywhere',
    mnt && !hostRoot ? cloneRootfsCalls(plan) : [], mnt && !hostRoot);
  add('attach-rootfs', undefined, [call('move_mount', { from: { ref: 'rootfs-tree' }, target: STAGING_ROOT })], mnt && !hostRoot);
  add('build-host-root-view', 'the host\'s root becomes a fresh tmpfs holding read-only clones of its directories, so none of its /proc, /sys, /dev or /run lies beneath ours',
    mnt && hostRoot ? hostRootViewCalls(host) : [], mnt && hostRoot);
  add('mount-filesystems', 'each mount with exactly the flags and data its options declare; nsrig\'s own files (treeBinds) last, over whatever the profile mounted there', [
    ...plan.mounts.flatMap((m, i) => mountCalls(m, i, host, plan)),
    ...plan.treeBinds.flatMap(({ tree, destination }) => [
      call('ensure_mount_point', { path: inRoot(destination), kind: host.isDirectory(`/proc/self/fd/${tree}`) ? 'dir' : 'file', destination }),
      call('move_mount', { from: tree, target: inRoot(destination) }),
    ]),
  ], mnt);
  add('create-devices', 'in the /dev tmpfs the mounts made and only there (without one /dev may be the host\'s own), before masks and read-only paths, which may cover them',
    plan.devices.map((device) => call('create_device', {
      root: STAGING_ROOT, device, inUserNamespace: plan.namespaces.includes('user'), devFilesystems: devFilesystemRefs(plan),
    })), mnt && plan.devices.length > 0);
  add('mask-paths', 'masks and read-only binds go on top of proc and sys, so they come after the mounts; each path is resolved inside the new root, as the container will see it',
    plan.maskedPaths.flatMap(maskCalls), mnt && plan.maskedPaths.length > 0);
  add('make-paths-readonly', undefined, plan.readonlyPaths.flatMap(readonlyCalls), mnt && plan.readonlyPaths.length > 0);
  add('make-root-readonly', 'last of the mount steps: mount points in the new root are created up to here',
    [call('mount_setattr', { target: STAGING_ROOT, attrSet: MOUNT_ATTR.RDONLY, recursive: false })], mnt && plan.rootfs!.readonly);
  const hookCalls = (kind: 'createContainer' | 'startContainer', status: 'creating' | 'created'): KernelCall[] =>
    (plan.hooks?.[kind] ?? []).map((hook, i) => call('run_hook', {
      hook, state: { ...plan.hooks!.state, status }, ...(kind === 'createContainer' && openedHooks.has(i) ? { fd: { ref: createContainerHook(i) } } : {}),
    }));
  const pause = (point: PausePoint): KernelCall[] => {
    if (plan.fds.control === undefined) throw new StepListError(`a pause (${point}) needs the control pipe's descriptor (LaunchPlan.fds.control)`);
    return [call('pause_for_parent', { point, report: plan.fds.report, control: plan.fds.control })];
  };
  add('hold-for-runtime-hooks', 'config.md: prestart and createRuntime run once the runtime environment is created (the mounts above) and before pivot_root; the parent runs them while stage 2 holds here',
    plan.pauses.includes('runtime-hooks') ? pause('runtime-hooks') : [], plan.pauses.includes('runtime-hooks'));
  add('run-create-container-hooks', 'config.md: in the container\'s namespaces once its mounts are made, before pivot_root, while the runtime\'s paths (all but the staging root) still resolve',
    hookCalls('createContainer', 'creating'), (plan.hooks?.createContainer.length ?? 0) > 0);
  add('pivot-root', 'pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only ours', [
    call('chdir', { path: STAGING_ROOT }),
    call('pivot_root', { newRoot: '.', putOld: '.' }),
    call('umount2', { target: '.', flags: MNT_DETACH }),
    call('chdir', { path: '/' }),
  ], mnt);
  // The root mount alone (config-linux.md: "sets the rootfs's mount propagation"), as runc does;
  // a recursive change would cut the host link of a bind declared slave or shared.
  add('set-root-propagation', 'after pivot_root, which refuses a shared new root (EINVAL)',
    [call('mount_setattr', { target: '/', attrSet: 0, recursive: false, propagation: plan.rootfs?.propagation ?? 'private' })], mnt);
  const ownPropagation = plan.mounts.map((m) => mountPropagation(m, plan.rootfs?.propagation ?? 'private'));
  add('set-mount-propagation', 'after the root\'s: a mount\'s own propagation option is what it ends with; a bind declaring none gets the root\'s',
    plan.mounts.flatMap(({ mount: m }, i) => ownPropagation[i]!.map((flags) => call('mount', { source: null, target: m.destination, fstype: null, flags, data: null }))),
    mnt && ownPropagation.some((p) => p.length > 0));
  add('set-hostname', undefined, [call('sethostname', { name: plan.hostname! })], plan.hostname !== undefined);
  add('set-domainname', undefined, [call('setdomainname', { name: plan.domainname! })], plan.domainname !== undefined);
  add('bring-loopback-up', undefined, [call('bring_interface_up', { name: 'lo' })], plan.loopback);
  add('configure-veth', 'the parent moved eth0 in before sending the plan; configured while we still hold CAP_NET_ADMIN, and the program starts with eth0 running',
    plan.veth ? [call('configure_interface', { name: plan.veth.interfaceName, address: plan.veth.address, prefixLength: plan.veth.prefixLength, waitMs: VETH_RUNNING_TIMEOUT_MS })] : [],
    plan.veth !== undefined);
  add('set-rlimits', undefined, plan.rlimits.map((r) => call('prlimit', { resource: r.type, soft: r.soft, hard: r.hard })), plan.rlimits.length > 0);
  add('set-home', 'after pivot_root, so the passwd file read is the container\'s own',
    [call('env_with_home_from_passwd', { env: plan.env, uid: plan.uid, passwd: '/etc/passwd' }, { out: 'env' })], plan.homeFromPasswd);
  add('set-umask', 'after every file setup creates, which keeps the modes it chose; execve keeps the mask',
    [call('umask', { mask: plan.umask! })], plan.umask !== undefined);
  add('set-personality', undefined, [call('personality', { domain: plan.personality! })], plan.personality !== undefined);
  add('change-directory', undefined, [call('chdir', { path: plan.cwd })]);
  add('new-session', 'its own session: a signal or hangup meant for nsrig\'s terminal session never reaches the container', [call('setsid', {})]);
  const pty: Ref = { ref: 'pty' };
  add('open-console', 'after pivot_root, so /dev/ptmx is the container\'s own devpts, and after setsid, which a controlling terminal needs; the master goes to the parent, and none of it stays in the container',
    plan.terminal ? consoleCalls(plan, pty) : [], plan.terminal !== undefined);
  add('prepare-stdio', 'everything but 0, 1 and 2, Node\'s own descriptors included, closes at execve', [
    call('dup2', { from: plan.terminal ? pty : plan.fds.stdin, to: 0 }),
    call('dup2', { from: plan.terminal ? pty : plan.fds.stdout, to: 1 }),
    call('dup2', { from: plan.terminal ? pty : plan.fds.stderr, to: 2 }),
    call('close_range', { first: 3 }),
  ]);
  add('reset-signals', undefined, [call('reset_signals', {})]);
  add('hold-created', 'runtime.md: create ends with the environment made and createContainer run; startContainer hooks and the program are the start\'s, which the parent\'s resume is',
    plan.pauses.includes('created') ? pause('created') : [], plan.pauses.includes('created'));
  add('run-start-container-hooks', 'config.md: inside the container before the program, after pivot_root (their paths resolve in the container) and before any seccomp filter or privilege drop, which they would inherit',
    hookCalls('startContainer', 'created'), (plan.hooks?.startContainer.length ?? 0) > 0);
  add('lower-pids-limit', 'after the last step that may start a task (hooks fork, Node starts threads), before any seccomp filter that may deny write(2): from here to execve stage 2 only shrinks to one task',
    plan.lowerPidsLimit ? [call('write_fd', { fd: plan.lowerPidsLimit.fd, data: plan.lowerPidsLimit.value }), call('close', { fd: plan.lowerPidsLimit.fd })] : [],
    plan.lowerPidsLimit !== undefined);
  const seccomp = plan.seccompPrograms.map((program) => call('seccomp', { program }));
  const earlyFilter = seccomp.length > 0 && !plan.noNewPrivileges;
  add('join-session-keyring', 'before a filter that may deny keyctl (Docker\'s default policy does, with EPERM): as runc does, the keyring is then joined while still root, and the contained user reaches it as its possessor',
    [call('keyctl_join_session_keyring', {})], plan.newSessionKeyring && earlyFilter);
  if (earlyFilter) addReady();
  add('install-seccomp-early', 'without no_new_privs the kernel demands CAP_SYS_ADMIN for seccomp, so it must precede the drop',
    seccomp, earlyFilter);
  add('drop-bounding-set', 'the bounding set can only shrink while CAP_SETPCAP is still effective, i.e. before the id switch',
    plan.capabilities.dropFromBounding.map((cap) => call('prctl', { option: 'PR_CAPBSET_DROP', value: cap })), plan.capabilities.dropFromBounding.length > 0);
  add('switch-credentials', 'keep the permitted set across the uid change; set-capabilities then trims it exactly', [
    call('prctl', { option: 'PR_SET_KEEPCAPS', value: 1 }),
    ...(plan.additionalGids !== undefined ? [call('setgroups', { gids: plan.additionalGids })] : []),
    call('setresgid', { gid: plan.gid }),
    call('setresuid', { uid: plan.uid }),
  ]);
  add('join-session-keyring', 'after the id switch, so the keyring belongs to the contained user; before seccomp, which may deny keyctl',
    [call('keyctl_join_session_keyring', {})], plan.newSessionKeyring && !earlyFilter);
  const caps = plan.capabilities;
  add('set-capabilities', undefined, [
    call('capset', { effective: caps.effective, permitted: caps.permitted, inheritable: caps.inheritable }),
    call('prctl', { option: 'PR_CAP_AMBIENT_CLEAR_ALL', value: 0 }),
    ...caps.ambient.map((cap) => call('prctl', { option: 'PR_CAP_AMBIENT_RAISE', value: cap })),
  ]);
  add('set-parent-death-signal', 'the parent-death signal is cleared by every id change, so it is set after them',
    [call('prctl', { option: 'PR_SET_PDEATHSIG', value: SIGNALS.SIGKILL! })]);
  add('set-no-new-privileges', undefined, [call('prctl', { option: 'PR_SET_NO_NEW_PRIVS', value: 1 })], plan.noNewPrivileges);
  if (seccomp.length > 0 && plan.noNewPrivileges) addReady();
  add('install-seccomp', 'seccomp last: every syscall after it is the contained program\'s, as the policy intends',
    seccomp, seccomp.length > 0 && plan.noNewPrivileges);
  addReady();
  steps.push({ name: 'execve', phase: 'exec', calls: [call('execve', { path: { ref: 'executable' }, argv: plan.args, env: plan.homeFromPasswd ? { ref: 'env' } : plan.env })] });
  return steps;
}

/** The setup phase alone: what prepares the container, without finding and starting the program. */
export function setupSteps(plan: LaunchPlan, host: HostView = readHostView()): SetupStep[] {
  return launchSteps(plan, host).filter((s) => s.phase === 'setup');
}

const bindTree = (index: number) => `bind-tree-${index}`;
const createContainerHook = (index: number) => `create-container-hook-${index}`;
const devFilesystem = (index: number) => `dev-filesystem-${index}`;

/** The st_dev of every /dev tmpfs the mounts make, as recorded right after each is mounted. */
function devFilesystemRefs(plan: LaunchPlan): Ref[] {
  return plan.mounts.flatMap(({ mount: m }, i) => (m.type === 'dev' ? [{ ref: devFilesystem(i) }] : []));
}

/** The container's pty: master and slave from its devpts, the master sent to the parent and closed here. */
function consoleCalls(plan: LaunchPlan, pty: Ref): KernelCall[] {
  const socket = plan.fds.console;
  if (socket === undefined) throw new StepListError('a terminal needs the console socket descriptor (LaunchPlan.fds.console)');
  const master: Ref = { ref: 'pty-master' };
  const size = plan.terminal?.consoleSize;
  return [
    call('open_pty_master', { ptmx: '/dev/ptmx' }, { out: master.ref }),
    call('open_pty_peer', { master }, { out: pty.ref }),
    ...(size ? [call('set_window_size', { fd: pty, height: size.height, width: size.width })] : []),
    // config-linux.md, "Default Devices": with a terminal, /dev/console is the pty bound there (runc and crun do so).
    ...(plan.mounts.some(({ mount: m }) => m.type === 'dev') ? [call('bind_terminal', { master, target: '/dev/console' })] : []),
    call('send_fd', { socket, fd: master, name: '/dev/ptmx' }),
    call('close', { fd: master }),
    call('close', { fd: socket }),
    call('set_controlling_terminal', { fd: pty }),
  ];
}

function timeNamespaceCalls(plan: LaunchPlan): KernelCall[] {
  const t = plan.timeOffsets;
  return [
    call('unshare', { flags: CLONE.NEWTIME }),
    ...(t ? [call('write_file', {
      path: '/proc/self/timens_offsets', data: `${CLOCK.MONOTONIC} ${t.monotonic} 0\n${CLOCK.BOOTTIME} ${t.boottime} 0\n`,
    })] : []),
  ];
}

const ROOT_PROPAGATION_FLAGS = { private: MS.PRIVATE, slave: MS.SLAVE, shared: MS.SHARED, unbindable: MS.UNBINDABLE } as const;

/** The propagation changes a mount ends with: its own, or for a bind declaring none the root's (recursive for rbind). */
function mountPropagation(planned: PlannedMount, root: keyof typeof ROOT_PROPAGATION_FLAGS): number[] {
  if (planned.propagation.length > 0 || planned.mount.type !== 'bind') return planned.propagation;
  return [ROOT_PROPAGATION_FLAGS[root] | (planned.mount.recursive ? MS.REC : 0)];
}

/**
 * A bind's clone, taken before make-mounts-private, is a peer of its source where the source is
 * shared (a slave of it inside a user namespace of its own, mount_namespaces(7)). Only a bind
 * whose last propagation option is shared keeps that; one declaring slave becomes a slave all the
 * way down, so it receives and never sends; every other bind is cut off, as every mount was before.
 */
function bindCloneCalls(bind: { source: string; recursive: boolean }, propagation: number[], index: number): KernelCall[] {
  const last = propagation.at(-1) ?? 0;
  const clone = call('open_tree', { path: bind.source, recursive: bind.recursive }, { out: bindTree(index) });
  if (last & MS.SHARED) return [clone];
  return [clone, call('mount_setattr', { target: { ref: bindTree(index) }, attrSet: 0, recursive: true, propagation: last & MS.SLAVE ? 'slave' : 'private' })];
}

function cloneRootfsCalls(plan: LaunchPlan): KernelCall[] {
  const rootfs = plan.rootfs!;
  return [
    call('open_tree', { path: rootfs.path, recursive: true }, { out: 'rootfs-tree' }),
    call('mount_setattr', { target: { ref: 'rootfs-tree' }, attrSet: rootfs.readonly ? MOUNT_ATTR.RDONLY : 0, recursive: true, propagation: 'private' }),
  ];
}

/**
 * A tmpfs whose top-level entries are recursive, read-only, nosuid, nodev clones of the host's
 * directories (symlinks copied as symlinks), and empty directories for the live-state entries.
 */
function hostRootViewCalls(host: HostView): KernelCall[] {
  const cloned = host.rootEntries.filter((e) => e.kind === 'dir' && !HOST_ROOT_HIDDEN.has(e.name) && `/${e.name}` !== STAGING_ROOT);
  return [
    // Cloned before the tmpfs covers STAGING_ROOT, which is itself a top-level host directory.
    ...cloned.flatMap((e) => [
      call('open_tree', { path: `/${e.name}`, recursive: true }, { out: `root-${e.name}` }),
      call('mount_setattr', { target: { ref: `root-${e.name}` }, attrSet: MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV, recursive: true, propagation: 'private' }),
    ]),
    call('mount', { source: 'tmpfs', target: STAGING_ROOT, fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV, data: 'mode=755,size=1m' }),
    ...host.rootEntries.flatMap((e) => {
      const target = inRoot(`/${e.name}`);
      if (e.kind === 'symlink') return [call('symlink', { target: e.link!, path: target })];
      if (e.kind !== 'dir') return [];
      const mkdir = call('mkdir', { path: target, mode: e.name === 'tmp' ? 0o1777 : 0o755 });
      return cloned.includes(e) ? [mkdir, call('move_mount', { from: { ref: `root-${e.name}` }, target })] : [mkdir];
    }),
  ];
}

function mountCalls(planned: PlannedMount, index: number, host: HostView, plan: LaunchPlan): KernelCall[] {
  const m = planned.mount;
  const target = inRoot(m.destination);
  const recursive = planned.recursiveAttributes;
  if (m.type === 'bind') {
    const tree: Ref = { ref: bindTree(index) };
    const own = planned.bindAttributes;
    return [
      call('ensure_mount_point', { path: target, kind: host.isDirectory(m.source) ? 'dir' : 'file', destination: m.destination, field: `mounts[${index}].destination` }),
      // A bind's flags are set on the detached clone before it is attached, so it is never visible
      // with other flags. Flags a user namespace locked on the source (EPERM to clear them) stay as
      // the source has them, as crun does: the declared ones are still added.
      ...(own ? [call('mount_setattr', { target: tree, attrSet: own.set, clear: own.clear, recursive: false }, {
        orElse: { code: 'EPERM', fallback: call('mount_setattr', { target: tree, attrSet: own.set & ~MOUNT_ATTR._ATIME, recursive: false }) },
      })] : []),
      ...(recursive ? [call('mount_setattr', { target: tree, attrSet: recursive.set, clear: recursive.clear, recursive: true })] : []),
      call('move_mount', { from: tree, target }),
    ];
  }
  const fstype = m.type === 'dev' ? 'tmpfs' : m.type;
  const mountCall = m.type === 'cgroup' || m.type === 'cgroup2'
    ? call('mount_cgroup', { target, planned, inCgroupNamespace: plan.namespaces.includes('cgroup') })
    : m.type === 'filesystem'
      ? call('mount', { source: m.source, target, fstype: m.fsType, flags: planned.flags, data: planned.data })
      : call('mount', { source: fstype, target, fstype, flags: planned.flags, data: planned.data });
  return [
    call('ensure_mount_point', { path: target, kind: 'dir', destination: m.destination, field: `mounts[${index}].destination` }),
    mountCall,
    // Which filesystem this /dev tmpfs is: the only kind linux.devices are made in.
    ...(m.type === 'dev' ? [call('stat_dev', { path: target }, { out: devFilesystem(index) })] : []),
    ...(recursive ? [call('mount_setattr', { target, attrSet: recursive.set, clear: recursive.clear, recursive: true })] : []),
    ...(m.type === 'dev' ? devCalls(target, m.devices, plan.namespaces.includes('user')) : []),
  ];
}

/**
 * The /dev tmpfs's devices: created with mknod(2), as the runtime-spec gives them, where the
 * engine may; in a user namespace, where mknod is refused, bind mounts of the host's own nodes
 * (as runc does), which are never chowned or chmodded.
 */
function devCalls(target: string, devices: string[], inUserNamespace: boolean): KernelCall[] {
  return [
    ...devices.flatMap((name) => {
      const node = path.join(target, name);
      if (inUserNamespace) {
        return [call('write_file', { path: node, data: '' }), call('mount', { source: `/dev/${name}`, target: node, fstype: null, flags: MS.BIND, data: null })];
      }
      const { major, minor, fileMode } = OCI_DEFAULT_DEVICES[name]!;
      // mknod(2) leaves the umask's mark on the mode, so chmod follows.
      return [call('mknod', { path: node, type: 'c', mode: fileMode, major, minor }), call('chmod', { path: node, mode: fileMode })];
    }),
    // ptmx leads to the devpts mounted at /dev/pts, whose own ptmx opens a pty of that instance.
    ...[['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']]
      .map(([link, to]) => call('symlink', { target: to!, path: path.join(target, link!) })),
    call('mkdir', { path: path.join(target, 'shm'), mode: 0o1777 }),
  ];
}

/**
 * Each masked path, resolved inside the new root (an absolute symlink would otherwise lead the mask
 * to the host's path, where the container never looks): a directory is covered by an empty
 * read-only tmpfs, anything else by the host's /dev/null; a missing path is left alone, as runtimes
 * leave it.
 */
function maskCalls(p: string, index: number): KernelCall[] {
  const target: Ref = { ref: `masked-path-${index}` };
  return [
    call('resolve_in_root', { root: STAGING_ROOT, path: p }, { out: target.ref }),
    call('mount', { source: 'tmpfs', target, fstype: 'tmpfs', flags: MS.RDONLY | SAFE, data: 'size=0,mode=000' }, { when: { path: target, is: 'dir' } }),
    call('mount', { source: '/dev/null', target, fstype: null, flags: MS.BIND, data: null }, { when: { path: target, is: 'non-dir' } }),
  ];
}

function readonlyCalls(p: string, index: number): KernelCall[] {
  const target: Ref = { ref: `readonly-path-${index}` };
  const when: Condition = { path: target, is: 'present' };
  return [
    call('resolve_in_root', { root: STAGING_ROOT, path: p }, { out: target.ref }),
    call('mount', { source: target, target, fstype: null, flags: MS.BIND | MS.REC, data: null }, { when }),
    // Read-only and nothing else: the bind keeps the flags of what it covers, as runc and crun leave
    // them (runc spec's /proc/sys is ro and otherwise /proc's own), seen by the differential test.
    call('mount_setattr', { target, attrSet: MOUNT_ATTR.RDONLY, recursive: true }, { when }),
  ];
}

/** The home /etc/passwd gives the process's uid, or "/" when it names none (or there is no such file). */
export function homeFromPasswd(passwd: string, uid: number): string {
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 7 && fields[2] === String(uid) && fields[5] !== '') return fields[5]!;
  }
  return '/';
}
