// Stage 2's side of the Kernel interface carried out through libc: each method is one of the
// typed wrappers beside it. Stage 2 runs its step list on this; the launcher makes its own
// write_file through it too.
import fs from 'node:fs';
import path from 'node:path';
import type { PrctlOption, StageKernel } from '../kernel.js';
import { MountPointError, MountSymlinkError, JoinedUserRootError, NamespaceJoinError, Stage2InputError, StepListError } from '../launch-error.js';
import { cloneFlagNames } from '../../policy/kernel/clone-flags.js';
import { attachMountTree, chdir, cloneMountTree, makeNode, mount, pivotRoot, setMountAttributes, unmount } from './mount.js';
import { mountCgroupFilesystem } from '../cgroup-mount.js';
import { createDevice } from '../container-devices.js';
import { escapingSymlink, resolveInRoot } from '../path-in-root.js';
import { homeFromPasswd } from '../setup-steps.js';
import { runHookInside } from '../container-hooks.js';
import {
  accessExecutable, bringInterfaceUp, closeOnExecFrom, duplicateFd, execve, newSession, resetSignalsForExec, setDomainname, setHostname,
  openNamespace, setns, setPersonality, setRlimit, unshare,
} from './system.js';
import {
  clearAmbientSet, dropFromBoundingSet, raiseAmbient, setCapabilities, setGroups, setKeepCapabilities, setNoNewPrivileges,
  setParentDeathSignal, setResGid, setResUid,
} from './identity.js';
import { installSeccompFilter, rawSyscall } from './seccomp.js';
import { joinNewSessionKeyring } from './keyring.js';
import { RouteNetlink } from './netlink.js';
import { openPtyMaster, openPtyPeer, ptyNumber, sendFd, setControllingTerminal, setWindowSize } from './terminal.js';
import { SyscallError } from './syscall-error.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { MS } from '../../policy/kernel/mount-flags.js';

const PRCTL: Readonly<Record<PrctlOption, (value: number) => void>> = {
  PR_SET_KEEPCAPS: (value) => setKeepCapabilities(value !== 0),
  PR_SET_NO_NEW_PRIVS: () => setNoNewPrivileges(),
  PR_SET_PDEATHSIG: () => setParentDeathSignal(),
  PR_CAPBSET_DROP: (cap) => dropFromBoundingSet(cap),
  PR_CAP_AMBIENT_CLEAR_ALL: () => clearAmbientSet(),
  PR_CAP_AMBIENT_RAISE: (cap) => raiseAmbient(cap),
};

/** A mount point reached through a rootfs symlink that leads out of the rootfs is refused, naming both. */
function refuseEscapingSymlink(mountPoint: string, destination: string, field: string | undefined): void {
  const inside = path.posix.normalize(destination);
  if (inside === '/' || !mountPoint.endsWith(inside)) return;
  const escape = escapingSymlink(mountPoint.slice(0, mountPoint.length - inside.length), inside);
  if (escape) throw new MountSymlinkError(destination, field, escape.link, escape.target);
}

function findExecutable(name: string, pathVar: string): string {
  if (name.includes('/')) {
    const errno = accessExecutable(name);
    if (errno !== 0) throw new SyscallError('execve', errno, name, 'the program to run is missing or not executable in the container');
    return name;
  }
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (accessExecutable(candidate) === 0) return candidate;
  }
  throw new Stage2InputError(`executable not found in the container: ${name} (searched PATH=${pathVar})`);
}

export const nativeKernel: StageKernel = {
  mount: (a) => mount(a.source, a.target, a.fstype, a.flags, a.data),
  umount2: (a) => unmount(a.target, a.flags),
  open_tree: (a) => cloneMountTree(a.path, a.recursive),
  mount_setattr: (a) => setMountAttributes(a.target, a.attrSet, { recursive: a.recursive, propagation: a.propagation, clear: a.clear }),
  move_mount: (a) => attachMountTree(a.from, a.target),
  pivot_root: (a) => pivotRoot(a.newRoot, a.putOld),
  chdir: (a) => chdir(a.path),
  mkdir: (a) => fs.mkdirSync(a.path, { mode: a.mode }),
  symlink: (a) => fs.symlinkSync(a.target, a.path),
  write_file: (a) => fs.writeFileSync(a.path, a.data),
  stat: (a) => {
    const stat = fs.statSync(a.path, { throwIfNoEntry: false });
    return stat === undefined ? 'missing' : stat.isDirectory() ? 'dir' : 'non-dir';
  },
  resolve_in_root: (a) => resolveInRoot(a.root, a.path) ?? null,
  stat_dev: (a) => fs.statSync(a.path).dev,
  create_device: (a) => createDevice(a.root, a.device, a.inUserNamespace, a.devFilesystems),
  ensure_mount_point: (a) => {
    refuseEscapingSymlink(a.path, a.destination, a.field);
    if (fs.existsSync(a.path)) return;
    try {
      if (a.kind === 'dir') fs.mkdirSync(a.path, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(a.path), { recursive: true });
        fs.writeFileSync(a.path, '');
      }
    } catch (e) {
      throw new MountPointError(a.destination, (e as NodeJS.ErrnoException).code);
    }
  },
  unshare: (a) => unshare(a.flags, cloneFlagNames(a.flags).join('|')),
  expect_namespaces: (a) => {
    for (const [type, expected] of Object.entries(a.links)) {
      let actual: string;
      try {
        actual = fs.readlinkSync(`/proc/self/ns/${type}`);
      } catch (e) {
        actual = `unreadable (${(e as NodeJS.ErrnoException).code}; is procfs mounted at /proc?)`;
      }
      if (actual !== expected) throw new NamespaceJoinError(type, expected, actual);
    }
    if (a.root === true && (process.getuid!() !== 0 || process.getgid!() !== 0)) throw new JoinedUserRootError(process.getuid!(), process.getgid!());
  },
  open: (a) => openNamespace(a.path),
  setns: (a) => setns(a.fd, a.nstype, a.what),
  mknod: (a) => makeNode(a.path, a.type, a.mode, a.major, a.minor),
  chmod: (a) => fs.chmodSync(a.path, a.mode),
  mount_cgroup: (a) => mountCgroupFilesystem(a.target, a.planned, a.inCgroupNamespace),
  env_with_home_from_passwd: (a) => {
    let passwd = '';
    try {
      passwd = fs.readFileSync(a.passwd, 'utf8');
    } catch {
      // No passwd file: HOME is "/", as with a uid it does not list.
    }
    return [...a.env, `HOME=${homeFromPasswd(passwd, a.uid)}`];
  },
  umask: (a) => {
    process.umask(a.mask);
  },
  personality: (a) => setPersonality(a.domain),
  sethostname: (a) => setHostname(a.name),
  setdomainname: (a) => setDomainname(a.name),
  bring_interface_up: (a) => bringInterfaceUp(a.name),
  configure_interface: (a) => {
    const route = RouteNetlink.open();
    try {
      const index = route.linkIndex(a.name);
      route.addIpv4Address(index, a.address, a.prefixLength);
      route.setLinkUp(index);
      route.waitUntilRunning(index, a.waitMs);
    } finally {
      route.close();
    }
  },
  prlimit: (a) => setRlimit(a.resource, a.soft, a.hard),
  setsid: () => newSession(),
  dup2: (a) => duplicateFd(a.from, a.to),
  open_pty_master: (a) => openPtyMaster(a.ptmx),
  open_pty_peer: (a) => openPtyPeer(a.master),
  set_window_size: (a) => setWindowSize(a.fd, { height: a.height, width: a.width }),
  send_fd: (a) => sendFd(a.socket, a.fd, a.name),
  set_controlling_terminal: (a) => setControllingTerminal(a.fd),
  bind_terminal: (a) => {
    if (!fs.existsSync(a.target)) fs.writeFileSync(a.target, '');
    mount(`/dev/pts/${ptyNumber(a.master)!}`, a.target, null, MS.BIND, null);
  },
  write_fd: (a) => {
    fs.writeSync(a.fd, a.data);
  },
  close_range: (a) => closeOnExecFrom(a.first),
  reset_signals: () => resetSignalsForExec(),
  prctl: (a) => {
    const run = PRCTL[a.option];
    if (!run) throw new StepListError(`prctl option ${String(a.option)} is not one the launch makes`);
    run(a.value);
  },
  keyctl_join_session_keyring: () => {
    joinNewSessionKeyring();
  },
  setgroups: (a) => setGroups(a.gids),
  setresgid: (a) => setResGid(a.gid),
  setresuid: (a) => setResUid(a.uid),
  capset: (a) => setCapabilities({ effective: BigInt(a.effective), permitted: BigInt(a.permitted), inheritable: BigInt(a.inheritable) }),
  seccomp: (a) => {
    installSeccompFilter(Buffer.from(a.program, 'base64'));
  },
  close: (a) => {
    rawSyscall(NR.close, a.fd);
  },
  find_executable: (a) => findExecutable(a.name, a.pathVar),
  report_ready: (a) => {
    fs.writeSync(a.fd, `${JSON.stringify({ event: 'exec' })}\n`);
  },
  pause_for_parent: (a) => {
    fs.writeSync(a.report, `${JSON.stringify({ event: 'paused', point: a.point })}\n`);
    // End of file instead of the byte: the parent gave up on the launch (it kills us next anyway).
    if (fs.readSync(a.control, Buffer.alloc(1), 0, 1, null) !== 1) throw new Stage2InputError(`the launcher closed the control pipe while stage 2 held at ${a.point}`);
  },
  execve: (a) => execve(a.path, a.argv, a.env),
  run_hook: (a) => {
    // The hook gets stage 2's descriptors only as its stdio: the report and control pipes must not
    // outlive stage 2 in whatever a hook leaves running.
    closeOnExecFrom(3);
    runHookInside(a.hook, a.state, a.fd);
  },
};
