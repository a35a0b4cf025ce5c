// The type of every field of a runtime-spec config (config.md, config-linux.md, v1.0.2 to 1.2),
// checked before anything is read from it, also for fields nsrig does not carry out: a value
// runc's decoder or its validator would refuse (a string where a list goes, -1 for a uint32,
// 1e308 for an rlimit, a NUL byte, a device rule's access "../../etc") is an error here with its
// field path, so no later step ever sees a malformed value. What a field means is left to the
// importer; this file only says what shape each value has.
import { childPath, isPlainObject, readObject } from './field-reader.js';
import type { ProfileErrorList } from './profile-error.js';

/** Checks one value at one path, recording errors; says whether the value was well formed. */
export type Shape = (errs: ProfileErrorList, value: unknown, path: string) => boolean;

function fail(errs: ProfileErrorList, path: string, expected: string, value: unknown): false {
  errs.add(path, expected, value);
  return false;
}

export const text: Shape = (errs, value, path) => {
  if (typeof value === 'string' && !value.includes('\0')) return true;
  return fail(errs, path, typeof value === 'string' ? 'a string without NUL bytes' : 'a string', value);
};

export const boolean: Shape = (errs, value, path) => typeof value === 'boolean' || fail(errs, path, 'true or false', value);

/**
 * An integer of a Go type. Past 2^53 a number read from JSON is the nearest double, so 2^64-1
 * arrives as 2^64 (and 2^63-1 as 2^63): that one double stands for the type's largest value.
 * A loader that keeps integers exact passes bigints, which are checked exactly.
 */
function integer(bits: 16 | 32 | 64, signed: boolean, name: string): Shape {
  const min = signed ? -(2n ** BigInt(bits - 1)) : 0n;
  const max = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
  const expected = `${name} (an integer from ${min} to ${max})`;
  return (errs, value, path) => {
    if (typeof value === 'bigint') return (value >= min && value <= max) || fail(errs, path, expected, value);
    if (typeof value !== 'number' || !Number.isInteger(value)) return fail(errs, path, expected, value);
    const inRange = value >= Number(min) && (value <= Number(max));
    return inRange || fail(errs, path, expected, value);
  };
}
export const uint16 = integer(16, false, 'an unsigned 16-bit integer');
export const uint32 = integer(32, false, 'an unsigned 32-bit integer');
export const int32 = integer(32, true, 'a signed 32-bit integer');
export const uint64 = integer(64, false, 'an unsigned 64-bit integer');
export const int64 = integer(64, true, 'a signed 64-bit integer');

export function oneOf(choices: readonly string[]): Shape {
  return (errs, value, path) => (typeof value === 'string' && choices.includes(value)) || fail(errs, path, `one of ${choices.join(', ')}`, value);
}

export function matching(pattern: RegExp, expected: string): Shape {
  return (errs, value, path) => (typeof value === 'string' && pattern.test(value)) || fail(errs, path, expected, value);
}

export function list(item: Shape): Shape {
  return (errs, value, path) => {
    if (!Array.isArray(value)) return fail(errs, path, 'a list', value);
    return value.map((v, i) => item(errs, v, childPath(path, i))).every(Boolean);
  };
}

/** A JSON object used as a map (annotations, sysctl, unified): any keys, each value of one shape. */
export function map(valueShape: Shape, keyExpected = 'a key without NUL bytes'): Shape {
  return (errs, value, path) => {
    if (!isPlainObject(value)) return fail(errs, path, 'an object', value);
    let ok = true;
    for (const [key, v] of Object.entries(value)) {
      const at = childPath(path, key);
      if (key === '' || key.includes('\0')) ok = fail(errs, at, keyExpected, key);
      else ok = valueShape(errs, v, at) && ok;
    }
    return ok;
  };
}

/** A struct: only these fields (an unknown one is an error), each of its shape, the required ones present. */
export function struct(fields: Readonly<Record<string, Shape>>, required: readonly string[] = []): Shape {
  return (errs, value, path) => {
    const before = errs.count;
    const object = readObject(errs, value, path, Object.keys(fields));
    if (object === undefined) return false;
    for (const name of required) if (object[name] === undefined) errs.add(childPath(path, name), `a value (${name} is required)`, undefined);
    for (const [name, shape] of Object.entries(fields)) {
      if (object[name] !== undefined) shape(errs, object[name], childPath(path, name));
    }
    return errs.count === before;
  };
}

/** Checked elsewhere (the seccomp policy, by policy/seccomp through the loader's validator). */
const opaque: Shape = (errs, value, path) => isPlainObject(value) || fail(errs, path, 'an object', value);

const idMapping = struct({ containerID: uint32, hostID: uint32, size: uint32 }, ['containerID', 'hostID', 'size']);
const hook = struct({ path: text, args: list(text), env: list(text), timeout: int64 }, ['path']);
const hookList = list(hook);

/** Device cgroup rules as runc's devices package parses them: type a/b/c, access a subset of rwm. */
const deviceRule = struct({
  allow: boolean, type: oneOf(['a', 'b', 'c']), major: int64, minor: int64,
  access: matching(/^(?!.*(.).*\1)[rwm]{0,3}$/, 'an access string of the letters r, w and m, each at most once'),
}, ['allow']);
const throttle = struct({ major: int64, minor: int64, rate: uint64 }, ['major', 'minor', 'rate']);
const weightDevice = struct({ major: int64, minor: int64, weight: uint16, leafWeight: uint16 }, ['major', 'minor']);

const resources = struct({
  devices: list(deviceRule),
  memory: struct({
    limit: int64, reservation: int64, swap: int64, kernel: int64, kernelTCP: int64, swappiness: uint64,
    disableOOMKiller: boolean, useHierarchy: boolean, checkBeforeUpdate: boolean,
  }),
  cpu: struct({
    shares: uint64, quota: int64, burst: uint64, period: uint64, realtimeRuntime: int64, realtimePeriod: uint64,
    cpus: text, mems: text, idle: int64,
  }),
  pids: struct({ limit: int64 }, ['limit']),
  blockIO: struct({
    weight: uint16, leafWeight: uint16, weightDevice: list(weightDevice),
    throttleReadBpsDevice: list(throttle), throttleWriteBpsDevice: list(throttle),
    throttleReadIOPSDevice: list(throttle), throttleWriteIOPSDevice: list(throttle),
  }),
  hugepageLimits: list(struct({ pageSize: text, limit: uint64 }, ['pageSize', 'limit'])),
  network: struct({ classID: uint32, priorities: list(struct({ name: text, priority: uint32 }, ['name', 'priority'])) }),
  rdma: map(struct({ hcaHandles: uint32, hcaObjects: uint32 })),
  unified: map(text),
});

const FILE_TYPES = ['c', 'b', 'u', 'p'];

const linux = struct({
  namespaces: list(struct({ type: text, path: text }, ['type'])),
  uidMappings: list(idMapping),
  gidMappings: list(idMapping),
  timeOffsets: map(struct({ secs: int64, nanosecs: uint32 })),
  devices: list(struct({ type: oneOf(FILE_TYPES), path: text, major: int64, minor: int64, fileMode: uint32, uid: uint32, gid: uint32 },
    ['type', 'path'])),
  cgroupsPath: text,
  resources,
  rootfsPropagation: text,
  seccomp: opaque,
  sysctl: map(text),
  maskedPaths: list(text),
  readonlyPaths: list(text),
  mountLabel: text,
  intelRdt: struct({ closID: text, l3CacheSchema: text, memBwSchema: text, enableCMT: boolean, enableMBM: boolean }),
  personality: struct({ domain: text, flags: list(text) }, ['domain']),
  memoryPolicy: struct({ mode: text, nodes: text, flags: list(text) }, ['mode']),
  netDevices: map(struct({ name: text })),
  unshareFlags: text,
});

const processShape = struct({
  terminal: boolean,
  consoleSize: struct({ height: uint32, width: uint32 }, ['height', 'width']),
  user: struct({ uid: uint32, gid: uint32, umask: uint32, additionalGids: list(uint32), username: text }),
  args: list(text),
  commandLine: text,
  env: list(text),
  cwd: text,
  capabilities: struct({ bounding: list(text), effective: list(text), inheritable: list(text), permitted: list(text), ambient: list(text) }),
  rlimits: list(struct({ type: text, hard: uint64, soft: uint64 }, ['type', 'hard', 'soft'])),
  noNewPrivileges: boolean,
  apparmorProfile: text,
  oomScoreAdj: int32,
  scheduler: struct({
    policy: text, nice: int32, priority: int32, flags: list(text), runtime: uint64, deadline: uint64, period: uint64,
  }, ['policy']),
  selinuxLabel: text,
  ioPriority: struct({ class: text, priority: int32 }, ['class']),
  execCPUAffinity: struct({ initial: text, final: text }),
});

const mount = struct({ destination: text, type: text, source: text, options: list(text), uidMappings: list(idMapping), gidMappings: list(idMapping) },
  ['destination']);

/** The whole document. The platform sections of other operating systems only need to be objects: they are refused anyway. */
export const ociConfigShape: Shape = struct({
  ociVersion: text,
  process: processShape,
  root: struct({ path: text, readonly: boolean }, ['path']),
  hostname: text,
  domainname: text,
  mounts: list(mount),
  hooks: struct({
    prestart: hookList, createRuntime: hookList, createContainer: hookList, startContainer: hookList, poststart: hookList, poststop: hookList,
  }),
  annotations: map(text),
  linux,
  solaris: opaque, windows: opaque, vm: opaque, zos: opaque,
}, ['ociVersion']);
