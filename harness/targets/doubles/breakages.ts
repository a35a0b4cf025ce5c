// The catalogue of broken targets: each alters a launch so that one isolation property is lost,
// names the invariants meant to catch it, and some that must keep holding. None may harm the
// host: a double that leaves a namespace shared also drops what would act on the host's copy
// (hostnames, proc/sysfs/mqueue mounts), and nothing it makes writable is writable to the
// container's ids (they map to unprivileged host ids that own none of the host's files), but for
// joins-from-writable-node's own temporary copy of Node, which the probe only opens, never writes.
import fs from 'node:fs';
import { capabilityNames } from '../../../policy/kernel/capabilities.js';
import { DEVICE_NAMES, type NamespaceType, type Profile, type Resources } from '../../../policy/profile/types.js';
import { readonlyBind, remountedWith } from '../../../policy/profile/mounts.js';
import { sysctlNamespace } from '../../../policy/profile/sysctl.js';
import { PROPAGATION_OPTION_NAMES } from '../../../policy/profile/mount-options.js';
import path from 'node:path';
import type { LaunchRequest } from '../../target.js';
import type { Breakage } from './broken-target.js';
import { BuiltinTarget } from '../builtin.js';
import { writableNodeCopy } from './writable-node-copy.js';

function dropNamespace(profile: Profile, ns: NamespaceType): void {
  profile.namespaces = profile.namespaces.filter((n) => n !== ns);
}

/** The capabilities nsrig's own process may hold (its permitted set). */
function ownPermittedCapabilities(): string[] {
  const hex = /^CapPrm:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0';
  return capabilityNames(BigInt(`0x${hex}`));
}

function alterProfile(alter: (p: Profile) => void): (r: LaunchRequest) => LaunchRequest {
  return (request) => {
    alter(request.profile);
    return request;
  };
}

/** Leaves one section of resources out, as a runtime that does not apply it would. */
function dropResource(section: keyof Resources): (r: LaunchRequest) => LaunchRequest {
  return alterProfile((p) => {
    if (p.resources) delete p.resources[section];
  });
}

export const BREAKAGES: readonly Breakage[] = [
  {
    name: 'shares-host-uts',
    breaks: "leaves the host's UTS namespace shared (and so sets no hostname)",
    caughtBy: ['uts.hostname-isolated', 'uts.pair-hostnames-separate', 'ns.unshared-types-differ'],
    unaffected: ['user.maps-equal-profile', 'env.exact'],
    alter: alterProfile((p) => {
      dropNamespace(p, 'uts');
      delete p.hostname;
      delete p.domainname;
    }),
  },
  {
    name: 'drops-namespace-paths',
    breaks: 'creates every namespace the profile says to join by path',
    caughtBy: ['ns.joined-as-declared'],
    unaffected: ['ns.unshared-types-differ', 'env.exact'],
    alter: alterProfile((p) => {
      delete p.namespacePaths;
    }),
  },
  {
    name: 'wrong-uid-map',
    breaks: 'maps every uid range to host ids one higher than declared',
    caughtBy: ['user.maps-equal-profile', 'user.bind-file-owner-mapped'],
    unaffected: ['uts.hostname-isolated', 'user.ids-equal-profile'],
    alter: alterProfile((p) => {
      p.user.uidMappings = p.user.uidMappings.map((m) => ({ ...m, hostId: m.hostId + 1 }));
    }),
  },
  {
    name: 'maps-extra-uid',
    // One more unprivileged host id, past every declared host range, owning nothing on the host.
    breaks: 'maps one container uid more than declared, right past the highest declared range',
    caughtBy: ['user.nested-map-within-parent', 'user.maps-equal-profile'],
    unaffected: ['user.ids-equal-profile', 'env.exact'],
    alter: alterProfile((p) => {
      const end = (ids: number[]) => Math.max(...ids);
      p.user.uidMappings = [...p.user.uidMappings, {
        containerId: end(p.user.uidMappings.map((m) => m.containerId + m.size)), hostId: end(p.user.uidMappings.map((m) => m.hostId + m.size)), size: 1,
      }];
    }),
  },
  {
    name: 'shares-host-user',
    // Host root with the declared capabilities nsrig itself holds (it cannot give more): the caught
    // invariant's probe only joins the harness's own sibling namespace to run true(1) there.
    breaks: "leaves the host's user namespace shared: the process is the host's root, with CAP_SYS_ADMIN where the profile grants it",
    caughtBy: ['user.foreign-namespace-join-refused'],
    unaffected: ['uts.hostname-isolated', 'env.exact'],
    alter: alterProfile((p) => {
      dropNamespace(p, 'user');
      const held = ownPermittedCapabilities();
      const c = p.process.capabilities;
      for (const set of ['bounding', 'permitted', 'effective', 'inheritable', 'ambient'] as const) c[set] = c[set].filter((cap) => held.includes(cap));
    }),
  },
  {
    name: 'shares-host-ipc',
    breaks: "leaves the host's IPC namespace shared (and mounts no mqueue)",
    caughtBy: ['ipc.host-objects-invisible', 'ipc.pair-objects-separate'],
    unaffected: ['net.only-loopback', 'user.maps-equal-profile'],
    alter: alterProfile((p) => {
      dropNamespace(p, 'ipc');
      p.mounts = p.mounts.filter((m) => m.type !== 'mqueue');
    }),
  },
  {
    name: 'shares-host-pid',
    // A new proc needs a PID namespace of its own; like runc without one, it binds the host's.
    breaks: "leaves the host's PID namespace shared, with the host's /proc bound read-only",
    caughtBy: ['pid.init-is-pid1', 'pid.host-processes-invisible', 'pid.host-signal-refused', 'pid.kill-init-ends-container', 'ptrace.host-process-unreachable'],
    unaffected: ['user.ids-equal-profile', 'env.exact'],
    alter: alterProfile((p) => {
      dropNamespace(p, 'pid');
      p.mounts = p.mounts.map((m) => (m.type === 'proc' ? readonlyBind('/proc', m.destination) : m));
    }),
  },
  {
    name: 'shares-host-net',
    breaks: "leaves the host's network namespace shared (and mounts no sysfs)",
    caughtBy: ['net.only-loopback', 'net.pair-same-port', 'net.host-listener-unreachable', 'net.host-bindings-unaffected'],
    unaffected: ['ipc.host-objects-invisible', 'user.maps-equal-profile'],
    alter: alterProfile((p) => {
      dropNamespace(p, 'net');
      p.mounts = p.mounts.filter((m) => m.type !== 'sysfs');
    }),
  },
  {
    name: 'shares-host-cgroup-ns',
    breaks: "leaves the host's cgroup namespace shared",
    caughtBy: ['cgroup.namespace-root'],
    unaffected: ['env.exact', 'dev.only-declared'],
    alter: alterProfile((p) => dropNamespace(p, 'cgroup')),
  },
  {
    name: 'ignores-time-offsets',
    breaks: 'creates the time namespace but sets no clock offsets',
    caughtBy: ['time.offsets-applied'],
    unaffected: ['env.exact', 'user.maps-equal-profile'],
    alter: alterProfile((p) => {
      delete p.timeOffsets;
    }),
  },
  {
    name: 'writable-readonly-bind',
    // The bind sources are host directories owned by host root, which the container's ids cannot write.
    breaks: 'binds the read-only bind mounts read-write',
    caughtBy: ['mnt.readonly-refuses-writes', 'mnt.no-writable-host-fs'],
    unaffected: ['mnt.root-not-shared', 'dev.only-declared'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'bind' ? remountedWith(m, m.options.filter((o) => o !== 'ro')) : m));
    }),
  },
  {
    name: 'ignores-tmpfs-mode',
    // What runc before 1.1.8 does (opencontainers/runc#3911), with a mode that differs from every
    // generated one and still lets any uid traverse to the probe's files below /tmp.
    breaks: 'mounts every tmpfs with mode 1733 whatever the profile declares',
    caughtBy: ['mnt.tmpfs-mode-applied'],
    unaffected: ['mnt.readonly-refuses-writes', 'env.exact'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'tmpfs' ? remountedWith(m, [...m.options.filter((o) => !o.startsWith('mode=')), 'mode=1733']) : m));
    }),
  },
  {
    // Not "shared": the built-in engine cannot pivot into a shared root (pivot_root EINVAL).
    name: 'unbindable-root',
    breaks: 'gives the root mount another propagation than declared (unbindable instead of private)',
    caughtBy: ['mnt.root-not-shared'],
    unaffected: ['mnt.no-mount-leak', 'mnt.readonly-refuses-writes'],
    alter: alterProfile((p) => {
      p.rootfs.propagation = 'unbindable';
    }),
  },
  {
    name: 'unmasked',
    breaks: 'masks no path',
    caughtBy: ['proc.masked-unreadable'],
    unaffected: ['proc.readonly-paths-unwritable', 'env.exact'],
    alter: alterProfile((p) => {
      p.maskedPaths = [];
    }),
  },
  {
    name: 'writable-proc-sys',
    breaks: 'makes no path read-only',
    caughtBy: ['proc.readonly-paths-unwritable'],
    unaffected: ['proc.masked-unreadable', 'env.exact'],
    alter: alterProfile((p) => {
      p.readonlyPaths = [];
    }),
  },
  {
    name: 'extra-device',
    breaks: 'adds a device the profile does not declare to /dev',
    caughtBy: ['dev.only-declared'],
    unaffected: ['dev.no-block-device', 'mnt.no-writable-host-fs'],
    alter: alterProfile((p) => {
      for (const m of p.mounts) {
        if (m.type !== 'dev') continue;
        const extra = DEVICE_NAMES.find((d) => !m.devices.includes(d));
        if (extra) m.devices = [...m.devices, extra];
      }
    }),
  },
  {
    name: 'extra-capability',
    // CAP_NET_ADMIN of the container's user namespace reaches at most its own network namespace.
    breaks: 'adds CAP_NET_ADMIN to the bounding, permitted and effective sets',
    caughtBy: ['caps.sets-as-declared'],
    unaffected: ['nnp.as-declared', 'user.ids-equal-profile'],
    alter: alterProfile((p) => {
      const c = p.process.capabilities;
      for (const set of ['bounding', 'permitted', 'effective'] as const) if (!c[set].includes('CAP_NET_ADMIN')) c[set] = [...c[set], 'CAP_NET_ADMIN'];
    }),
  },
  {
    name: 'no-no-new-privileges',
    breaks: 'never sets no_new_privs',
    // Not caps.sets-as-declared: for root, no_new_privs is what keeps the bounding set out of the permitted one.
    caughtBy: ['nnp.as-declared'],
    unaffected: ['user.ids-equal-profile', 'env.exact'],
    alter: alterProfile((p) => {
      p.process.noNewPrivileges = false;
    }),
  },
  {
    name: 'drops-seccomp',
    // The generated policies deny only calls that are harmless when made.
    breaks: 'installs no seccomp filter',
    caughtBy: ['seccomp.mode-filter-when-declared', 'seccomp.denied-returns-errno'],
    unaffected: ['nnp.as-declared', 'env.exact'],
    alter: alterProfile((p) => {
      delete p.seccomp;
    }),
  },
  {
    name: 'ignores-seccomp-args',
    // Denying getpriority for every argument is as harmless as denying it for one.
    breaks: "drops every seccomp rule's argument conditions, so a call is denied whatever its arguments",
    caughtBy: ['seccomp.argument-filter-applies'],
    unaffected: ['seccomp.denied-returns-errno', 'env.exact'],
    alter: alterProfile((p) => {
      for (const rule of (p.seccomp?.policy as { syscalls?: { args?: unknown }[] } | undefined)?.syscalls ?? []) delete rule.args;
    }),
  },
  {
    name: 'seccomp-actions-as-errno',
    // What a runtime that knows only ERRNO would do; the calls the generated rules name are harmless when made.
    breaks: 'gives every seccomp rule with another action SCMP_ACT_ERRNO (EPERM) instead',
    caughtBy: ['seccomp.actions-as-declared'],
    unaffected: ['seccomp.denied-returns-errno', 'env.exact'],
    alter: alterProfile((p) => {
      for (const rule of (p.seccomp?.policy as { syscalls?: { action?: string; errnoRet?: number }[] } | undefined)?.syscalls ?? []) {
        if (rule.action !== 'SCMP_ACT_ERRNO' && rule.action !== 'SCMP_ACT_ALLOW') {
          rule.action = 'SCMP_ACT_ERRNO';
          delete rule.errnoRet;
        }
      }
    }),
  },
  {
    name: 'ignores-pids-limit',
    breaks: 'sets no pids limit on the container\'s cgroup',
    caughtBy: ['resources.pids-limit-holds'],
    unaffected: ['cgroup.namespace-root', 'env.exact'],
    alter: dropResource('pids'),
  },
  {
    name: 'ignores-memory-limit',
    // What the probe then allocates is bounded (the limit plus a few MiB), so the host is not pressed.
    breaks: "sets no memory limit on the container's cgroup",
    caughtBy: ['resources.memory-limit-oom-kills'],
    unaffected: ['resources.pids-limit-holds', 'env.exact'],
    alter: dropResource('memory'),
  },
  {
    name: 'ignores-cpu-resources',
    breaks: 'sets no cpu shares, quota, period, cpus or mems',
    caughtBy: ['resources.cpu-as-declared'],
    unaffected: ['resources.pids-limit-holds', 'env.exact'],
    alter: dropResource('cpu'),
  },
  {
    name: 'ignores-blockio-weight',
    breaks: 'sets no blockIO weight',
    caughtBy: ['resources.blockio-weight-as-declared'],
    unaffected: ['resources.cpu-as-declared', 'env.exact'],
    alter: dropResource('blockIO'),
  },
  {
    name: 'ignores-noexec',
    // The only tmpfs declared noexec is the generated one any uid may write to; running true(1) there harms nothing.
    breaks: 'mounts every tmpfs without noexec',
    caughtBy: ['mnt.noexec-refuses-exec'],
    unaffected: ['mnt.tmpfs-mode-applied', 'env.exact'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'tmpfs' ? remountedWith(m, m.options.filter((o) => o !== 'noexec')) : m));
    }),
  },
  {
    name: 'ignores-nosuid',
    // The set-user-ID copy the probe runs is owned by the container's root, an unprivileged id on the host.
    breaks: 'mounts every tmpfs without nosuid',
    caughtBy: ['mnt.nosuid-ignores-setuid'],
    unaffected: ['mnt.tmpfs-mode-applied', 'env.exact'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'tmpfs' ? remountedWith(m, m.options.filter((o) => o !== 'nosuid')) : m));
    }),
  },
  {
    name: 'ignores-nodev',
    // The only device node made on a tmpfs is the probe's null (1:3), removed once opened.
    breaks: 'mounts every tmpfs without nodev',
    caughtBy: ['mnt.nodev-refuses-devices'],
    unaffected: ['mnt.tmpfs-mode-applied', 'env.exact'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'tmpfs' ? remountedWith(m, m.options.filter((o) => o !== 'nodev')) : m));
    }),
  },
  {
    name: 'ignores-rro',
    // What the bind's submounts expose is the harness's own tmpfs, which any uid may write anyway.
    breaks: 'makes a recursive read-only bind read-only at its top only (drops rro)',
    caughtBy: ['mnt.recursive-readonly-submounts'],
    unaffected: ['mnt.readonly-refuses-writes', 'env.exact'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'bind' ? remountedWith(m, m.options.filter((o) => o !== 'rro')) : m));
    }),
  },
  {
    name: 'private-binds',
    // What the engine did before it cloned bind sources ahead of make-mounts-private; private sends and receives nothing.
    breaks: 'makes every bind private whatever propagation it declares',
    caughtBy: ['mnt.bind-propagation-as-declared'],
    unaffected: ['mnt.no-host-mount-after-start', 'mnt.readonly-refuses-writes'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'bind' ? remountedWith(m, [...m.options.filter((o) => !PROPAGATION_OPTION_NAMES.includes(o)), 'private']) : m));
    }),
  },
  {
    name: 'follows-rootfs-symlinks',
    // What a runtime that makes mount points with a plain mkdir -p does (CVE-2019-19921 class); only
    // a rootfs directory other than / has such links, and the harness's own lead into its fixture directory.
    breaks: 'creates each mount point of a rootfs directory on the host first, following a symlink there out of the rootfs',
    caughtBy: ['mnt.hostile-rootfs-contained'],
    unaffected: ['mnt.no-mount-leak', 'mnt.readonly-refuses-writes'],
    alter: alterProfile((p) => {
      if (p.rootfs.path === '/') return;
      for (const m of p.mounts) {
        const point = path.join(p.rootfs.path, m.destination);
        if (fs.lstatSync(point, { throwIfNoEntry: false })?.isSymbolicLink()) fs.mkdirSync(path.resolve(path.dirname(point), fs.readlinkSync(point)), { recursive: true });
      }
    }),
  },
  {
    name: 'ignores-rlimits-umask',
    // The limits and umask left are the ones nsrig itself runs with.
    breaks: 'sets no rlimits and no umask',
    caughtBy: ['process.limits-as-declared'],
    unaffected: ['env.exact', 'user.ids-equal-profile'],
    alter: alterProfile((p) => {
      p.process.rlimits = [];
      delete p.process.umask;
    }),
  },
  {
    name: 'ignores-sysctl',
    breaks: 'writes no declared kernel parameter',
    caughtBy: ['sysctl.values-applied', 'sysctl.shared-namespace-refused'],
    unaffected: ['net.only-loopback', 'ipc.host-objects-invisible'],
    alter: alterProfile((p) => {
      delete p.sysctl;
    }),
  },
  {
    name: 'writable-cgroupfs',
    // Without a user namespace the container's root owns its own cgroup's files: the probe opens them unwritten, and removes the child cgroup it could make.
    breaks: 'mounts the cgroup filesystem read-write whatever its options say',
    caughtBy: ['cgroup.filesystem-readonly'],
    unaffected: ['cgroup.namespace-root', 'env.exact'],
    alter: alterProfile((p) => {
      p.mounts = p.mounts.map((m) => (m.type === 'cgroup' || m.type === 'cgroup2' ? remountedWith(m, [...m.options.filter((o) => o !== 'ro'), 'rw']) : m));
    }),
  },
  {
    name: 'drops-refused-sysctl',
    // Nothing is written to the host's namespaces: the parameter is left out instead of refused.
    breaks: 'leaves out, instead of refusing the container, a kernel parameter of a namespace it shares with the host',
    caughtBy: ['sysctl.shared-namespace-refused'],
    unaffected: ['sysctl.values-applied', 'net.only-loopback'],
    alter: alterProfile((p) => {
      p.sysctl = Object.fromEntries(Object.entries(p.sysctl ?? {}).filter(([name]) => p.namespaces.includes(sysctlNamespace(name)!)));
    }),
  },
  {
    name: 'runs-as-root',
    breaks: 'runs the program as uid 0 and gid 0 of the container instead of the declared user',
    caughtBy: ['user.ids-equal-profile'],
    unaffected: ['user.maps-equal-profile', 'env.exact'],
    alter: alterProfile((p) => {
      p.process.uid = 0;
      p.process.gid = 0;
    }),
  },
  {
    name: 'setgroups-allowed',
    breaks: 'writes "allow" to setgroups whatever the profile says',
    caughtBy: ['user.setgroups-as-declared'],
    unaffected: ['user.maps-equal-profile', 'env.exact'],
    alter: alterProfile((p) => {
      p.user.setgroups = 'allow';
    }),
  },
  {
    name: 'leaks-env',
    breaks: 'adds a variable to the environment',
    caughtBy: ['env.exact'],
    unaffected: ['user.ids-equal-profile', 'dev.only-declared'],
    alter: alterProfile((p) => {
      p.process.env = { ...p.process.env, NSRIG_DOUBLE: 'leaked' };
    }),
  },
  {
    name: 'sets-wrong-home',
    breaks: 'sets HOME, when the profile has none, to a directory /etc/passwd does not give the user',
    caughtBy: ['env.exact'],
    unaffected: ['user.ids-equal-profile', 'dev.only-declared'],
    alter: alterProfile((p) => {
      if (!Object.hasOwn(p.process.env, 'HOME')) p.process.env = { ...p.process.env, HOME: '/nsrig-double-home' };
    }),
  },
  {
    name: 'keeps-session-keyring',
    breaks: "leaves the container in nsrig's session keyring (runc --no-new-keyring)",
    caughtBy: ['keyring.host-key-invisible'],
    unaffected: ['user.maps-equal-profile', 'env.exact'],
    alter: (request) => ({ ...request, noNewKeyring: true }),
  },
  {
    name: 'leaks-fd',
    // A shell opens fd 7 without close-on-exec and execs the real command line, which inherits it.
    breaks: 'starts the program with descriptor 7 open on /dev/null',
    caughtBy: ['fd.only-stdio-inherited'],
    unaffected: ['fd.no-host-directory', 'pid.init-is-pid1'],
    alter: (request) => ({
      ...request,
      args: ['/bin/sh', '-c', 'exec 7</dev/null; exec "$@"', 'sh', ...(request.args ?? request.profile.process.args)],
    }),
  },
  {
    name: 'joins-from-writable-node',
    breaks: "runs an exec's stage 2 straight from a host copy of Node that any uid may write, so the joining process is dumpable "
      + 'and its /proc/PID/exe is a host file the container can reopen for writing once stage 2 has exec\'d the program',
    caughtBy: ['exec.runtime-binary-not-writable', 'exec.joining-process-unreachable'],
    unaffected: ['exec.joins-init-namespaces', 'exec.env-as-given'],
    alter: (request) => request,
    engine: () => new BuiltinTarget({ stage2From: writableNodeCopy }),
  },
];

export function breakage(name: string): Breakage {
  const found = BREAKAGES.find((b) => b.name === name);
  if (!found) throw new Error(`no broken target named ${name}; known: ${BREAKAGES.map((b) => b.name).join(', ')}`);
  return found;
}
