import fc from 'fast-check';
import type { NamespaceType } from '../../policy/profile/types.js';
import { PROPAGATION_OPTION_NAMES } from '../../policy/profile/mount-options.js';

/** Directories that exist in every Debian-like host root, usable as bind destinations. */
export const BIND_DESTINATIONS = ['/mnt', '/srv', '/opt', '/media'];
const BIND_SOURCES = ['/usr/share/doc', '/usr/share/common-licenses', '/etc/default', '/var/lib'];
/** Where the recursive read-only bind of the directory holding the fixture directory goes (its submounts with it). */
export const RECURSIVE_READONLY_BIND = '/srv';
/** Where the directory holding the harness's user namespace files is bound (recursively, read-only). */
export const USER_NAMESPACE_FILES = '/media';
/** Where the flag-trying tmpfs goes; no read-only bind is generated there with it. */
export const FLAGGED_TMPFS = '/opt';
const MOUNT_FLAGS = ['nosuid', 'nodev', 'noexec'];
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'] as const;

export interface MountSetOptions {
  namespaces: NamespaceType[];
  /** A host directory to bind read-write at /mnt. */
  rwBindSource?: string;
  /** That bind declares one propagation option, drawn from all eight (config.md "Linux mount options"). */
  rwBindPropagation?: boolean;
  /** A host directory to bind recursively read-only (rbind, ro, rro) at RECURSIVE_READONLY_BIND. */
  recursiveReadonlySource?: string;
  /** A tmpfs at FLAGGED_TMPFS any uid can write, with a generated set of nosuid, nodev and noexec. */
  flaggedTmpfs?: boolean;
  /** That tmpfs is never noexec: the probe runs a program from it to try another flag. */
  flaggedTmpfsExec?: boolean;
  /** Mount the cgroup filesystem read-only at /sys/fs/cgroup, last (over a sysfs at /sys). */
  cgroup?: boolean;
  /** The directory holding the harness's user namespace files, bound recursively read-only at USER_NAMESPACE_FILES: they are mounts below it. */
  userNamespaceSource?: string;
}

/** Mount sets a profile can ask for: proc, a minimal /dev, tmpfs, read-only binds, mqueue, sysfs, cgroup. */
export function mountSet(options: MountSetOptions): fc.Arbitrary<Record<string, unknown>[]> {
  const has = (ns: NamespaceType) => options.namespaces.includes(ns);
  const tmpfs = fc.record({
    size: fc.constantFrom('1m', '16m', '64k', 4194304),
    // Every mode lets any uid traverse: the probe's own files may lie below /tmp (a checkout there).
    mode: fc.constantFrom('1777', '755', '711'),
  });
  const taken = (d: string) => (options.rwBindSource !== undefined && d === '/mnt') || (options.flaggedTmpfs === true && d === FLAGGED_TMPFS)
    || (options.recursiveReadonlySource !== undefined && d === RECURSIVE_READONLY_BIND) || (options.userNamespaceSource !== undefined && d === USER_NAMESPACE_FILES);
  const roBinds = fc.subarray(BIND_DESTINATIONS.filter((d) => !taken(d)), { maxLength: 2 })
    .chain((dests) => fc.tuple(...dests.map((d) => fc.constantFrom(...BIND_SOURCES).map((source) => ({ type: 'bind', source, destination: d, readonly: true })))));
  return fc.record({
    devices: fc.subarray([...DEVICES], { minLength: 1 }),
    tmpfs,
    roBinds,
    mqueue: fc.boolean(),
    sysfs: fc.boolean(),
    propagation: options.rwBindPropagation ? fc.constantFrom(...PROPAGATION_OPTION_NAMES) : fc.constant(undefined),
    flags: options.flaggedTmpfs ? fc.subarray(MOUNT_FLAGS.filter((f) => !(options.flaggedTmpfsExec && f === 'noexec'))) : fc.constant([]),
  }).map(({ devices, tmpfs: t, roBinds: binds, mqueue, sysfs, propagation, flags }) => {
    const mounts: Record<string, unknown>[] = [];
    if (has('pid')) mounts.push({ type: 'proc', destination: '/proc' });
    mounts.push({ type: 'dev', destination: '/dev', devices: [...devices, ...(devices.includes('null') ? [] : ['null'])] });
    mounts.push({ type: 'tmpfs', destination: '/tmp', size: t.size, mode: t.mode });
    mounts.push(...binds);
    if (options.rwBindSource) {
      mounts.push(propagation === undefined
        ? { type: 'bind', source: options.rwBindSource, destination: '/mnt', readonly: false }
        : { type: 'bind', source: options.rwBindSource, destination: '/mnt', options: ['bind', 'rw', 'nosuid', 'nodev', propagation] });
    }
    if (options.recursiveReadonlySource) {
      mounts.push({ type: 'bind', source: options.recursiveReadonlySource, destination: RECURSIVE_READONLY_BIND, readonly: true, recursive: true });
    }
    if (options.userNamespaceSource) {
      mounts.push({ type: 'bind', source: options.userNamespaceSource, destination: USER_NAMESPACE_FILES, readonly: true, recursive: true });
    }
    if (mqueue && has('ipc')) mounts.push({ type: 'mqueue', destination: '/dev/mqueue' });
    if (sysfs && has('net')) mounts.push({ type: 'sysfs', destination: '/sys', readonly: true });
    if (options.flaggedTmpfs) mounts.push({ type: 'tmpfs', destination: FLAGGED_TMPFS, options: [...flags, 'mode=1777', 'size=1m'] });
    if (options.cgroup) mounts.push({ type: 'cgroup', destination: '/sys/fs/cgroup', options: ['ro', 'nosuid', 'nodev', 'noexec'] });
    return mounts;
  });
}
