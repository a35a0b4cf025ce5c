// The kernel as the launch sees it: one typed interface, one method per call, each taking one
// argument object. core/native/native-kernel.ts carries the calls out through libc;
// core/recording-kernel.ts only writes them down, so a test (or `nsrig plan`) can read back which
// calls a launch makes, with which arguments, in which order, without root.
//
// Methods are named after the system call or libc function they make (pivot_root, mount_setattr),
// not in camelCase: a record prints as the call an auditor would find in strace. A few are small
// fixed sequences named for what they do (ensure_mount_point, configure_interface, reset_signals):
// each is one decision on the container's filesystem or one netlink conversation.
//
// Two sides: StageCalls are what stage 2 makes inside the new namespaces (nativeKernel carries
// them out); LauncherCalls are what nsrig makes from outside around the child it clones (the
// launch's own executor in core/container.ts, which also makes write_file and run_hook). A
// recording kernel answers both.
import type { Propagation } from '../policy/kernel/mount-flags.js';
import type { DeviceNode, Personality } from '../policy/profile/types.js';
import type { PlannedMount } from './plan.js';
import type { ContainerState, PlannedHook } from './container-hooks.js';

/** prctl(2) options the launch uses; value is the capability, signal or flag each takes. */
export type PrctlOption =
  | 'PR_SET_KEEPCAPS' | 'PR_SET_NO_NEW_PRIVS' | 'PR_SET_PDEATHSIG' | 'PR_CAPBSET_DROP'
  | 'PR_CAP_AMBIENT_CLEAR_ALL' | 'PR_CAP_AMBIENT_RAISE';

/** The calls made from nsrig itself, on the child: clone, the hand-over points, the release. */
export interface LauncherCalls {
  /**
   * clone3 of stage 2 (nsrig's own Node) with flags, held before exec until the release. The
   * program and the descriptors it inherits are the launch's own (its pipes), not the list's.
   * The result is the child's pid.
   */
  clone: {
    args: {
      flags: number;
      /** Namespace files the child enters with setns(2) before stage 2 runs, in this order (mnt, cgroup, time: core/plan.ts JoinPoint). */
      join?: { type: string; path: string }[];
      /** A pid namespace file: the cloning thread enters it for its children around the clone, so the child is born there. */
      pidNamespace?: string;
      /**
       * Namespace files a joining process enters, in this order, before it clones the child with
       * flags (core/plan.ts joinsBeforeClone): then join and pidNamespace are absent.
       */
      joinFirst?: { type: string; path: string }[];
    };
    result: number;
  };
  /** A veth pair between the network hub (hostAddress on its end) and pid's net namespace (peerName there). */
  attach_veth: { args: { pid: number; peerName: string; hostAddress: string }; result: void };
  /**
   * The launch's caller acts on the held child: before-setup (a tracer attaching), created (the
   * create-start lifecycle: its return is the start).
   */
  await_caller: { args: { point: 'before-setup' | 'created' }; result: void };
  /** The first byte on the control pipe lets the child exec stage 2; the list's stage 2 steps follow it, ended by a newline. */
  release: { args: Record<string, never>; result: void };
  /** Waits until stage 2 reports that it holds at point (pause_for_parent); a stage 2 that fails or dies first fails the launch. */
  await_stage2: { args: { point: PausePoint }; result: void };
  /** One byte on the control pipe: stage 2, held at a pause, goes on. */
  resume_stage2: { args: Record<string, never>; result: void };
}

/**
 * Where stage 2 holds for the parent: runtime-hooks once the container's mounts are made, before
 * pivot_root (prestart and createRuntime run then); created once the create is done, before the
 * startContainer hooks (the create-start lifecycle's start is the resume).
 */
export type PausePoint = 'runtime-hooks' | 'created';

/** Every call stage 2 makes, with its arguments and result. */
export interface StageCalls {
  mount: { args: { source: string | null; target: string; fstype: string | null; flags: number; data: string | null }; result: void };
  umount2: { args: { target: string; flags: number }; result: void };
  /** A detached copy of the mount tree at path (OPEN_TREE_CLONE), as a close-on-exec descriptor. */
  open_tree: { args: { path: string; recursive: boolean }; result: number };
  /** attrSet is set, clear cleared (MOUNT_ATTR_*), on target alone or its whole tree (recursive). */
  mount_setattr: { args: { target: string | number; attrSet: number; clear?: number; recursive: boolean; propagation?: Propagation }; result: void };
  /** Attaches a detached tree at target (MOVE_MOUNT_F_EMPTY_PATH). */
  move_mount: { args: { from: number; target: string }; result: void };
  pivot_root: { args: { newRoot: string; putOld: string }; result: void };
  chdir: { args: { path: string }; result: void };
  mkdir: { args: { path: string; mode: number }; result: void };
  symlink: { args: { target: string; path: string }; result: void };
  /** Creates or truncates a file and writes data (also a mount point for a file bind: data ""). */
  write_file: { args: { path: string; data: string }; result: void };
  /** What is at path, following symlinks: the condition of a call that depends on the container's filesystem. */
  stat: { args: { path: string }; result: 'dir' | 'non-dir' | 'missing' };
  /**
   * The host path of a container path inside root, every symlink followed within root as the
   * kernel will follow it once root is "/" (core/path-in-root.ts); null when some part is missing.
   */
  resolve_in_root: { args: { root: string; path: string }; result: string | null };
  /** stat(2)'s st_dev of path: which filesystem it is on (a /dev tmpfs this setup mounted). */
  stat_dev: { args: { path: string }; result: number };
  /**
   * One linux.devices node (core/container-devices.ts), only inside a filesystem of devFilesystems
   * (the /dev tmpfs mounts this setup made), refused otherwise: mknod, chown and chmod, or in a user
   * namespace a bind of the host's node at device.path; one already there is replaced.
   */
  create_device: { args: { root: string; device: DeviceNode; inUserNamespace: boolean; devFilesystems: number[] }; result: void };
  /** mkdir -p (dir), or an empty file in mkdir -p'd parents (file), when path is missing; destination names it in the error. */
  /** field: where the profile or config declares the destination (mounts[i].destination), for errors. */
  ensure_mount_point: { args: { path: string; kind: 'dir' | 'file'; destination: string; field?: string }; result: void };
  unshare: { args: { flags: number }; result: void };
  /**
   * Each /proc/self/ns link reads exactly as given ("net:[4026531840]"): a process that was to join
   * a container's namespaces proves it did before it does anything else; throws NamespaceJoinError.
   */
  /** root: also uid 0 and gid 0 of its user namespace, once it joined one (throws JoinedUserRootError). */
  expect_namespaces: { args: { links: Record<string, string>; root?: boolean }; result: void };
  /** open(2) read-only and close-on-exec, as a namespace file is opened for setns. */
  open: { args: { path: string }; result: number };
  /** setns(2) into the namespace fd refers to; what names it in an error. */
  setns: { args: { fd: number; nstype: number; what: string }; result: void };
  /** mknod(2) of a device node (type 'c' or 'b') or a fifo ('p'). */
  mknod: { args: { path: string; type: 'c' | 'b' | 'p'; mode: number; major: number; minor: number }; result: void };
  chmod: { args: { path: string; mode: number }; result: void };
  /** A mount of type cgroup or cgroup2 as runc 1.1 lays it out (core/cgroup-mount.ts): one decision on the host's hierarchies. */
  mount_cgroup: { args: { target: string; planned: PlannedMount; inCgroupNamespace: boolean }; result: void };
  /** env with HOME= from the passwd file's entry for uid ("/" when it names none or the file is missing). */
  env_with_home_from_passwd: { args: { env: string[]; uid: number; passwd: string }; result: string[] };
  umask: { args: { mask: number }; result: void };
  personality: { args: { domain: Personality }; result: void };
  sethostname: { args: { name: string }; result: void };
  setdomainname: { args: { name: string }; result: void };
  /** SIOCSIFFLAGS IFF_UP, as `ip link set NAME up`. */
  bring_interface_up: { args: { name: string }; result: void };
  /** rtnetlink: an IPv4 address on the interface, link up, then wait until it is running. */
  configure_interface: { args: { name: string; address: string; prefixLength: number; waitMs: number }; result: void };
  prlimit: { args: { resource: string; soft: number; hard: number }; result: void };
  setsid: { args: Record<string, never>; result: void };
  /** dup2, except from === to clears close-on-exec (dup2 onto itself would keep it). */
  dup2: { args: { from: number; to: number }; result: void };
  /** A new pty master, close-on-exec, from the devpts the path leads to (posix_openpt + unlockpt). */
  open_pty_master: { args: { ptmx: string }; result: number };
  /** ioctl TIOCGPTPEER: the master's slave, close-on-exec, opened through the master (no /dev/pts path lookup). */
  open_pty_peer: { args: { master: number }; result: number };
  /** ioctl TIOCSWINSZ. */
  set_window_size: { args: { fd: number; height: number; width: number }; result: void };
  /** sendmsg(2) of one descriptor (SCM_RIGHTS) over a connected unix socket, name as the message's bytes. */
  send_fd: { args: { socket: number; fd: number; name: string }; result: void };
  /** The master's slave (/dev/pts/N by the master's TIOCGPTN) bound over target, made as an empty file when missing: /dev/console, as config-linux.md asks with a terminal. */
  bind_terminal: { args: { master: number; target: string }; result: void };
  /** ioctl TIOCSCTTY: the terminal becomes the controlling terminal of this session. */
  set_controlling_terminal: { args: { fd: number }; result: void };
  /** write(2) of data to a descriptor the parent opened (a cgroup file stage 2 could not open itself). */
  write_fd: { args: { fd: number; data: string }; result: void };
  /** close_range(first, ~0, CLOSE_RANGE_CLOEXEC). */
  close_range: { args: { first: number }; result: void };
  /** Ignored signals back to SIG_DFL, none blocked: what the contained program should start with. */
  reset_signals: { args: Record<string, never>; result: void };
  prctl: { args: { option: PrctlOption; value: number }; result: void };
  keyctl_join_session_keyring: { args: Record<string, never>; result: void };
  setgroups: { args: { gids: number[] }; result: void };
  setresgid: { args: { gid: number }; result: void };
  setresuid: { args: { uid: number }; result: void };
  /** capset(2) with 64-bit masks, as decimal strings (JSON has no bigint). */
  capset: { args: { effective: string; permitted: string; inheritable: string }; result: void };
  /** seccomp(SECCOMP_SET_MODE_FILTER) with a classic-BPF program (struct sock_filter[], base64). */
  seccomp: { args: { program: string }; result: void };
  /** close(2): of a namespace descriptor once joined, or of the marker a tracer starts counting at. */
  close: { args: { fd: number }; result: void };
  /** argv[0] as execve needs it: itself when it has a slash, else the first executable on PATH. */
  find_executable: { args: { name: string; pathVar: string }; result: string };
  /** One JSON line to the parent: stage 2 reached the point after which it may no longer write. */
  report_ready: { args: { fd: number }; result: void };
  /** Tells the parent (one JSON line on report) that stage 2 holds at point, and blocks until a byte arrives on control. */
  pause_for_parent: { args: { point: PausePoint; report: number; control: number }; result: void };
  execve: { args: { path: string; argv: string[]; env: string[] }; result: void };
  /**
   * One OCI hook run from here, in the container's namespaces (createContainer, startContainer):
   * the state on its stdin with this process's pid added, killed past its timeout; a hook that
   * fails throws, naming hook.what. fd: the hook's executable, opened while its path still
   * resolved as the runtime sees it (createContainer's, which the staging root may cover).
   */
  run_hook: { args: { hook: PlannedHook; state: Omit<ContainerState, 'pid'>; fd?: number }; result: void };
}

/** Every call's arguments and result, either side. */
export interface KernelCalls extends StageCalls, LauncherCalls {}

export type CallName = keyof KernelCalls;

/** An executor of some of the calls; the launcher's may answer later (a hook, the release). */
export type KernelOf<N extends CallName> = { [K in N]: (args: KernelCalls[K]['args']) => KernelCalls[K]['result'] | Promise<KernelCalls[K]['result']> };

/** Stage 2's calls, carried out synchronously: the process ends in execve. */
export type StageKernel = { [K in keyof StageCalls]: (args: StageCalls[K]['args']) => StageCalls[K]['result'] };

export type Kernel = KernelOf<CallName>;
