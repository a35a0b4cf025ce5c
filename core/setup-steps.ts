// What stage 2 does inside the new namespaces, in the order the kernel needs. Each step is one
// small named function; setupSteps() lists them with why each stands where it does, and the
// list is tested as data (test/core/setup-order.test.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchPlan, PlannedMount } from './plan.js';
import { SyscallError } from './native/syscall-error.js';
import { mountCgroupFilesystem } from './cgroup-mount.js';
import { resolveInRoot } from './path-in-root.js';
import { OCI_DEFAULT_DEVICES } from '../policy/profile/oci-spec.js';
import { MS, MOUNT_ATTR } from '../policy/kernel/mount-flags.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import {
  mount, makeNode, setPropagation, cloneMountTree, attachMountTree, setMountAttributes, pivotRoot, chdir, unmountDetached,
} from './native/mount.js';
import {
  setGroups, setResGid, setResUid, setKeepCapabilities, setNoNewPrivileges, setParentDeathSignal, dropFromBoundingSet, setCapabilities,
  clearAmbientSet, raiseAmbient,
} from './native/identity.js';
import {
  setHostname, setDomainname, unshare, setns, openNamespace, setPersonality, setRlimit, bringInterfaceUp, duplicateFd, closeOnExecFrom, resetSignalsForExec, newSession,
} from './native/system.js';
import { installSeccompFilter } from './native/seccomp.js';
import { joinNewSessionKeyring } from './native/keyring.js';
import { RouteNetlink } from './native/netlink.js';
import { MountPointError } from './launch-error.js';

/** Where the new root is assembled: a directory every host has, covered only in our mount namespace. */
export const STAGING_ROOT = '/tmp';

export interface SetupStep {
  name: string;
  run(state: SetupState): void;
}

export interface SetupState {
  plan: LaunchPlan;
  /** Detached mount trees cloned before the root covers their source paths, by mount index. */
  bindTrees: Map<number, number>;
  rootTree?: number;
  /** st_dev of each /dev tmpfs this setup mounted: the only filesystems where devices are made or removed. */
  devFilesystems?: Set<number>;
}

const inRoot = (dest: string) => path.join(STAGING_ROOT, dest);

/** The steps for a plan, in order. Steps that the plan does not need are left out. */
export function setupSteps(plan: LaunchPlan): SetupStep[] {
  const steps: SetupStep[] = [];
  const add = (name: string, run: SetupStep['run'], when = true) => {
    if (when) steps.push({ name, run });
  };
  const mnt = plan.rootfs !== undefined;
  // First: every later step (sysctls, names, interfaces) acts on the namespaces the container is to have.
  add('join-namespaces', joinNamespaces, plan.joinNamespaces.length > 0);
  // Before anything else is mounted: sever propagation so no mount of ours reaches the host.
  add('make-mounts-private', makeMountsPrivate, mnt);
  // cgroup after the parent placed us in our own cgroup, so that cgroup becomes the namespace root.
  add('enter-cgroup-namespace', enterCgroupNamespace, plan.namespaces.includes('cgroup'));
  // Offsets are written through the host's /proc while it is still writable, and before execve,
  // which moves us into the new time namespace.
  add('enter-time-namespace', enterTimeNamespace, plan.namespaces.includes('time'));
  // /proc/sys answers for the namespaces of the process writing it, so the host's procfs, still
  // visible and writable here, reaches the container's own; before any root is made read-only.
  add('write-sysctls', writeSysctls, plan.sysctl.length > 0);
  // Bind sources are cloned while their host paths are still visible (the root will cover /tmp).
  add('clone-bind-sources', cloneBindSources, mnt);
  const hostRoot = plan.rootfs?.path === '/';
  // A directory rootfs is cloned whole; the host's root becomes a fresh tmpfs holding read-only
  // clones of its directories, so none of the host's /proc, /sys, /dev or /run lies beneath ours.
  add('clone-rootfs', cloneRootfs, mnt && !hostRoot);
  add('attach-rootfs', attachRootfs, mnt && !hostRoot);
  add('build-host-root-view', buildHostRootView, mnt && hostRoot);
  add('mount-filesystems', mountFilesystems, mnt);
  // In the /dev the mounts made, before masks and read-only paths, which may cover them.
  add('create-devices', createDevices, mnt && plan.devices.length > 0);
  // Masks and read-only binds go on top of proc and sys, so they come after the mounts.
  add('mask-paths', maskPaths, mnt && plan.maskedPaths.length > 0);
  add('make-paths-readonly', makePathsReadonly, mnt && plan.readonlyPaths.length > 0);
  // Last of the mount steps: mount points in the new root are created up to here.
  add('make-root-readonly', makeRootReadonly, mnt && plan.rootfs!.readonly);
  add('pivot-root', enterRoot, mnt);
  // After pivot_root, which refuses a shared new root (EINVAL).
  add('set-root-propagation', setRootPropagation, mnt);
  // After the root's: a mount's own propagation option is what it ends with.
  add('set-mount-propagation', setMountPropagation, mnt && plan.mounts.some((m) => m.propagation.length > 0));
  add('set-hostname', (s) => setHostname(s.plan.hostname!), plan.hostname !== undefined);
  add('set-domainname', (s) => setDomainname(s.plan.domainname!), plan.domainname !== undefined);
  add('bring-loopback-up', () => bringInterfaceUp('lo'), plan.loopback);
  // The parent moved eth0 in before sending the plan; configured while we still hold CAP_NET_ADMIN.
  add('configure-veth', configureVeth, plan.veth !== undefined);
  add('set-rlimits', setRlimits, plan.rlimits.length > 0);
  // After pivot_root, so the passwd file read is the container's own.
  add('set-home', setHomeFromPasswd, plan.homeFromPasswd);
  // After every file setup creates, which keeps the modes it chose; execve keeps the mask.
  add('set-umask', (s) => process.umask(s.plan.umask!), plan.umask !== undefined);
  add('set-personality', (s) => setPersonality(s.plan.personality!), plan.personality !== undefined);
  add('change-directory', (s) => chdir(s.plan.cwd));
  // Its own session: a signal or hangup meant for nsrig's terminal session never reaches the container.
  add('new-session', () => newSession());
  add('prepare-stdio', prepareStdio);
  add('reset-signals', () => resetSignalsForExec());
  const earlyFilter = plan.seccompPrograms.length > 0 && !plan.noNewPrivileges;
  // Before a filter that may deny keyctl (Docker's default policy does, with EPERM): as runc does,
  // the keyring is then joined while still root, and the contained user reaches it as its possessor.
  add('join-session-keyring', () => joinNewSessionKeyring(), plan.newSessionKeyring && earlyFilter);
  // Without no_new_privs the kernel demands CAP_SYS_ADMIN for seccomp, so it must precede the drop.
  add('install-seccomp-early', installSeccomp, earlyFilter);
  // The bounding set can only shrink while CAP_SETPCAP is still effective, i.e. before the id switch.
  add('drop-bounding-set', dropBoundingSet, plan.capabilities.dropFromBounding.length > 0);
  add('switch-credentials', switchCredentials);
  // After the id switch, so the keyring belongs to the contained user; before seccomp, which may deny keyctl.
  add('join-session-keyring', () => joinNewSessionKeyring(), plan.newSessionKeyring && !earlyFilter);
  add('set-capabilities', setCapabilitySets);
  // The parent-death signal is cleared by every id change, so it is set after them.
  add('set-parent-death-signal', () => setParentDeathSignal());
  add('set-no-new-privileges', () => setNoNewPrivileges(), plan.noNewPrivileges);
  // seccomp last: every syscall after it is the contained program's, as the policy intends.
  add('install-seccomp', installSeccomp, plan.seccompPrograms.length > 0 && plan.noNewPrivileges);
  return steps;
}

function joinNamespaces(state: SetupState): void {
  for (const ns of state.plan.joinNamespaces) {
    const fd = openNamespace(ns.path);
    try {
      setns(fd, ns.flag, `${ns.type} namespace ${ns.path}`);
    } finally {
      fs.closeSync(fd);
    }
  }
}

function writeSysctls(state: SetupState): void {
  for (const { path: file, value } of state.plan.sysctl) fs.writeFileSync(file, value);
}

/** The home /etc/passwd gives the process's uid, or "/" when it names none (or there is no such file). */
export function homeFromPasswd(passwd: string, uid: number): string {
  for (const line of passwd.split('\n')) {
    const fields = line.split(':');
    if (fields.length >= 7 && fields[2] === String(uid) && fields[5] !== '') return fields[5]!;
  }
  return '/';
}

function setHomeFromPasswd(state: SetupState): void {
  let passwd = '';
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    // No passwd file: HOME is "/", as with a uid it does not list.
  }
  state.plan.env.push(`HOME=${homeFromPasswd(passwd, state.plan.uid)}`);
}

function makeMountsPrivate(): void {
  setPropagation('/', 'private', true);
}

function enterCgroupNamespace(): void {
  unshare(CLONE.NEWCGROUP, 'CLONE_NEWCGROUP');
}

function cloneBindSources(state: SetupState): void {
  state.plan.mounts.forEach(({ mount: m }, i) => {
    if (m.type === 'bind') state.bindTrees.set(i, cloneMountTree(m.source, m.recursive));
  });
}

function cloneRootfs(state: SetupState): void {
  const rootfs = state.plan.rootfs!;
  const tree = cloneMountTree(rootfs.path, true);
  // Locked read-only before it is attached anywhere: its files are never writable, even briefly.
  setMountAttributes(tree, rootfs.readonly ? MOUNT_ATTR.RDONLY : 0, { recursive: true, propagation: 'private' });
  state.rootTree = tree;
}

/** Host root entries that are the host's live state, not its system: never shown, only mount points. */
export const HOST_ROOT_HIDDEN = new Set(['proc', 'sys', 'dev', 'run', 'tmp', 'lost+found']);

/**
 * The host's root, seen read-only: a tmpfs whose top-level entries are recursive, read-only,
 * nosuid, nodev clones of the host's (symlinks copied as symlinks), and empty directories for the
 * host's live-state entries.
 */
function buildHostRootView(): void {
  const entries = fs.readdirSync('/', { withFileTypes: true });
  // Cloned before the tmpfs covers STAGING_ROOT, which is itself a top-level host directory.
  const trees = new Map<string, number>();
  for (const e of entries) {
    if (e.isDirectory() && !HOST_ROOT_HIDDEN.has(e.name) && `/${e.name}` !== STAGING_ROOT) {
      const tree = cloneMountTree(`/${e.name}`, true);
      setMountAttributes(tree, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV, { recursive: true, propagation: 'private' });
      trees.set(e.name, tree);
    }
  }
  mount('tmpfs', STAGING_ROOT, 'tmpfs', MS.NOSUID | MS.NODEV, 'mode=755,size=1m');
  for (const e of entries) {
    const target = inRoot(`/${e.name}`);
    if (e.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(`/${e.name}`), target);
    else if (e.isDirectory()) fs.mkdirSync(target, { mode: e.name === 'tmp' ? 0o1777 : 0o755 });
    const tree = trees.get(e.name);
    if (tree !== undefined) attachMountTree(tree, target);
  }
}

function makeRootReadonly(): void {
  setMountAttributes(STAGING_ROOT, MOUNT_ATTR.RDONLY, { recursive: false });
}

function attachRootfs(state: SetupState): void {
  attachMountTree(state.rootTree!, STAGING_ROOT);
}

function ensureMountPoint(target: string, kind: 'dir' | 'file'): void {
  if (fs.existsSync(target)) return;
  try {
    if (kind === 'dir') fs.mkdirSync(target, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, '');
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MountPointError(target.slice(STAGING_ROOT.length) || '/', code);
  }
}

const SAFE = MS.NOSUID | MS.NODEV | MS.NOEXEC;

/** Each mount is made with exactly the flags and data its options declare (plan.ts worked them out). */
function mountOne(state: SetupState, planned: PlannedMount, index: number): void {
  const m = planned.mount;
  const target = inRoot(m.destination);
  if (m.type === 'bind') return bindOne(state.bindTrees.get(index)!, target, planned);
  ensureMountPoint(target, 'dir');
  if (m.type === 'cgroup' || m.type === 'cgroup2') mountCgroupFilesystem(target, planned, state.plan.namespaces.includes('cgroup'));
  else if (m.type === 'filesystem') mount(m.source, target, m.fsType, planned.flags, planned.data);
  else mount(m.type === 'dev' ? 'tmpfs' : m.type, target, m.type === 'dev' ? 'tmpfs' : m.type, planned.flags, planned.data);
  if (planned.recursiveAttributes) {
    const { set, clear } = planned.recursiveAttributes;
    setMountAttributes(target, set, { recursive: true, clear });
  }
  if (m.type === 'dev') {
    (state.devFilesystems ??= new Set()).add(fs.statSync(target).dev);
    fillDev(target, m.devices, state.plan.namespaces.includes('user'));
  }
}

/**
 * A bind's flags are set on the detached clone before it is attached, so it is never visible
 * with other flags. Flags a user namespace locked on the source (the kernel refuses to clear
 * them, EPERM) stay as the source has them, as crun does: the declared ones are still added.
 */
function bindOne(tree: number, target: string, planned: PlannedMount): void {
  ensureMountPoint(target, fs.statSync(`/proc/self/fd/${tree}`).isDirectory() ? 'dir' : 'file');
  if (planned.bindAttributes) {
    const { set, clear } = planned.bindAttributes;
    try {
      setMountAttributes(tree, set, { recursive: false, clear });
    } catch (e) {
      if (!(e instanceof SyscallError && e.code === 'EPERM')) throw e;
      setMountAttributes(tree, set & ~MOUNT_ATTR._ATIME, { recursive: false });
    }
  }
  if (planned.recursiveAttributes) {
    const { set, clear } = planned.recursiveAttributes;
    setMountAttributes(tree, set, { recursive: true, clear });
  }
  attachMountTree(tree, target);
}

function mountFilesystems(state: SetupState): void {
  state.plan.mounts.forEach((m, i) => mountOne(state, m, i));
  // Last, over whatever the profile mounted there (the launcher cloned them, see core/host-handles.ts).
  for (const { tree, destination } of state.plan.treeBinds) {
    const target = inRoot(destination);
    ensureMountPoint(target, fs.statSync(`/proc/self/fd/${tree}`).isDirectory() ? 'dir' : 'file');
    attachMountTree(tree, target);
  }
}

/**
 * The /dev tmpfs's devices: created with mknod(2), as the runtime-spec gives them, where the
 * engine may; in a user namespace, where mknod is refused, bind mounts of the host's own nodes
 * (as runc does), which are never chowned or chmodded.
 */
function fillDev(target: string, devices: string[], inUserNamespace: boolean): void {
  for (const name of devices) {
    const node = path.join(target, name);
    if (inUserNamespace) {
      fs.writeFileSync(node, '');
      mount(`/dev/${name}`, node, null, MS.BIND);
    } else {
      const { major, minor, fileMode } = OCI_DEFAULT_DEVICES[name]!;
      makeNode(node, 'c', fileMode, major, minor);
      // mknod(2) leaves the umask's mark on the mode.
      fs.chmodSync(node, fileMode);
    }
  }
  // ptmx leads to the devpts mounted at /dev/pts, whose own ptmx opens a pty of that instance.
  const links = [['fd', '/proc/self/fd'], ['stdin', '/proc/self/fd/0'], ['stdout', '/proc/self/fd/1'], ['stderr', '/proc/self/fd/2'], ['ptmx', 'pts/ptmx']];
  for (const [link, to] of links) {
    fs.symlinkSync(to, path.join(target, link));
  }
  fs.mkdirSync(path.join(target, 'shm'), { mode: 0o1777 });
}

function unmountIfMounted(target: string): void {
  try {
    unmountDetached(target);
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === 'EINVAL')) throw e;
  }
}

/**
 * linux.devices: made with mknod(2) and given their owner and mode where the engine may; in a
 * user namespace, where mknod of a device is refused, the host's own node at the same path is
 * bound (as runc does), and never chowned or chmodded. One already there (a default device) is
 * replaced.
 */
function createDevices(state: SetupState): void {
  const inUserNamespace = state.plan.namespaces.includes('user');
  for (const d of state.plan.devices) {
    const parent = deviceParent(state, d.path);
    const target = path.join(parent, path.basename(d.path));
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    if (existing !== undefined) {
      if (existing.isDirectory()) throw new Error(`linux.devices: ${d.path} is a directory in the container's root`);
      // A default device in a user namespace is a bind of the host's node: unmounted, not the host's removed.
      if (inUserNamespace) unmountIfMounted(target);
      fs.rmSync(target);
    }
    if (inUserNamespace && d.type !== 'p') {
      fs.writeFileSync(target, '');
      mount(d.path, target, null, MS.BIND);
    } else {
      makeNode(target, d.type, d.fileMode, d.major, d.minor);
      fs.lchownSync(target, d.uid, d.gid);
      fs.chmodSync(target, d.fileMode);
    }
  }
}

/**
 * The directory to make `devicePath` in, made if missing, and only inside a /dev tmpfs this setup
 * mounted: without one, /dev may be the host's own (a bind of it, or the host root's view), and a
 * node removed, made or chowned there would change the host.
 */
function deviceParent(state: SetupState, devicePath: string): string {
  const missing: string[] = [];
  let dir = path.dirname(devicePath);
  let resolved = resolveInRoot(STAGING_ROOT, dir);
  while (resolved === undefined) {
    missing.unshift(path.basename(dir));
    dir = path.dirname(dir);
    resolved = resolveInRoot(STAGING_ROOT, dir);
  }
  if (!state.devFilesystems?.has(fs.statSync(resolved).dev)) {
    throw new Error(`linux.devices: ${devicePath} is not inside a dev mount (the container's own /dev tmpfs); `
      + 'nsrig makes device nodes only there, never on a filesystem the host may share');
  }
  const parent = path.join(resolved, ...missing);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  return parent;
}

/**
 * Each masked path, resolved inside the new root (runtimes skip one that does not exist): a
 * directory gets an empty read-only tmpfs, anything else the host's own /dev/null bound on it.
 */
function maskPaths(state: SetupState): void {
  for (const p of state.plan.maskedPaths) {
    const target = resolveInRoot(STAGING_ROOT, p);
    if (target === undefined) continue;
    if (fs.statSync(target).isDirectory()) mount('tmpfs', target, 'tmpfs', MS.RDONLY | SAFE, 'size=0,mode=000');
    else mount('/dev/null', target, null, MS.BIND);
  }
}

function makePathsReadonly(state: SetupState): void {
  for (const p of state.plan.readonlyPaths) {
    const target = resolveInRoot(STAGING_ROOT, p);
    if (target === undefined) continue;
    mount(target, target, null, MS.BIND | MS.REC);
    // Read-only and nothing else: the bind keeps the flags of what it covers, as runc and crun leave
    // them (runc spec's /proc/sys is ro and otherwise /proc's own), seen by the differential test.
    setMountAttributes(target, MOUNT_ATTR.RDONLY, { recursive: true });
  }
}

function setRootPropagation(state: SetupState): void {
  setMountAttributes('/', 0, { recursive: true, propagation: state.plan.rootfs!.propagation });
}

function setMountPropagation(state: SetupState): void {
  for (const { mount: m, propagation } of state.plan.mounts) {
    for (const flag of propagation) mount(null, m.destination, null, flag);
  }
}

/** pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only ours. */
function enterRoot(): void {
  chdir(STAGING_ROOT);
  pivotRoot('.', '.');
  unmountDetached('.');
  chdir('/');
}

function enterTimeNamespace(state: SetupState): void {
  unshare(CLONE.NEWTIME, 'CLONE_NEWTIME');
  const t = state.plan.timeOffsets;
  if (t) {
    // CLOCK_MONOTONIC is 1, CLOCK_BOOTTIME is 7 (time_namespaces(7)).
    fs.writeFileSync('/proc/self/timens_offsets', `1 ${t.monotonic} 0\n7 ${t.boottime} 0\n`);
  }
}

const VETH_RUNNING_TIMEOUT_MS = 5_000;

function configureVeth(state: SetupState): void {
  const { interfaceName, address, prefixLength } = state.plan.veth!;
  const route = RouteNetlink.open();
  try {
    const index = route.linkIndex(interfaceName);
    route.addIpv4Address(index, address, prefixLength);
    route.setLinkUp(index);
    // The program starts with eth0 able to carry traffic, not a moment before.
    route.waitUntilRunning(index, VETH_RUNNING_TIMEOUT_MS);
  } finally {
    route.close();
  }
}

function setRlimits(state: SetupState): void {
  for (const r of state.plan.rlimits) setRlimit(r.type, r.soft, r.hard);
}

function prepareStdio(state: SetupState): void {
  const { stdin, stdout, stderr } = state.plan.fds;
  duplicateFd(stdin, 0);
  duplicateFd(stdout, 1);
  duplicateFd(stderr, 2);
  // Everything else, Node's own descriptors included, closes at execve.
  closeOnExecFrom(3);
}

function dropBoundingSet(state: SetupState): void {
  for (const cap of state.plan.capabilities.dropFromBounding) dropFromBoundingSet(cap);
}

function switchCredentials(state: SetupState): void {
  const { uid, gid, additionalGids } = state.plan;
  // Keep the permitted set across the uid change; set-capabilities then trims it exactly.
  setKeepCapabilities(true);
  if (additionalGids !== undefined) setGroups(additionalGids);
  setResGid(gid);
  setResUid(uid);
}

function setCapabilitySets(state: SetupState): void {
  const c = state.plan.capabilities;
  setCapabilities({ effective: BigInt(c.effective), permitted: BigInt(c.permitted), inheritable: BigInt(c.inheritable) });
  clearAmbientSet();
  for (const cap of c.ambient) raiseAmbient(cap);
}

function installSeccomp(state: SetupState): void {
  for (const program of state.plan.seccompPrograms) installSeccompFilter(Buffer.from(program, 'base64'));
}
