// The deliberately broken wrapper runtimes beside this file: each breaks one property of the
// container (or of the launch) and then execs runc. The harness runs its invariants against each
// and expects the one that guards the broken property to fail; `runc-hangs` is a runtime failure
// and must end as a target error, never as a violated invariant.
import path from 'node:path';
import { projectRoot } from '../oci/host-root-view.js';

export interface WrapperRuntime {
  /** File name, also the target's name in results. */
  name: string;
  /** What the container gets wrong, in one sentence. */
  breaks: string;
  /** "isolation": an invariant must catch it; "runtime-failure": start() must reject with TargetError. */
  kind: 'isolation' | 'runtime-failure';
}

export const WRAPPER_RUNTIMES: readonly WrapperRuntime[] = [
  { name: 'runc-drops-uts', kind: 'isolation', breaks: 'no uts namespace and no hostname: the host\'s hostname is shared' },
  { name: 'runc-drops-pid', kind: 'isolation', breaks: 'no pid namespace; /proc is a bind of the host\'s' },
  { name: 'runc-drops-namespace-path', kind: 'isolation', breaks: 'every namespace path is dropped: a namespace to join is created anew' },
  { name: 'runc-drops-net', kind: 'isolation', breaks: 'no network namespace; /sys is a read-only bind of the host\'s' },
  { name: 'runc-shares-ipc', kind: 'isolation', breaks: 'no ipc namespace and no mqueue mount: System V and POSIX IPC are shared' },
  { name: 'runc-drops-user', kind: 'isolation', breaks: 'no user namespace and no id maps: the process is the host\'s root, with CAP_SYS_ADMIN when config.json grants it' },
  { name: 'runc-wrong-uid-map', kind: 'isolation', breaks: 'every uid mapping\'s hostID is one higher than asked' },
  { name: 'runc-no-readonly-rootfs', kind: 'isolation', breaks: 'the root filesystem is writable although root.readonly is true' },
  { name: 'runc-keeps-all-caps', kind: 'isolation', breaks: 'bounding, permitted and effective hold every capability' },
  { name: 'runc-drops-seccomp', kind: 'isolation', breaks: 'no seccomp filter' },
  { name: 'runc-writable-proc-sys', kind: 'isolation', breaks: 'readonlyPaths ignored: /proc/sys and the others are writable' },
  { name: 'runc-unmasks-paths', kind: 'isolation', breaks: 'maskedPaths ignored: /proc/kcore, /proc/keys and the others are readable' },
  { name: 'runc-drops-no-new-privileges', kind: 'isolation', breaks: 'no_new_privs is not set' },
  { name: 'runc-leaks-fd', kind: 'isolation', breaks: 'fd 3 is an open host directory (the bundle) passed in with --preserve-fds' },
  { name: 'runc-drops-bind-propagation', kind: 'isolation', breaks: 'bind mounts lose their propagation option and stay peers of their shared sources' },
  { name: 'runc-private-binds', kind: 'isolation', breaks: 'bind mounts are made private whatever propagation they declare: slave and shared binds receive nothing from their source' },
  { name: 'runc-follows-rootfs-symlinks', kind: 'isolation', breaks: 'each mount point is first made on the host with mkdir -p, following a rootfs symlink out of the rootfs' },
  { name: 'runc-claims-spec-1.1', kind: 'isolation', breaks: 'claims runtime-spec 1.1.0 yet ignores domainname, which 1.1.0 added' },
  { name: 'runc-no-new-keyring', kind: 'isolation', breaks: "the container keeps the caller's session keyring and possesses its keys" },
  { name: 'runc-ignores-seccomp-args', kind: 'isolation', breaks: 'seccomp rules lose their argument conditions: a call is denied whatever its arguments' },
  { name: 'runc-maps-extra-uid', kind: 'isolation', breaks: 'one container uid more than declared is mapped, past the highest declared range' },
  { name: 'runc-seccomp-actions-as-errno', kind: 'isolation', breaks: 'seccomp rules that kill, trap or log become SCMP_ACT_ERRNO (EPERM) rules' },
  { name: 'runc-exec-adds-cap', kind: 'isolation', breaks: 'a process joined with exec gains CAP_SYS_ADMIN in its bounding, permitted and effective sets' },
  { name: 'runc-exec-leaks-fd', kind: 'isolation', breaks: 'a process joined with exec gets fd 3, an open host directory, passed in with --preserve-fds' },
  { name: 'runc-ignores-noexec', kind: 'isolation', breaks: 'tmpfs mounts lose noexec: a program copied there runs' },
  { name: 'runc-ignores-nosuid', kind: 'isolation', breaks: 'tmpfs mounts lose nosuid: a set-user-ID program copied there raises privilege' },
  { name: 'runc-ignores-nodev', kind: 'isolation', breaks: 'tmpfs mounts lose nodev: a device node made there opens' },
  { name: 'runc-ignores-rro', kind: 'isolation', breaks: 'recursive binds lose rro: their submounts stay writable below a read-only top' },
  { name: 'runc-writable-cgroupfs', kind: 'isolation', breaks: 'cgroup mounts lose ro: the container\'s cgroup files open for writing (CVE-2022-0492)' },
  { name: 'runc-ignores-rlimits-umask', kind: 'isolation', breaks: 'process.rlimits and process.user.umask are dropped: the runtime\'s own limits and umask apply' },
  { name: 'runc-ignores-sysctl', kind: 'isolation', breaks: 'linux.sysctl is dropped: no declared kernel parameter is written' },
  { name: 'runc-ignores-pids-limit', kind: 'isolation', breaks: 'linux.resources.pids is dropped: the container has no pids limit' },
  { name: 'runc-ignores-memory-limit', kind: 'isolation', breaks: 'linux.resources.memory is dropped: the container has no memory limit' },
  { name: 'runc-ignores-cpu-resources', kind: 'isolation', breaks: 'linux.resources.cpu is dropped: no cpu shares, quota, period, cpus or mems are set' },
  { name: 'runc-ignores-blockio-weight', kind: 'isolation', breaks: 'linux.resources.blockIO is dropped: no blkio weight is set' },
  { name: 'runc-hook-wrong-namespace', kind: 'isolation', breaks: 'createContainer hooks run on the host, in the runtime\'s namespaces, as the last createRuntime hooks' },
  { name: 'runc-start-rereads-config', kind: 'isolation', breaks: 'start applies the hostname of a config.json edited after create' },
  { name: 'runc-create-runs-program', kind: 'isolation', breaks: 'create already starts the program; start then does nothing' },
  { name: 'runc-kill-sends-other-signal', kind: 'isolation', breaks: 'kill sends SIGTERM instead of the signal asked for (SIGHUP instead of SIGTERM); SIGKILL passes' },
  { name: 'runc-delete-leaves-cgroup', kind: 'isolation', breaks: 'delete leaves the container\'s pids cgroup (or its unified one) behind' },
  { name: 'runc-delete-removes-foreign-cgroup', kind: 'isolation', breaks: 'delete also removes cgroups the container\'s init was moved into by someone else' },
  { name: 'runc-delete-forces', kind: 'isolation', breaks: 'every delete is forced: a running container is killed and removed instead of refused' },
  { name: 'runc-kill-stopped-deletes', kind: 'isolation', breaks: 'kill of a stopped container deletes it and succeeds instead of failing with no effect' },
  { name: 'runc-start-running-succeeds', kind: 'isolation', breaks: 'start of a running container succeeds doing nothing instead of failing' },
  { name: 'runc-hangs', kind: 'runtime-failure', breaks: 'create and run hang without starting the container' },
  { name: 'runc-fails-leaving-cgroups', kind: 'runtime-failure', breaks: 'create and run fail after making the container\'s cgroups, which its delete does not remove' },
];

/** The wrappers live in the source tree (tsc does not copy them to dist/). */
export function wrapperRuntimePath(name: string): string {
  return path.join(projectRoot(), 'harness', 'targets', 'runtime-wrappers', name);
}
