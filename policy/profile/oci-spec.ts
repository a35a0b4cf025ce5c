// The part of the OCI runtime-spec (config.md, config-linux.md) that profiles map to, and the
// names both directions of the mapping share.
import type { HookKind, NamespaceType } from './types.js';

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** RLIM_INFINITY does not fit a JavaScript number, so it is a bigint here; ociConfigJson writes it exactly. */
export interface OciRlimit {
  type: string;
  soft: number | bigint;
  hard: number | bigint;
}

export interface OciRuntimeConfig {
  ociVersion: string;
  process: {
    terminal: boolean;
    consoleSize?: { height: number; width: number };
    user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    rlimits: OciRlimit[];
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  hostname?: string;
  domainname?: string;
  mounts: OciMount[];
  linux: {
    namespaces: { type: string; path?: string }[];
    sysctl?: Record<string, string>;
    personality?: { domain: string };
    uidMappings?: OciIdMapping[];
    gidMappings?: OciIdMapping[];
    maskedPaths: string[];
    readonlyPaths: string[];
    devices?: { path: string; type: string; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
    rootfsPropagation: string;
    seccomp?: unknown;
    timeOffsets?: Record<'monotonic' | 'boottime', { secs: number; nanosecs: number }>;
    /** A profile's resources, with a wildcard major or minor left out as the spec writes "any". */
    resources?: Record<string, unknown>;
    cgroupsPath?: string;
  };
  hooks?: Partial<Record<HookKind, OciHook[]>>;
  annotations: Record<string, string>;
}

export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

/** Our namespace names against the runtime-spec's. */
export const OCI_NAMESPACE_NAMES: Readonly<Record<NamespaceType, string>> = {
  user: 'user', pid: 'pid', uts: 'uts', ipc: 'ipc', net: 'network', cgroup: 'cgroup', mnt: 'mount', time: 'time',
};

/**
 * Profile fields the runtime-spec has no place for travel as annotations, so a bundle written
 * from a profile reads back as the same profile. OCI runtimes ignore them (see ociConfigGaps).
 */
export const NSRIG_ANNOTATIONS = {
  name: 'org.nsrig.profile.name',
  timeout: 'org.nsrig.process.timeout',
  setgroups: 'org.nsrig.user.setgroups',
  loopback: 'org.nsrig.network.loopback',
  vethHostAddress: 'org.nsrig.network.veth.hostAddress',
  vethContainerAddress: 'org.nsrig.network.veth.containerAddress',
} as const;

/** The default devices' nodes as config-linux.md gives them: character devices, mode 0666, owned by root. */
export const OCI_DEFAULT_DEVICES: Readonly<Record<string, { major: number; minor: number; fileMode: number }>> = {
  null: { major: 1, minor: 3, fileMode: 0o666 }, zero: { major: 1, minor: 5, fileMode: 0o666 },
  full: { major: 1, minor: 7, fileMode: 0o666 }, random: { major: 1, minor: 8, fileMode: 0o666 },
  urandom: { major: 1, minor: 9, fileMode: 0o666 }, tty: { major: 5, minor: 0, fileMode: 0o666 },
};

/** The six devices config-linux.md requires every runtime to create in /dev. */
export const OCI_DEFAULT_DEVICE_PATHS: readonly string[] = [
  '/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty',
];

/** 2^64-1, the runtime-spec's (and the kernel's) "no limit". */
export const OCI_RLIM_INFINITY = 18446744073709551615n;

/** JSON text of a config, with RLIM_INFINITY written as the exact integer Go's uint64 expects. */
export function ociConfigJson(config: OciRuntimeConfig): string {
  return ociJson(config);
}

/** JSON for a runtime (a config.json, a process.json), with bigints written as exact integers. */
export function ociJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `@@bigint:${v}` : v), 2)
    .replace(/"@@bigint:(\d+)"/g, '$1');
}
