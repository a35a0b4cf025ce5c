// A profile written as an OCI runtime-spec config.json that asks a runtime for everything the
// profile says, so a runtime that silently drops a setting can be caught. Fields the spec cannot
// carry travel as org.nsrig.* annotations; ociConfigGaps lists which of them runtimes ignore.
import { DEVICE_NAMES, type HookKind, type Hooks, type Mount, type Profile, type Resources } from './types.js';
import { PROPAGATION_OPTION_NAMES } from './mount-options.js';
import {
  NSRIG_ANNOTATIONS, OCI_NAMESPACE_NAMES, OCI_RLIM_INFINITY, type OciHook, type OciMount, type OciRlimit, type OciRuntimeConfig,
} from './oci-spec.js';

export interface OciConfigOptions {
  /** root.path: the bundle's root filesystem, absolute or relative to the bundle directory. */
  rootfsPath: string;
  /** Replaces profile.process.args (the harness runs its probe this way). */
  args?: string[];
}

export function ociConfigFromProfile(profile: Profile, opts: OciConfigOptions): OciRuntimeConfig {
  const hasUser = profile.namespaces.includes('user');
  const process = profile.process;
  const config: OciRuntimeConfig = {
    ociVersion: needsSpec11(profile) ? '1.1.0' : '1.0.2',
    process: {
      terminal: process.terminal ?? false,
      ...(process.consoleSize === undefined ? {} : { consoleSize: { ...process.consoleSize } }),
      user: {
        uid: process.uid, gid: process.gid, ...(process.additionalGids.length > 0 ? { additionalGids: [...process.additionalGids] } : {}),
        ...(process.umask === undefined ? {} : { umask: process.umask }),
      },
      args: [...(opts.args ?? process.args)],
      env: Object.entries(process.env).map(([name, value]) => `${name}=${value}`),
      cwd: process.cwd,
      capabilities: {
        bounding: [...process.capabilities.bounding], effective: [...process.capabilities.effective],
        permitted: [...process.capabilities.permitted], inheritable: [...process.capabilities.inheritable],
        ambient: [...process.capabilities.ambient],
      },
      rlimits: process.rlimits.map((r): OciRlimit => ({ type: r.type, soft: ociLimit(r.soft), hard: ociLimit(r.hard) })),
      noNewPrivileges: process.noNewPrivileges,
      ...(process.oomScoreAdj === undefined ? {} : { oomScoreAdj: process.oomScoreAdj }),
    },
    root: { path: opts.rootfsPath, readonly: profile.rootfs.readonly },
    ...(profile.hostname === undefined ? {} : { hostname: profile.hostname }),
    ...(profile.domainname === undefined ? {} : { domainname: profile.domainname }),
    mounts: profile.mounts.map((m) => ociMount(m, profile.rootfs.propagation)),
    linux: {
      namespaces: profile.namespaces.map((ns) => {
        const path = profile.namespacePaths?.[ns];
        return path === undefined ? { type: OCI_NAMESPACE_NAMES[ns] } : { type: OCI_NAMESPACE_NAMES[ns], path };
      }),
      ...(profile.sysctl === undefined ? {} : { sysctl: { ...profile.sysctl } }),
      ...(process.personality === undefined ? {} : { personality: { domain: process.personality.toUpperCase() } }),
      ...(hasUser ? {
        uidMappings: profile.user.uidMappings.map((m) => ({ containerID: m.containerId, hostID: m.hostId, size: m.size })),
        gidMappings: profile.user.gidMappings.map((m) => ({ containerID: m.containerId, hostID: m.hostId, size: m.size })),
      } : {}),
      maskedPaths: [...profile.maskedPaths],
      readonlyPaths: [...profile.readonlyPaths],
      ...(profile.devices === undefined ? {} : { devices: profile.devices.map((d) => ({ ...d })) }),
      rootfsPropagation: profile.rootfs.propagation,
      ...(profile.seccomp === undefined ? {} : { seccomp: profile.seccomp.policy }),
      ...(profile.resources === undefined ? {} : { resources: ociResources(profile.resources) }),
      ...(profile.cgroupsPath === undefined ? {} : { cgroupsPath: profile.cgroupsPath }),
      ...(profile.timeOffsets === undefined ? {} : {
        timeOffsets: {
          monotonic: { secs: profile.timeOffsets.monotonic, nanosecs: 0 },
          boottime: { secs: profile.timeOffsets.boottime, nanosecs: 0 },
        },
      }),
    },
    ...(profile.hooks === undefined ? {} : { hooks: ociHooks(profile.hooks) }),
    annotations: annotationsOf(profile),
  };
  return config;
}

function ociHooks(hooks: Hooks): Partial<Record<HookKind, OciHook[]>> {
  return Object.fromEntries(Object.entries(hooks).map(([kind, list]) => [kind, list.map((h): OciHook => ({
    path: h.path, ...(h.args.length > 0 ? { args: [...h.args] } : {}), ...(h.env.length > 0 ? { env: [...h.env] } : {}),
    ...(h.timeoutSeconds === undefined ? {} : { timeout: h.timeoutSeconds }),
  }))]));
}

function ociResources(resources: Resources): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...structuredClone(resources) };
  if (resources.devices !== undefined) {
    copy.devices = resources.devices.map(({ major, minor, ...rule }) => ({
      ...rule, ...(major === -1 ? {} : { major }), ...(minor === -1 ? {} : { minor }),
    }));
  }
  return copy;
}

/** The time namespace, its offsets and domainname came with runtime-spec 1.1.0. */
function needsSpec11(profile: Profile): boolean {
  return profile.namespaces.includes('time') || profile.timeOffsets !== undefined || profile.domainname !== undefined;
}

function ociLimit(limit: number): number | bigint {
  return limit === Infinity ? OCI_RLIM_INFINITY : limit;
}

/**
 * Each mount with its options exactly. A dev mount is runc's tmpfs /dev: runtimes create the six
 * default devices in it themselves (config-linux.md "Default Devices"), so they are not written
 * as linux.devices entries (only the profile's own `devices` are).
 */
function ociMount(mount: Mount, propagation: Profile['rootfs']['propagation']): OciMount {
  const options = [...mount.options];
  switch (mount.type) {
    case 'proc':
    case 'mqueue':
    case 'sysfs':
    case 'tmpfs':
    case 'devpts':
    case 'cgroup':
    case 'cgroup2':
      return { destination: mount.destination, type: mount.type, source: mount.type, options };
    case 'filesystem':
      return { destination: mount.destination, type: mount.fsType, source: mount.source, options };
    case 'dev':
      return { destination: mount.destination, type: 'tmpfs', source: 'tmpfs', options };
    case 'bind': {
      // A bind keeps its source's propagation unless told (rootfsPropagation covers the root
      // alone): without this, runc and crun leave a bind of a shared host directory a peer of
      // it, and what the host mounts there later appears inside (mnt.no-host-mount-after-start).
      const declared = options.some((o) => PROPAGATION_OPTION_NAMES.includes(o));
      const at = options.findIndex((o) => o === 'bind' || o === 'rbind') + 1;
      if (!declared) options.splice(at, 0, `${mount.recursive ? 'r' : ''}${propagation}`);
      return { destination: mount.destination, type: 'bind', source: mount.source, options };
    }
  }
}

function annotationsOf(profile: Profile): Record<string, string> {
  const annotations: Record<string, string> = {
    [NSRIG_ANNOTATIONS.name]: profile.name,
    [NSRIG_ANNOTATIONS.timeout]: String(profile.process.timeoutMs / 1000),
  };
  if (profile.namespaces.includes('user')) annotations[NSRIG_ANNOTATIONS.setgroups] = profile.user.setgroups;
  if (profile.namespaces.includes('net')) annotations[NSRIG_ANNOTATIONS.loopback] = String(profile.network.loopback);
  if (profile.network.veth !== undefined) {
    annotations[NSRIG_ANNOTATIONS.vethHostAddress] = profile.network.veth.hostAddress;
    annotations[NSRIG_ANNOTATIONS.vethContainerAddress] = profile.network.veth.containerAddress;
  }
  return annotations;
}

/** A profile setting that an OCI runtime will not carry out from the config alone. */
export interface OciConfigGap {
  fieldPath: string;
  reason: string;
}

/**
 * What a runtime given ociConfigFromProfile(profile) would not do as the profile says. The OCI
 * target uses this to set the rest up itself or to skip the invariants that depend on it.
 */
export function ociConfigGaps(profile: Profile): OciConfigGap[] {
  const gaps: OciConfigGap[] = [];
  profile.mounts.forEach((mount, i) => {
    if (mount.type === 'tmpfs' && mount.destination === '/dev') {
      gaps.push({ fieldPath: `mounts[${i}]`, reason: 'runtimes fill a tmpfs at /dev with the default devices; it reads back as a dev mount' });
    }
    if (mount.type !== 'dev') return;
    if (mount.destination !== '/dev') {
      gaps.push({ fieldPath: `mounts[${i}].destination`, reason: 'runtimes create devices only in /dev; elsewhere this is an empty tmpfs' });
    } else if (mount.devices.length !== DEVICE_NAMES.length) {
      gaps.push({ fieldPath: `mounts[${i}].devices`, reason: 'runtimes always create all six default devices' });
    }
  });
  if (profile.namespaces.includes('mnt') && !profile.mounts.some((m) => m.type === 'dev' && m.destination === '/dev')) {
    gaps.push({ fieldPath: 'mounts', reason: 'without a /dev mount, runtimes still create the default devices in the rootfs\'s /dev' });
  }
  if (profile.namespaces.includes('user') && profile.user.setgroups === 'deny') {
    gaps.push({ fieldPath: 'user.setgroups', reason: 'the runtime-spec has no setgroups field; runtimes running as root leave it at allow' });
  }
  if (profile.namespaces.includes('net') && !profile.network.loopback) {
    gaps.push({ fieldPath: 'network.loopback', reason: 'runtimes bring loopback up in a new network namespace' });
  }
  if (profile.network.veth !== undefined) {
    gaps.push({ fieldPath: 'network.veth', reason: 'runtimes create no network interfaces; the caller must set the veth pair up' });
  }
  return gaps;
}
