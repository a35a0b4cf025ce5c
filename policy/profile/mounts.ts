// The mounts section: one entry a mount, checked against the namespaces that make it possible,
// against each other (no duplicate destinations, none hidden by a later one), and against the
// host for bind sources.
import { statSync } from 'node:fs';
import { DEVICE_NAMES, type DeviceName, type Mount, type MountType, type NamespaceType } from './types.js';
import {
  childPath, isBelow, isPlainObject, readAbsolutePath, readBoolean, readChoice, readList, readObject, readUniqueList, valueOr, type Fields,
} from './field-reader.js';
import { requireNamespace } from './namespace-requirements.js';
import type { ProfileErrorList } from './profile-error.js';

export const MOUNT_TYPES: readonly MountType[] = ['proc', 'sysfs', 'tmpfs', 'bind', 'mqueue', 'dev'];

const FIELDS_BY_TYPE: Readonly<Record<MountType, readonly string[]>> = {
  proc: ['type', 'destination'],
  sysfs: ['type', 'destination', 'readonly'],
  tmpfs: ['type', 'destination', 'size', 'mode', 'readonly'],
  bind: ['type', 'source', 'destination', 'readonly', 'recursive'],
  mqueue: ['type', 'destination'],
  dev: ['type', 'destination', 'devices'],
};

/**
 * Flags every mount of a type gets, whatever else the profile says: the engine applies them and
 * the OCI writer asks for them. An OCI config asking for a flag outside this list is refused,
 * since nsrig could not honour it.
 */
export const IMPLIED_MOUNT_FLAGS: Readonly<Record<MountType, readonly string[]>> = {
  proc: ['nosuid', 'noexec', 'nodev'],
  sysfs: ['nosuid', 'noexec', 'nodev'],
  mqueue: ['nosuid', 'noexec', 'nodev'],
  tmpfs: ['nosuid', 'nodev'],
  // Device nodes must work here, so no nodev.
  dev: ['nosuid', 'noexec'],
  bind: ['nosuid', 'nodev'],
};

/** Where a mount goes when the entry names no destination; tmpfs and bind must always name one. */
const USUAL_DESTINATION: Readonly<Partial<Record<MountType, string>>> = {
  proc: '/proc', sysfs: '/sys', mqueue: '/dev/mqueue', dev: '/dev',
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

/** What a profile gets when it has no `mounts` field: a usual container view, fitted to its namespaces. */
export function defaultMounts(namespaces: readonly NamespaceType[]): Mount[] {
  if (!namespaces.includes('mnt')) return [];
  const has = (ns: NamespaceType): boolean => namespaces.includes(ns);
  const mounts: Mount[] = [];
  if (has('pid')) mounts.push({ type: 'proc', destination: '/proc' });
  mounts.push({ type: 'dev', destination: '/dev', devices: [...DEVICE_NAMES] });
  mounts.push({ type: 'tmpfs', destination: '/dev/shm', sizeBytes: DEFAULT_TMPFS_SIZE, mode: DEFAULT_TMPFS_MODE, readonly: false });
  if (has('ipc')) mounts.push({ type: 'mqueue', destination: '/dev/mqueue' });
  mounts.push({ type: 'tmpfs', destination: '/tmp', sizeBytes: DEFAULT_TMPFS_SIZE, mode: DEFAULT_TMPFS_MODE, readonly: false });
  if (has('net')) mounts.push({ type: 'sysfs', destination: '/sys', readonly: true });
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
  // A placeholder destination lets the other fields be checked too; the error already recorded wins.
  const mount = readTypedFields(errs, fields, path, type, destination ?? '/', ctx);
  return errs.count === before ? mount : undefined;
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

function readTypedFields(errs: ProfileErrorList, fields: Fields, path: string, type: MountType, destination: string,
  ctx: MountContext): Mount | undefined {
  const readonly = (fallback: boolean): boolean | undefined =>
    fields.readonly === undefined ? fallback : readBoolean(errs, fields.readonly, childPath(path, 'readonly'));
  switch (type) {
    case 'proc':
    case 'mqueue':
      return { type, destination };
    case 'sysfs': {
      const ro = readonly(true);
      return ro === undefined ? undefined : { type, destination, readonly: ro };
    }
    case 'tmpfs': {
      const ro = readonly(false);
      const mode = fields.mode === undefined ? DEFAULT_TMPFS_MODE : readMode(errs, fields.mode, childPath(path, 'mode'));
      const sizeBytes = fields.size === undefined ? undefined : readSize(errs, fields.size, childPath(path, 'size'));
      if (ro === undefined || mode === undefined || (fields.size !== undefined && sizeBytes === undefined)) return undefined;
      return sizeBytes === undefined ? { type, destination, mode, readonly: ro } : { type, destination, sizeBytes, mode, readonly: ro };
    }
    case 'bind': {
      const source = readBindSource(errs, fields.source, childPath(path, 'source'), ctx.checkPaths);
      const ro = readonly(true);
      const recursive = fields.recursive === undefined ? false : readBoolean(errs, fields.recursive, childPath(path, 'recursive'));
      if (source === undefined || ro === undefined || recursive === undefined) return undefined;
      return { type, source, destination, readonly: ro, recursive };
    }
    case 'dev': {
      const devices = fields.devices === undefined ? [...DEVICE_NAMES] : readDevices(errs, fields.devices, childPath(path, 'devices'));
      return devices === undefined ? undefined : { type, destination, devices };
    }
  }
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
