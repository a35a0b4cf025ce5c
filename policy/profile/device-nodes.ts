// The devices section (OCI linux.devices): device nodes and FIFOs made in the container besides
// the default ones, each with its type, numbers, mode and owner (config-linux.md "Devices").
import { type DeviceNode, type NamespaceType } from './types.js';
import { childPath, readAbsolutePath, readChoice, readInteger, readList, readObject } from './field-reader.js';
import { requireNamespace } from './namespace-requirements.js';
import type { ProfileErrorList } from './profile-error.js';

const NODE_TYPES = ['c', 'b', 'u', 'p'] as const;
const FIELDS = ['path', 'type', 'major', 'minor', 'fileMode', 'uid', 'gid'];
/** dev_t holds a 12-bit major and a 20-bit minor on Linux (kdev_t.h: MINORBITS). */
const MAX_MAJOR = 4095;
const MAX_MINOR = 1048575;
const MAX_ID = 4294967294;

function readDevice(errs: ProfileErrorList, value: unknown, path: string): DeviceNode | undefined {
  const fields = readObject(errs, value, path, FIELDS);
  if (fields === undefined) return undefined;
  const before = errs.count;
  const nodePath = readAbsolutePath(errs, fields.path, childPath(path, 'path'));
  if (nodePath === '/') errs.add(childPath(path, 'path'), 'a path below /', nodePath);
  const type = readChoice(errs, fields.type, childPath(path, 'type'), NODE_TYPES);
  // A FIFO has no numbers; every device needs both.
  const number = (key: 'major' | 'minor', max: number): number | undefined =>
    type === 'p' && fields[key] === undefined ? 0 : readInteger(errs, fields[key], childPath(path, key), 0, max);
  const major = number('major', MAX_MAJOR);
  const minor = number('minor', MAX_MINOR);
  const fileMode = fields.fileMode === undefined ? 0o666 : readInteger(errs, fields.fileMode, childPath(path, 'fileMode'), 0, 0o7777);
  const uid = fields.uid === undefined ? 0 : readInteger(errs, fields.uid, childPath(path, 'uid'), 0, MAX_ID);
  const gid = fields.gid === undefined ? 0 : readInteger(errs, fields.gid, childPath(path, 'gid'), 0, MAX_ID);
  if (errs.count !== before || nodePath === undefined || type === undefined || major === undefined || minor === undefined
    || fileMode === undefined || uid === undefined || gid === undefined) return undefined;
  return { path: nodePath, type, major, minor, fileMode, uid, gid };
}

export function readDeviceNodes(errs: ProfileErrorList, value: unknown, path: string, namespaces: readonly NamespaceType[]): DeviceNode[] | undefined {
  if (value === undefined) return [];
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  if (list.length > 0 && !requireNamespace(errs, namespaces, 'mnt', path, 'devices')) return undefined;
  const before = errs.count;
  const devices = list.map((item, i) => readDevice(errs, item, childPath(path, i)));
  devices.forEach((d, i) => {
    if (d !== undefined && devices.findIndex((other) => other?.path === d.path) !== i) {
      errs.add(childPath(childPath(path, i), 'path'), 'each path once', d.path);
    }
  });
  return errs.count === before ? (devices as DeviceNode[]) : undefined;
}
