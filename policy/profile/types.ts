// The resolved profile: every field present, defaults applied, validated. Loaders turn YAML,
// JSON or an OCI config.json into this; the engine, the OCI bundle writer and the harness
// consume only this shape.

export const NAMESPACE_TYPES = ['user', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'mnt', 'time'] as const;
export type NamespaceType = (typeof NAMESPACE_TYPES)[number];

/** The six namespaces of the classic model: what a profile gets when it names none. */
export const DEFAULT_NAMESPACES: readonly NamespaceType[] = ['pid', 'net', 'mnt', 'uts', 'ipc', 'user'];

/** One contiguous id range: containerId..containerId+size-1 inside is hostId.. on the host. */
export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

export interface UserNamespaceConfig {
  uidMappings: IdMapping[];
  gidMappings: IdMapping[];
  /** "deny" writes deny to /proc/PID/setgroups before gid_map, as user_namespaces(7) requires. */
  setgroups: 'allow' | 'deny';
}

export interface RootfsConfig {
  /** "/" means the host's root, cloned and made read-only (nothing needs an image). */
  path: string;
  readonly: boolean;
  /** Propagation of the container's root mount. Private unless the profile says otherwise. */
  propagation: 'private' | 'slave' | 'shared' | 'unbindable';
}

export const DEVICE_NAMES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;
export type DeviceName = (typeof DEVICE_NAMES)[number];

/**
 * `options` is the whole option list the mount is made with, as an OCI config writes it (runc's
 * reading of each: policy/profile/mount-options.ts); the other fields are what it implies, kept
 * for readers that only ask "read-only?" or "which mode?".
 */
export type Mount =
  | { type: 'proc'; destination: string; options: string[] }
  | { type: 'sysfs'; destination: string; options: string[]; readonly: boolean }
  | { type: 'tmpfs'; destination: string; options: string[]; sizeBytes?: number; mode: number; readonly: boolean }
  | { type: 'bind'; source: string; destination: string; options: string[]; readonly: boolean; recursive: boolean }
  | { type: 'mqueue'; destination: string; options: string[] }
  | { type: 'dev'; destination: string; options: string[]; devices: DeviceName[] }
  | { type: 'devpts'; destination: string; options: string[] }
  /** The host's cgroup layout as runc mounts it: cgroup2 on a unified host, a tmpfs of v1 hierarchies otherwise. */
  | { type: 'cgroup'; destination: string; options: string[] }
  | { type: 'cgroup2'; destination: string; options: string[] }
  /** Any other filesystem, by the name mount(2) takes. */
  | { type: 'filesystem'; fsType: string; source: string; destination: string; options: string[] };

export type MountType = Mount['type'];

/**
 * A device node or FIFO made in the container (OCI linux.devices): c, b and u are character,
 * block and unbuffered character devices, p a FIFO (whose numbers are 0).
 */
export interface DeviceNode {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface VethConfig {
  /** Address of the host end, CIDR notation, e.g. 10.200.0.1/30. */
  hostAddress: string;
  /** Address of the container end (eth0), CIDR notation. */
  containerAddress: string;
}

export interface NetworkConfig {
  loopback: boolean;
  veth?: VethConfig;
}

export const CAPABILITY_SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;
export type CapabilitySet = (typeof CAPABILITY_SETS)[number];
export type Capabilities = Record<CapabilitySet, string[]>;

export interface Rlimit {
  /** RLIMIT_NOFILE, RLIMIT_NPROC, ... */
  type: string;
  /** Integers; Infinity stands for RLIM_INFINITY, which no JavaScript number holds exactly. */
  soft: number;
  hard: number;
}

export interface ProcessConfig {
  args: string[];
  /**
   * Exactly the environment of the contained program: nothing is inherited unless listed, but for
   * HOME, which the engine adds when absent, as runc, crun and youki do: the user's home in the
   * container's /etc/passwd, or /.
   */
  env: Record<string, string>;
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  capabilities: Capabilities;
  noNewPrivileges: boolean;
  rlimits: Rlimit[];
  /** Whole-container wall-clock limit in milliseconds; the container is killed when it passes. */
  timeoutMs: number;
  /** The file mode creation mask; absent leaves the one nsrig itself runs with. */
  umask?: number;
  /** Written to /proc/PID/oom_score_adj by the launcher before the program runs; absent leaves the inherited one. */
  oomScoreAdj?: number;
  /** The execution domain (personality(2)): linux32 makes uname(2) report a 32-bit machine. Absent leaves it as inherited. */
  personality?: Personality;
  /**
   * The program's stdio is a pseudo-terminal from the container's own devpts, its controlling
   * terminal; `nsrig run` relays it to the user's terminal (or hands the master to a console socket).
   */
  terminal?: boolean;
  /** The terminal's size in characters, set before the program starts; only with terminal. */
  consoleSize?: { height: number; width: number };
}

export const PERSONALITIES = ['linux', 'linux32'] as const;
export type Personality = (typeof PERSONALITIES)[number];

export interface TimeOffsets {
  monotonicNs: bigint | number;
  boottimeNs: bigint | number;
}

export interface SeccompReference {
  /** Path of an OCI seccomp JSON file, when the policy came from a file. */
  path?: string;
  /** The policy itself (OCI seccomp JSON shape), loaded and validated by policy/seccomp. */
  policy: unknown;
}

/**
 * One rule of the device allow-list (runtime-spec linux.resources.devices): rules apply in order
 * and a later rule overrides an earlier one. major/minor -1 stand for "any" (the spec's absent).
 */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number;
  minor: number;
  /** Some of r, w, m, each once. */
  access: string;
}

export interface BlockIoThrottle {
  major: number;
  minor: number;
  rate: number;
}

/**
 * The container's cgroup limits, in the runtime-spec's own shape and names (config-linux.md
 * "Control groups"). A field left out, or 0 where runc reads 0 as "not set", leaves the kernel's
 * default in place.
 */
export interface Resources {
  pids?: { limit: number };
  memory?: { limit?: number; reservation?: number; swap?: number; swappiness?: number; disableOOMKiller?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string };
  blockIO?: {
    weight?: number;
    throttleReadBpsDevice?: BlockIoThrottle[];
    throttleWriteBpsDevice?: BlockIoThrottle[];
    throttleReadIOPSDevice?: BlockIoThrottle[];
    throttleWriteIOPSDevice?: BlockIoThrottle[];
  };
  hugepageLimits?: { pageSize: string; limit: number }[];
  /** cgroup v2 interface files and the values written to them, as given. */
  unified?: Record<string, string>;
  devices?: DeviceRule[];
}

/**
 * The runtime-spec's hook kinds (config.md "POSIX-platform Hooks") in the order a container's life
 * reaches them (runtime.md "Lifecycle"). prestart is deprecated by the spec but still written by
 * Docker and Podman; it runs where createRuntime runs, before it.
 */
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

/** One hook: a program run with the container's state JSON on its stdin. */
export interface Hook {
  /** Absolute; resolved in the runtime's namespaces, or in the container's for startContainer. */
  path: string;
  /** argv as execv(3) takes it, argv[0] included; empty means [path]. */
  args: string[];
  /** The whole environment, "NAME=value" each; nothing is inherited. */
  env: string[];
  /** Whole seconds after which the hook is killed and counts as failed; absent waits for it. */
  timeoutSeconds?: number;
}

export type Hooks = Partial<Record<HookKind, Hook[]>>;

export interface Profile {
  /** Where it came from, for messages: a file path or "<generated>". */
  source: string;
  name: string;
  namespaces: NamespaceType[];
  hostname?: string;
  domainname?: string;
  user: UserNamespaceConfig;
  rootfs: RootfsConfig;
  mounts: Mount[];
  maskedPaths: string[];
  readonlyPaths: string[];
  /** Device nodes besides /dev's defaults; absent when there are none. */
  devices?: DeviceNode[];
  network: NetworkConfig;
  process: ProcessConfig;
  /** Whole seconds added to CLOCK_MONOTONIC and CLOCK_BOOTTIME inside the time namespace. */
  timeOffsets?: { monotonic: number; boottime: number };
  seccomp?: SeccompReference;
  /** Limits and the device allow-list, applied through the container's cgroup. */
  resources?: Resources;
  /**
   * Where the container's cgroup goes, as runc's cgroupfs driver reads linux.cgroupsPath: an
   * absolute path is below each hierarchy's root, a relative one below nsrig's own cgroup.
   * Absent: nsrig/<container id> below each hierarchy's root.
   */
  cgroupsPath?: string;
  /** Kernel parameters written in the container's own namespaces ("net.ipv4.ip_forward": "1"), each allowed only with its namespace. */
  sysctl?: Record<string, string>;
  /** Namespaces joined instead of created: a path such as /run/netns/NAME per namespace type. */
  namespacePaths?: Partial<Record<NamespaceType, string>>;
  /** Programs run around the container's life (OCI hooks); absent when there are none. */
  hooks?: Hooks;
}

/** OCI runtime-spec defaults (config-linux.md, runc's spec template). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = [
  '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger',
];
/** Docker's default capability set, the usual least-surprise choice. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
