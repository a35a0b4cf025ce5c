// A Profile compiled into what the launcher and stage 2 need: plain JSON data, checked once on
// the host, so stage 2 only executes and never interprets a profile.
import fs from 'node:fs';
import type { DeviceNode, IdMapping, Mount, NamespaceType, Personality, Profile, Rlimit } from '../policy/profile/types.js';
import { sysctlNamespace, sysctlPath } from '../policy/profile/sysctl.js';
import { isOwnNetworkNamespace } from '../policy/profile/namespace-paths.js';
import { LaunchError } from './launch-error.js';
import { CAPABILITY_NAMES, capabilityMask } from '../policy/kernel/capabilities.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { MOUNT_ATTR, MS } from '../policy/kernel/mount-flags.js';
import { mountOptionEffect } from '../policy/profile/mount-options.js';
import { ProfileError } from '../policy/profile/profile-error.js';
import { plannedHooks, type ContainerState, type PlannedHook } from './container-hooks.js';
import type { PausePoint } from './kernel.js';

export interface CapabilityPlan {
  /** Capability numbers to drop from the bounding set. */
  dropFromBounding: number[];
  /** 64-bit masks as decimal strings (JSON has no bigint). */
  effective: string;
  permitted: string;
  inheritable: string;
  ambient: number[];
}

/** A mount with the kernel calls its options ask for, worked out on the host. */
export interface PlannedMount {
  mount: Mount;
  /** MS_* flags for mount(2) of a new filesystem (a bind's are carried out as bindAttributes). */
  flags: number;
  /** The filesystem's data string, or null for none. */
  data: string | null;
  /**
   * A bind's own mount flags, set exactly as runc's bind remount sets them (what is not declared
   * is cleared); absent when its options declare no flag, so it keeps its source's.
   */
  bindAttributes?: { set: number; clear: number };
  /** MOUNT_ATTR_* set and cleared on the mount and every mount below it (the r* options). */
  recursiveAttributes?: { set: number; clear: number };
  /** MS_* propagation changes, in order, made once the root is in place. */
  propagation: number[];
}

export interface LaunchPlan {
  namespaces: NamespaceType[];
  /** Namespaces stage 2 enters with setns(2) instead of creating them: the file and its CLONE_NEW* type (net, ipc, uts). */
  joinNamespaces: { type: NamespaceType; path: string; flag: number }[];
  /**
   * Every joined namespace as /proc/self/ns shows it ("net:[4026532008]"), which stage 2 checks
   * before its first step: those joined before it ran were joined by the clone chain, which
   * cannot stop on a refused setns.
   */
  joinedLinks: Record<string, string>;
  /** Files below /proc/sys and what is written to each, in the container's namespaces. */
  sysctl: { path: string; value: string }[];
  /** HOME from the container's /etc/passwd, since the environment has none (runc, crun and youki do the same). */
  homeFromPasswd: boolean;
  umask?: number;
  personality?: Personality;
  hostname?: string;
  domainname?: string;
  /** Absent when the profile has no mount namespace: then the host's mounts are used as they are. */
  rootfs?: Profile['rootfs'];
  mounts: PlannedMount[];
  /** nsrig's own files, cloned read-only by the launcher, attached after the mounts (LaunchOptions.nsrigTreeAt). */
  treeBinds: { tree: number; destination: string }[];
  maskedPaths: string[];
  readonlyPaths: string[];
  devices: DeviceNode[];
  loopback: boolean;
  /** The container end of the profile's veth pair: the parent creates it, stage 2 addresses it and brings it up. */
  veth?: { interfaceName: string; address: string; prefixLength: number };
  timeOffsets?: { monotonic: number; boottime: number };
  rlimits: Rlimit[];
  cwd: string;
  uid: number;
  gid: number;
  /** Undefined leaves the supplementary groups alone (setgroups is denied in the user namespace). */
  additionalGids?: number[];
  capabilities: CapabilityPlan;
  noNewPrivileges: boolean;
  /**
   * Join a new session keyring (runc and crun do by default): otherwise the container keeps
   * nsrig's, and possesses every key in it. False only for `runc --no-new-keyring`'s behaviour.
   */
  newSessionKeyring: boolean;
  /**
   * Compiled seccomp BPF programs (struct sock_filter arrays, base64), installed in this order:
   * the profile's policy, then any the launcher adds (a tracer's SECCOMP_RET_TRACE filter).
   */
  seccompPrograms: string[];
  /**
   * Stage 2 calls close(START_MARKER) right before its seccomp steps and execve: an eBPF tracer
   * watching the container's cgroup starts counting at the execve that follows.
   */
  traceStartMarker?: number;
  /**
   * The hooks stage 2 runs inside the container's namespaces (config.md), and the state they read,
   * less the pid, which stage 2 fills in as the container sees it. Absent when there are none.
   */
  hooks?: { createContainer: PlannedHook[]; startContainer: PlannedHook[]; state: Omit<ContainerState, 'pid'> };
  args: string[];
  env: string[];
  /** Descriptor numbers stage 2 receives (its own fd table). */
  /**
   * console: stage 2's end of the unix socket the pty master is sent back on, with terminal only.
   * control: the pipe the step list came on, where a byte resumes stage 2 from a pause.
   */
  fds: { report: number; stdin: number; stdout: number; stderr: number; console?: number; control?: number };
  /** Where stage 2 holds for the parent (core/parent-steps.ts pausePoints), in launch order. */
  pauses: PausePoint[];
  /** pids.max as declared, written by stage 2 through fd (the parent's) once it needs no new task: below what stage 2 itself runs with. */
  lowerPidsLimit?: { fd: number; value: string };
  /** The program's stdio is a pty from the container's devpts, its controlling terminal. */
  terminal?: { consoleSize?: { height: number; width: number } };
}

const NAMESPACE_FLAGS: Readonly<Record<NamespaceType, number>> = {
  user: CLONE.NEWUSER, pid: CLONE.NEWPID, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, net: CLONE.NEWNET, mnt: CLONE.NEWNS,
  cgroup: CLONE.NEWCGROUP, time: CLONE.NEWTIME,
};

/** The profile's namespaces that are made new, not joined through a path. */
export function createdNamespaces(profile: Profile): NamespaceType[] {
  return profile.namespaces.filter((ns) => profile.namespacePaths?.[ns] === undefined);
}

/**
 * Where each joined namespace is entered. A Node process has threads: setns(2) into a mount or
 * time namespace needs a single-threaded caller (EINVAL, EUSERS), so the clone chain enters those
 * (and cgroup with them) before it execs stage 2; a pid namespace holds only the children of the
 * one who enters it, so nsrig's own thread enters it around the clone and goes back; net, ipc and
 * uts are entered by stage 2, as its first step.
 *
 * A joined user namespace must be entered before the namespaces the container creates, so that they
 * belong to it, and a namespace joined beside a new user namespace before that one exists, while
 * the host's root still holds its capabilities over it: no point above is early enough, so a
 * joining process enters them all, in runc's order, and clones stage 2 (core/native/joining-clone.ts).
 */
export type JoinPoint = 'clone-chain' | 'clone-thread' | 'stage2' | 'joining-process';
const JOIN_POINT: Readonly<Record<Exclude<NamespaceType, 'user'>, JoinPoint>> = {
  mnt: 'clone-chain', cgroup: 'clone-chain', time: 'clone-chain', pid: 'clone-thread',
  net: 'stage2', ipc: 'stage2', uts: 'stage2',
};

/** runc's order of joins (configs.NamespaceTypes, user first), which its nsexec enters them in. */
const JOIN_ORDER: readonly NamespaceType[] = ['user', 'ipc', 'uts', 'net', 'pid', 'mnt', 'cgroup', 'time'];

/** The profile's namespaces joined by path, in runc's order. */
function joinedNamespaces(profile: Profile): NamespaceType[] {
  return JOIN_ORDER.filter((ns) => profile.namespaces.includes(ns) && profile.namespacePaths?.[ns] !== undefined);
}

/** Every join is made by a joining process before the clone: a joined user namespace, or any join beside a new one. */
export function joinsBeforeClone(profile: Profile): boolean {
  const joined = joinedNamespaces(profile);
  return joined.includes('user') || (profile.namespaces.includes('user') && joined.length > 0);
}

/** The profile's joined namespaces entered at `point`, in runc's order. */
export function joinedAt(profile: Profile, point: JoinPoint): { type: NamespaceType; path: string }[] {
  const first = joinsBeforeClone(profile);
  return joinedNamespaces(profile).filter((ns) => (first ? 'joining-process' : JOIN_POINT[ns as Exclude<NamespaceType, 'user'>]) === point)
    .map((type) => ({ type, path: profile.namespacePaths![type]! }));
}

/** /proc/self/ns's link text for the namespace file at `file` (nsfs inode numbers are the namespace's), or a placeholder naming the file. */
function namespaceLink(type: NamespaceType, file: string): string {
  try {
    return `${type}:[${fs.statSync(file).ino}]`;
  } catch {
    return `${type}:[inode of ${file}]`;
  }
}

/** The CLONE_NEW* flag of a namespace type, which is also what setns(2) and NS_GET_NSTYPE use for it. */
export function namespaceFlag(ns: NamespaceType): number {
  return NAMESPACE_FLAGS[ns];
}

/** clone(2) flags for the namespaces that can be created at clone time. */
export function cloneFlagsFor(namespaces: readonly NamespaceType[]): number {
  // cgroup and time are entered by stage 2: cgroup after the parent placed it in its cgroup, so
  // that cgroup becomes the namespace root; time because CLONE_NEWTIME is refused by clone().
  const flags: Partial<Record<NamespaceType, number>> = {
    user: CLONE.NEWUSER, pid: CLONE.NEWPID, uts: CLONE.NEWUTS, ipc: CLONE.NEWIPC, net: CLONE.NEWNET, mnt: CLONE.NEWNS,
  };
  return namespaces.reduce((acc, ns) => acc | (flags[ns] ?? 0), 0);
}

/** What the parent writes to /proc/PID/ of a child in a new user namespace, in this order. */
export function idMapWrites(profile: Profile): { file: 'setgroups' | 'uid_map' | 'gid_map'; data: string }[] {
  if (!createdNamespaces(profile).includes('user')) return [];
  const format = (maps: IdMapping[]) => maps.map((m) => `${m.containerId} ${m.hostId} ${m.size}\n`).join('');
  // setgroups must be written before gid_map (user_namespaces(7)).
  return [
    { file: 'setgroups', data: profile.user.setgroups },
    { file: 'uid_map', data: format(profile.user.uidMappings) },
    { file: 'gid_map', data: format(profile.user.gidMappings) },
  ];
}

export function capabilityPlan(caps: Profile['process']['capabilities']): CapabilityPlan {
  const bounding = new Set(caps.bounding);
  return {
    dropFromBounding: CAPABILITY_NAMES.map((name, n) => (bounding.has(name) ? -1 : n)).filter((n) => n >= 0),
    effective: capabilityMask(caps.effective).toString(),
    permitted: capabilityMask(caps.permitted).toString(),
    inheritable: capabilityMask(caps.inheritable).toString(),
    ambient: caps.ambient.map((name) => CAPABILITY_NAMES.indexOf(name)),
  };
}

/**
 * Each sysctl is written from inside the container's namespaces, so one of a namespace it shares
 * would land in the host's: refused, as runc and crun refuse it (the loader refuses it too; this
 * holds for a Profile built in code).
 */
function sysctlPlan(profile: Profile): LaunchPlan['sysctl'] {
  return Object.entries(profile.sysctl ?? {}).map(([name, value]) => {
    const ns = sysctlNamespace(name);
    if (ns === undefined || !profile.namespaces.includes(ns)) {
      throw new LaunchError(`sysctl ${name} ${ns === undefined ? 'is not namespaced' : `belongs to the ${ns} namespace, which this container shares with the host`}: `
        + `writing it would change the host's; ${ns === undefined ? 'leave it out' : `declare ${ns} in namespaces`}`, 'sysctl');
    }
    const joinedNet = profile.namespacePaths?.net;
    if (ns === 'net' && joinedNet !== undefined && isOwnNetworkNamespace(joinedNet)) {
      throw new LaunchError(`sysctl ${name}: namespacePaths.net (${joinedNet}) is nsrig's own network namespace, the host's: `
        + 'writing it would change the host\'s; join another or leave the sysctl out', 'sysctl');
    }
    return { path: sysctlPath(name), value };
  });
}

/** The container's end of a veth pair is always eth0, as a container expects. */
function vethPlan(profile: Profile): LaunchPlan['veth'] {
  const veth = profile.network.veth;
  if (!veth) return undefined;
  // The validator demands it too; without it the container's end would land in the host's namespace.
  if (!profile.namespaces.includes('net')) throw new ProfileError(profile.source, 'network.veth', 'the net namespace in namespaces', 'no net namespace', 'network.veth requires the net namespace');
  const [address, prefixLength] = veth.containerAddress.split('/');
  return { interfaceName: 'eth0', address: address!, prefixLength: Number(prefixLength) };
}

const BIND_FLAGS = MS.BIND | MS.REC | MS.REMOUNT;
const ATIME_FLAGS = MS.NOATIME | MS.NODIRATIME | MS.RELATIME | MS.STRICTATIME;

/**
 * The MOUNT_ATTR_* form of a bind remount with these MS_* flags (mount(2)): every per-mount flag
 * not declared is cleared, except the atime mode, which a remount keeps unless one is declared.
 */
function bindAttributes(flags: number): { set: number; clear: number } {
  const pairs: [number, number][] = [
    [MS.RDONLY, MOUNT_ATTR.RDONLY], [MS.NOSUID, MOUNT_ATTR.NOSUID], [MS.NODEV, MOUNT_ATTR.NODEV], [MS.NOEXEC, MOUNT_ATTR.NOEXEC],
    [MS.NOSYMFOLLOW, MOUNT_ATTR.NOSYMFOLLOW],
  ];
  if (flags & ATIME_FLAGS) pairs.push([MS.NODIRATIME, MOUNT_ATTR.NODIRATIME]);
  let set = 0;
  let clear = 0;
  for (const [ms, attr] of pairs) {
    if (flags & ms) set |= attr;
    else clear |= attr;
  }
  if (flags & ATIME_FLAGS) {
    clear |= MOUNT_ATTR._ATIME;
    set |= flags & MS.NOATIME ? MOUNT_ATTR.NOATIME : flags & MS.STRICTATIME ? MOUNT_ATTR.STRICTATIME : MOUNT_ATTR.RELATIME;
  }
  return { set, clear };
}

export function plannedMount(mount: Mount): PlannedMount {
  const effect = mountOptionEffect(mount.options);
  const { set, clear } = effect.recursive;
  return {
    mount,
    flags: effect.flags & ~BIND_FLAGS,
    data: effect.data.length > 0 ? effect.data.join(',') : null,
    ...(mount.type === 'bind' && (effect.flags & ~BIND_FLAGS) !== 0 ? { bindAttributes: bindAttributes(effect.flags) } : {}),
    ...(set !== 0 || clear !== 0 ? { recursiveAttributes: { set, clear } } : {}),
    propagation: effect.propagation,
  };
}

export function compilePlan(
  profile: Profile,
  fds: LaunchPlan['fds'],
  options: {
    args?: string[]; seccompPrograms?: Buffer[]; noNewKeyring?: boolean; traceStartMarker?: number; hookState?: Omit<ContainerState, 'pid'>;
    lowerPidsLimit?: { fd: number; value: string }; pauses?: PausePoint[];
  } = {},
): LaunchPlan {
  const p = profile.process;
  const hasMnt = profile.namespaces.includes('mnt');
  const setgroupsAllowed = !profile.namespaces.includes('user') || profile.user.setgroups === 'allow';
  const joined = Object.entries(profile.namespacePaths ?? {}) as [NamespaceType, string][];
  return {
    namespaces: [...profile.namespaces],
    joinNamespaces: joinedAt(profile, 'stage2').map(({ type, path }) => ({ type, path, flag: namespaceFlag(type) })),
    joinedLinks: Object.fromEntries(joined.map(([type, file]) => [type, namespaceLink(type, file)])),
    sysctl: sysctlPlan(profile),
    homeFromPasswd: !Object.hasOwn(p.env, 'HOME'),
    ...(p.umask === undefined ? {} : { umask: p.umask }),
    ...(p.personality === undefined ? {} : { personality: p.personality }),
    ...(options.lowerPidsLimit === undefined ? {} : { lowerPidsLimit: options.lowerPidsLimit }),
    ...(p.terminal === true ? { terminal: p.consoleSize === undefined ? {} : { consoleSize: { ...p.consoleSize } } } : {}),
    hostname: profile.hostname,
    domainname: profile.domainname,
    rootfs: hasMnt ? { ...profile.rootfs } : undefined,
    mounts: hasMnt ? profile.mounts.map(plannedMount) : [],
    treeBinds: [],
    maskedPaths: hasMnt ? profile.maskedPaths : [],
    readonlyPaths: hasMnt ? profile.readonlyPaths : [],
    devices: hasMnt ? profile.devices ?? [] : [],
    // A joined network namespace is someone else's: its interfaces are left as they are, as runc leaves them.
    loopback: createdNamespaces(profile).includes('net') && profile.network.loopback,
    veth: vethPlan(profile),
    timeOffsets: profile.timeOffsets,
    rlimits: p.rlimits,
    cwd: p.cwd,
    uid: p.uid,
    gid: p.gid,
    additionalGids: setgroupsAllowed ? p.additionalGids : undefined,
    capabilities: capabilityPlan(p.capabilities),
    noNewPrivileges: p.noNewPrivileges,
    newSessionKeyring: !options.noNewKeyring,
    seccompPrograms: (options.seccompPrograms ?? []).map((p) => p.toString('base64')),
    traceStartMarker: options.traceStartMarker,
    ...(options.hookState !== undefined && (profile.hooks?.createContainer !== undefined || profile.hooks?.startContainer !== undefined) ? {
      hooks: {
        createContainer: plannedHooks(profile.hooks, 'createContainer'), startContainer: plannedHooks(profile.hooks, 'startContainer'),
        state: options.hookState,
      },
    } : {}),
    pauses: options.pauses ?? [],
    args: options.args ?? p.args,
    env: Object.entries(p.env).map(([k, v]) => `${k}=${v}`),
    fds,
  };
}
