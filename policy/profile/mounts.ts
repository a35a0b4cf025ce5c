// The mounts section: one entry a mount, checked against the namespaces that make it possible,
// against each other (no duplicate destinations, none hidden by a later one), and against the
// host for bind sources.
import { statSync } from 'node:fs';
import { DEVICE_NAMES, type DeviceName, type Mount, type MountType, type NamespaceType } from './types.js';
import {
  childPath, isBelow, isPlainObject, readAbsolutePath, readBoolean, readChoice, readList, readObject, readString, readUniqueList, valueOr,
  type Fields,
} from './field-reader.js';
import { MS } from '../kernel/mount-flags.js';
import { REFUSED_MOUNT_OPTIONS, dataOption, mountOptionEffect, mountOptionKind } from './mount-options.js';
import { requireNamespace } from './namespace-requirements.js';
import type { ProfileErrorList } from './profile-error.js';

export const MOUNT_TYPES: readonly MountType[] = ['proc', 'sysfs', 'tmpfs', 'bind', 'mqueue', 'dev', 'devpts', 'cgroup', 'cgroup2', 'filesystem'];

/** The fields of a mount entry besides its options; readonly, size, mode and recursive only stand in for options. */
const FIELDS_BY_TYPE: Readonly<Record<MountType, readonly string[]>> = {
  proc: ['type', 'destination', 'options'],
  sysfs: ['type', 'destination', 'readonly', 'options'],
  tmpfs: ['type', 'destination', 'size', 'mode', 'readonly', 'options'],
  bind: ['type', 'source', 'destination', 'readonly', 'recursive', 'options'],
  mqueue: ['type', 'destination', 'options'],
  dev: ['type', 'destination', 'devices', 'options'],
  devpts: ['type', 'destination', 'options'],
  cgroup: ['type', 'destination', 'options'],
  cgroup2: ['type', 'destination', 'options'],
  filesystem: ['type', 'fsType', 'source', 'destination', 'options'],
};
const OPTION_SHORTHANDS = ['readonly', 'size', 'mode', 'recursive'];

/**
 * The options a profile's mount gets when it lists none (the flags nsrig has always mounted each
 * type with), before its readonly, size, mode and recursive fields add theirs. A mount with an
 * `options` list gets exactly that list, as an OCI config's mounts do.
 */
export const DEFAULT_MOUNT_OPTIONS: Readonly<Record<MountType, readonly string[]>> = {
  proc: ['nosuid', 'noexec', 'nodev'],
  sysfs: ['nosuid', 'noexec', 'nodev'],
  mqueue: ['nosuid', 'noexec', 'nodev'],
  tmpfs: ['nosuid', 'nodev'],
  // Device nodes must work here, so no nodev; runc's own /dev options otherwise.
  dev: ['nosuid', 'noexec', 'strictatime', 'mode=755', 'size=65536k'],
  bind: ['nosuid', 'nodev'],
  // runc spec's own, less gid=5, which only a user namespace that maps group 5 could take.
  devpts: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
  cgroup: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
  cgroup2: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
  filesystem: [],
};

/** Where a mount goes when the entry names no destination; tmpfs and bind must always name one. */
const USUAL_DESTINATION: Readonly<Partial<Record<MountType, string>>> = {
  proc: '/proc', sysfs: '/sys', mqueue: '/dev/mqueue', dev: '/dev', devpts: '/dev/pts', cgroup: '/sys/fs/cgroup', cgroup2: '/sys/fs/cgroup',
};

/** The kernel's own default for a new tmpfs: world-writable with the sticky bit. */
export const DEFAULT_TMPFS_MODE = 0o1777;
/** Docker's /dev/shm size, used for the default /dev/shm and /tmp so a container cannot fill host RAM. */
export const DEFAULT_TMPFS_SIZE = 64 * 1024 * 1024;

export interface MountContext {
  namespaces: readonly NamespaceType[];
  /** Check on the host that bind sources exist. */
  checkPaths: boolean;
}

/** A profile's mount as the reader would make it from the type and its option list. */
export function mountWithOptions(type: MountType, destination: string, options: string[],
  extra: { source?: string; devices?: DeviceName[]; fsType?: string } = {}): Mount {
  const effect = mountOptionEffect(options);
  const readonly = (effect.flags & MS.RDONLY) !== 0;
  switch (type) {
    case 'proc':
    case 'mqueue':
    case 'devpts':
    case 'cgroup':
    case 'cgroup2':
      return { type, destination, options };
    case 'filesystem':
      return { type, fsType: extra.fsType!, source: extra.source ?? extra.fsType!, destination, options };
    case 'sysfs':
      return { type, destination, options, readonly };
    case 'tmpfs': {
      const mode = dataOption(options, 'mode');
      const size = dataOption(options, 'size');
      const sizeBytes = size === undefined ? undefined : sizeInBytes(size);
      return { type, destination, options, mode: mode === undefined ? DEFAULT_TMPFS_MODE : parseInt(mode, 8), readonly,
        ...(sizeBytes === undefined ? {} : { sizeBytes }) };
    }
    case 'bind':
      return { type, source: extra.source!, destination, options, readonly, recursive: (effect.flags & MS.REC) !== 0 };
    case 'dev':
      return { type, destination, options, devices: extra.devices ?? [...DEVICE_NAMES] };
  }
}

/** The same mount with another option list (and what it implies). */
export function remountedWith(mount: Mount, options: string[]): Mount {
  return mountWithOptions(mount.type, mount.destination, options, {
    source: mount.type === 'bind' || mount.type === 'filesystem' ? mount.source : undefined,
    devices: mount.type === 'dev' ? mount.devices : undefined, fsType: mount.type === 'filesystem' ? mount.fsType : undefined,
  });
}

/** Whether a mount's own options make it read-only (ro, not undone by a later rw). */
export function declaresReadonly(mount: Mount): boolean {
  return (mountOptionEffect(mount.options).flags & MS.RDONLY) !== 0;
}

/** A read-only, nosuid, nodev bind, the way profiles have always bound a host directory. */
export function readonlyBind(source: string, destination: string, recursive = false): Mount {
  return mountWithOptions('bind', destination, [recursive ? 'rbind' : 'bind', ...DEFAULT_MOUNT_OPTIONS.bind, 'ro', ...(recursive ? ['rro'] : [])],
    { source });
}

/** What a profile gets when it has no `mounts` field: a usual container view, fitted to its namespaces. */
export function defaultMounts(namespaces: readonly NamespaceType[]): Mount[] {
  if (!namespaces.includes('mnt')) return [];
  const has = (ns: NamespaceType): boolean => namespaces.includes(ns);
  const defaults = (type: MountType, ...more: string[]): string[] => [...DEFAULT_MOUNT_OPTIONS[type], ...more];
  const tmpfs = defaults('tmpfs', `mode=${DEFAULT_TMPFS_MODE.toString(8)}`, `size=${DEFAULT_TMPFS_SIZE}`);
  const mounts: Mount[] = [];
  if (has('pid')) mounts.push(mountWithOptions('proc', '/proc', defaults('proc')));
  mounts.push(mountWithOptions('dev', '/dev', defaults('dev')));
  mounts.push(mountWithOptions('tmpfs', '/dev/shm', [...tmpfs]));
  if (has('ipc')) mounts.push(mountWithOptions('mqueue', '/dev/mqueue', defaults('mqueue')));
  mounts.push(mountWithOptions('tmpfs', '/tmp', [...tmpfs]));
  if (has('net')) mounts.push(mountWithOptions('sysfs', '/sys', defaults('sysfs', 'ro')));
  return mounts;
}

export function readMounts(errs: ProfileErrorList, value: unknown, path: string, ctx: MountContext): Mount[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  const before = errs.count;
  if (list.length > 0) requireNamespace(errs, ctx.namespaces, 'mnt', path, 'mounts');
  const mounts: (Mount | undefined)[] = list.map((item, i) => readMount(errs, item, childPath(path, i), ctx));
  reportCollisions(errs, mounts, path);
  return errs.count === before ? (mounts as Mount[]) : undefined;
}

function readMount(errs: ProfileErrorList, value: unknown, path: string, ctx: MountContext): Mount | undefined {
  if (!isPlainObject(value)) {
    errs.add(path, 'an object', value);
    return undefined;
  }
  const type = readChoice(errs, value.type, childPath(path, 'type'), MOUNT_TYPES);
  if (type === undefined) return undefined;
  const before = errs.count;
  const fields = readObject(errs, value, path, FIELDS_BY_TYPE[type])!;
  const typePath = childPath(path, 'type');
  if (type === 'sysfs') requireNamespace(errs, ctx.namespaces, 'net', typePath, 'a sysfs mount');
  if (type === 'mqueue') requireNamespace(errs, ctx.namespaces, 'ipc', typePath, 'an mqueue mount');
  if (type === 'proc' && ctx.namespaces.includes('user')) {
    requireNamespace(errs, ctx.namespaces, 'pid', typePath, 'a proc mount in a user namespace');
  }
  const destination = readDestination(errs, fields, path, type);
  const options = readMountOptions(errs, fields, path, type);
  const source = type === 'bind' ? readBindSource(errs, fields.source, childPath(path, 'source'), ctx.checkPaths)
    : type === 'filesystem' && fields.source !== undefined ? readString(errs, fields.source, childPath(path, 'source'), 'a mount source string')
      : undefined;
  const devices = type === 'dev' && fields.devices !== undefined ? readDevices(errs, fields.devices, childPath(path, 'devices')) : undefined;
  const fsType = type === 'filesystem' ? readFilesystemType(errs, fields.fsType, childPath(path, 'fsType')) : undefined;
  if (errs.count !== before || destination === undefined || options === undefined) return undefined;
  return mountWithOptions(type, destination, options, { source, devices, fsType });
}

function readDestination(errs: ProfileErrorList, fields: Fields, path: string, type: MountType): string | undefined {
  const destPath = childPath(path, 'destination');
  const value = valueOr(fields.destination, USUAL_DESTINATION[type]);
  const destination = readAbsolutePath(errs, value, destPath);
  if (destination === '/') {
    errs.add(destPath, 'a destination other than "/" (the root is set by rootfs)', destination);
    return undefined;
  }
  return destination;
}

/**
 * The mount's whole option list: its `options` as written, or, without that list, the type's
 * defaults and what its readonly, size, mode and recursive fields (with their defaults) stand for.
 */
function readMountOptions(errs: ProfileErrorList, fields: Fields, path: string, type: MountType): string[] | undefined {
  const before = errs.count;
  if (fields.options !== undefined) {
    for (const key of OPTION_SHORTHANDS) {
      if (fields[key] !== undefined) errs.addDescribed(childPath(path, key), `no ${key} beside options (write it as an option)`, 'both');
    }
    const list = readList(errs, fields.options, childPath(path, 'options'));
    if (list === undefined) return undefined;
    const options = list.map((item, k) => readOption(errs, item, childPath(childPath(path, 'options'), k))).filter((o) => o !== undefined);
    if (errs.count !== before) return undefined;
    if (type === 'bind' && !options.some((o) => o === 'bind' || o === 'rbind')) options.unshift('bind');
    checkOptionsFitType(errs, options, childPath(path, 'options'), type);
    return errs.count === before ? options : undefined;
  }
  const shorthand = (key: string, fallback: boolean): boolean | undefined =>
    fields[key] === undefined ? fallback : readBoolean(errs, fields[key], childPath(path, key));
  const options: string[] = [];
  if (type === 'bind') options.push(shorthand('recursive', false) ? 'rbind' : 'bind');
  options.push(...DEFAULT_MOUNT_OPTIONS[type]);
  if (type === 'tmpfs') {
    const mode = fields.mode === undefined ? DEFAULT_TMPFS_MODE : readMode(errs, fields.mode, childPath(path, 'mode'));
    const size = fields.size === undefined ? undefined : readSize(errs, fields.size, childPath(path, 'size'));
    if (mode !== undefined) options.push(`mode=${mode.toString(8)}`);
    if (size !== undefined) options.push(`size=${size}`);
  }
  if (type === 'sysfs' || type === 'tmpfs' || type === 'bind') {
    // A recursive read-only bind has always been read-only all the way down.
    if (shorthand('readonly', type !== 'tmpfs')) options.push(...(options[0] === 'rbind' ? ['ro', 'rro'] : ['ro']));
  }
  return errs.count === before ? options : undefined;
}

/** A filesystem name as /proc/filesystems lists them; the types nsrig mounts itself go by their own type. */
function readFilesystemType(errs: ProfileErrorList, value: unknown, path: string): string | undefined {
  const expected = 'a filesystem type such as "overlay" or "ramfs" (letters, digits, ".", "_", "-")';
  const name = readString(errs, value, path, expected);
  if (name === undefined) return undefined;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) errs.add(path, expected, name);
  else if ((MOUNT_TYPES as readonly string[]).includes(name) || name === 'bind') errs.add(path, `a type nsrig has no mount type for (write type: ${name})`, name);
  else return name;
  return undefined;
}

function readOption(errs: ProfileErrorList, value: unknown, path: string): string | undefined {
  const option = readString(errs, value, path, 'a mount option string');
  if (option === undefined) return undefined;
  if (option === '' || option.includes(',')) {
    errs.add(path, 'one mount option, not empty and without ","', option);
    return undefined;
  }
  if (mountOptionKind(option) === 'refused') {
    errs.add(path, `no ${option} (${REFUSED_MOUNT_OPTIONS[option]})`, option);
    return undefined;
  }
  return option;
}

/** What the kernel would ignore or refuse on this type is an error here, naming the option. */
function checkOptionsFitType(errs: ProfileErrorList, options: string[], path: string, type: MountType): void {
  options.forEach((option, k) => {
    const at = childPath(path, k);
    const kind = mountOptionKind(option);
    if (type !== 'bind' && (option === 'bind' || option === 'rbind')) {
      errs.add(at, `no ${option} on a ${type} mount (use type bind)`, option);
    } else if (type === 'bind' && kind === 'data') {
      errs.add(at, 'a mount flag, a propagation or an r* option: a bind mount takes no filesystem data (the kernel ignores it)', option);
    }
  });
  if (type === 'tmpfs' || type === 'dev') {
    const mode = dataOption(options, 'mode');
    if (mode !== undefined && !/^[0-7]{1,5}$/.test(mode)) errs.add(optionPath(path, options, 'mode'), 'mode= an octal mode such as 1777', `mode=${mode}`);
    else if (mode !== undefined && parseInt(mode, 8) > 0o7777) errs.add(optionPath(path, options, 'mode'), 'mode= at most 7777', `mode=${mode}`);
    const size = dataOption(options, 'size');
    if (size !== undefined && !/^[0-9]+[kmgtpe%]?$/i.test(size)) {
      errs.add(optionPath(path, options, 'size'), 'size= a number of bytes, with k, m, g or % as tmpfs reads it', `size=${size}`);
    }
  }
}

function optionPath(path: string, options: string[], name: string): string {
  return childPath(path, options.map((o) => o.startsWith(`${name}=`)).lastIndexOf(true));
}

/** A tmpfs size= in bytes; a percentage of RAM has no fixed number of bytes. */
function sizeInBytes(size: string): number | undefined {
  const match = /^([0-9]+)([kmgtpe]?)$/i.exec(size);
  if (match === null) return undefined;
  const power = match[2] === '' ? 0 : 'kmgtpe'.indexOf(match[2]!.toLowerCase()) + 1;
  const bytes = Number(match[1]) * 1024 ** power;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

function readBindSource(errs: ProfileErrorList, value: unknown, path: string, checkPaths: boolean): string | undefined {
  const source = readAbsolutePath(errs, value, path);
  if (source === undefined || !checkPaths) return source;
  try {
    statSync(source);
    return source;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    errs.addDescribed(path, 'an existing file or directory on the host', `${JSON.stringify(source)} (${code})`);
    return undefined;
  }
}

function readDevices(errs: ProfileErrorList, value: unknown, path: string): DeviceName[] | undefined {
  return readUniqueList(errs, value, path, (item, at) => {
    if (item !== null) return readChoice(errs, item, at, DEVICE_NAMES);
    errs.addDescribed(at, `one of ${DEVICE_NAMES.join(', ')}`, 'null (YAML reads a bare null as no value; write "null")');
    return undefined;
  }, 'device');
}

const SIZE_EXPECTED = 'a size in bytes from 1 to 2^53-1, or a number with k, m or g such as "64k", "16m", "1g"';
const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** tmpfs sizes as people write them: bytes, or "64k", "16m", "1g" (powers of 1024, as tmpfs reads them). */
export function readSize(errs: ProfileErrorList, value: unknown, path: string): number | undefined {
  let bytes: number | undefined;
  if (typeof value === 'number') bytes = value;
  else if (typeof value === 'string') {
    const match = /^([0-9]+)([kmg]?)$/i.exec(value.trim());
    if (match !== null) bytes = Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase()]!;
  }
  if (bytes !== undefined && Number.isSafeInteger(bytes) && bytes >= 1) return bytes;
  errs.add(path, SIZE_EXPECTED, value);
  return undefined;
}

const MODE_EXPECTED = 'a mode from 0 to 7777 in octal, written as a string such as "1777" (or a number)';

/** File modes: an octal string ("1777", "0755", "0o755") or the number itself (0o1777 in YAML, 1023 in JSON). */
export function readMode(errs: ProfileErrorList, value: unknown, path: string): number | undefined {
  let mode: number | undefined;
  if (typeof value === 'number') mode = value;
  else if (typeof value === 'string' && /^(0o)?[0-7]{1,5}$/i.test(value)) mode = parseInt(value.replace(/^0o/i, ''), 8);
  if (mode !== undefined && Number.isInteger(mode) && mode >= 0 && mode <= 0o7777) return mode;
  errs.add(path, MODE_EXPECTED, value);
  return undefined;
}

/** Two mounts on one destination, or a later mount above an earlier one, would hide a mount. */
function reportCollisions(errs: ProfileErrorList, mounts: (Mount | undefined)[], path: string): void {
  mounts.forEach((mount, i) => {
    if (mount === undefined) return;
    for (let j = 0; j < i; j++) {
      const earlier = mounts[j];
      if (earlier === undefined) continue;
      const destPath = childPath(childPath(path, i), 'destination');
      if (earlier.destination === mount.destination) {
        errs.add(destPath, `a destination no other mount uses (${childPath(path, j)} already mounts there)`, mount.destination);
        return;
      }
      if (isBelow(earlier.destination, mount.destination)) {
        errs.add(destPath, `a destination that does not cover the earlier ${childPath(path, j)} at ${earlier.destination} ` +
          '(put the outer mount first)', mount.destination);
        return;
      }
    }
  });
}

/** Read-only or masked paths: absolute, normalised, each once. */
export function readPathList(errs: ProfileErrorList, value: unknown, path: string): string[] | undefined {
  return readUniqueList(errs, value, path, (item, at) => readAbsolutePath(errs, item, at), 'path');
}
