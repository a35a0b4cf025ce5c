// `resources` and `cgroupsPath`: the container's cgroup limits, read with the runtime-spec's names
// and runc's meanings (0 means "not set" where runc reads it so, -1 means "no limit"). Ranges are
// the kernel's own, so a value the kernel would refuse is an error here, before anything exists.
import type { BlockIoThrottle, DeviceRule, Resources } from './types.js';
import { childPath, isPlainObject, readBoolean, readInteger, readList, readObject, readString, type Fields } from './field-reader.js';
import type { ProfileErrorList } from './profile-error.js';

type Unsupported = Readonly<Record<string, string>>;

/** int64 values a profile can state exactly; larger ones would be rounded by JSON and YAML. */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

const RESOURCE_FIELDS = ['pids', 'memory', 'cpu', 'blockIO', 'hugepageLimits', 'unified', 'devices'];
const RESOURCE_UNSUPPORTED: Unsupported = {
  network: 'nsrig sets no net_cls class id or net_prio priorities',
  rdma: 'nsrig sets no RDMA limits',
};
const MEMORY_FIELDS = ['limit', 'reservation', 'swap', 'swappiness', 'disableOOMKiller', 'checkBeforeUpdate'];
const MEMORY_UNSUPPORTED: Unsupported = {
  kernel: 'kernel memory limits are deprecated and Linux 5.4+ ignores them; nsrig sets none',
  kernelTCP: 'kernel memory limits are deprecated; nsrig sets none',
  useHierarchy: 'nsrig leaves memory.use_hierarchy as the kernel has it',
};
const CPU_FIELDS = ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems'];
const CPU_UNSUPPORTED: Unsupported = {
  burst: 'nsrig sets no CFS burst (runc 1.1 knows none either)',
  idle: 'nsrig does not set cpu.idle (runc 1.1 knows none either)',
};
const THROTTLES = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;
const BLOCK_IO_UNSUPPORTED: Unsupported = {
  leafWeight: 'nsrig sets no leaf weight (CFQ is gone from Linux 5.0+)',
  weightDevice: 'nsrig sets the whole container\'s weight and per-device throttles, no per-device weight',
};

/** CPU list syntax of cpuset(7): "0-3,7". */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
/** Page sizes as runc and the hugetlb interface files spell them: "2MB", "1GB". */
const PAGE_SIZE = /^[1-9]\d*(KB|MB|GB)$/;
/** A cgroup v2 interface file of a controller ("memory.high"); cgroup.* files shape the tree itself. */
const UNIFIED_KEY = /^[a-z_][a-z0-9_]*\.[a-z0-9_.]+$/;

function readSection(errs: ProfileErrorList, value: unknown, path: string, known: readonly string[], unsupported: Unsupported): Fields | undefined {
  const fields = readObject(errs, value, path, [...known, ...Object.keys(unsupported)]);
  if (fields === undefined) return undefined;
  for (const [key, reason] of Object.entries(unsupported)) {
    if (fields[key] !== undefined) errs.add(childPath(path, key), `no ${key} (${reason})`, fields[key]);
  }
  return fields;
}

/** Copies each present field read by `read` into `out`; returns false when one was wrong. */
function readFields(fields: Fields, path: string, out: Fields, readers: Record<string, (value: unknown, at: string) => unknown>): boolean {
  let ok = true;
  for (const [key, read] of Object.entries(readers)) {
    if (fields[key] === undefined) continue;
    const value = read(fields[key], childPath(path, key));
    if (value === undefined) ok = false;
    else out[key] = value;
  }
  return ok;
}

export function readResources(errs: ProfileErrorList, value: unknown, path: string): Resources | undefined {
  const fields = readSection(errs, value, path, RESOURCE_FIELDS, RESOURCE_UNSUPPORTED);
  if (fields === undefined) return undefined;
  const before = errs.count;
  const int = (min: number, max: number, expected?: string) => (v: unknown, at: string): number | undefined => {
    if (expected === undefined) return readInteger(errs, v, at, min, max);
    if (typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max) return v;
    errs.add(at, expected, v);
    return undefined;
  };
  const limitOrUnlimited = int(-1, MAX_EXACT, `an integer number of bytes up to ${MAX_EXACT}, 0 for not set or -1 for no limit`);
  const resources: Resources = {};
  if (fields.pids !== undefined) {
    const pids = readObject(errs, fields.pids, childPath(path, 'pids'), ['limit']);
    const at = childPath(childPath(path, 'pids'), 'limit');
    if (pids !== undefined && pids.limit === undefined) errs.add(at, 'a limit (the runtime-spec requires it)', undefined);
    const limit = pids?.limit === undefined ? undefined
      : int(-1, MAX_EXACT, `an integer number of processes up to ${MAX_EXACT}, 0 for not set or -1 for no limit`)(pids.limit, at);
    if (limit !== undefined) resources.pids = { limit };
  }
  if (fields.memory !== undefined) {
    const at = childPath(path, 'memory');
    const memory = readSection(errs, fields.memory, at, MEMORY_FIELDS, MEMORY_UNSUPPORTED);
    const out: Fields = {};
    if (memory !== undefined && readFields(memory, at, out, {
      limit: limitOrUnlimited, reservation: limitOrUnlimited, swap: limitOrUnlimited,
      swappiness: int(0, 100), disableOOMKiller: (v, p) => readBoolean(errs, v, p), checkBeforeUpdate: (v, p) => readBoolean(errs, v, p),
    })) {
      delete out.checkBeforeUpdate;
      const { limit, swap } = out as { limit?: number; swap?: number };
      // swap is memory plus swap (runtime-spec, as v1's memsw): the kernel refuses it below the limit.
      if (swap !== undefined && swap > 0 && !(limit !== undefined && limit > 0)) {
        errs.add(childPath(at, 'swap'), 'no swap limit without a memory limit (memory plus swap cannot be limited alone; runc refuses it too), or -1', swap);
      } else if (limit !== undefined && swap !== undefined && limit > 0 && swap > 0 && swap < limit) {
        errs.add(childPath(at, 'swap'), `memory plus swap, at least memory.limit (${limit}), or -1 for no limit`, swap);
      } else resources.memory = out;
    }
  }
  if (fields.cpu !== undefined) {
    const at = childPath(path, 'cpu');
    const cpu = readSection(errs, fields.cpu, at, CPU_FIELDS, CPU_UNSUPPORTED);
    const out: Fields = {};
    const cpuList = (v: unknown, p: string): string | undefined => {
      const text = readString(errs, v, p, 'a CPU or memory node list such as "0-3,7"');
      if (text === undefined || CPU_LIST.test(text)) return text;
      errs.add(p, 'a CPU or memory node list such as "0-3,7"', text);
      return undefined;
    };
    if (cpu !== undefined && readFields(cpu, at, out, {
      // The kernel clamps cpu.shares to 2..262144; runc refuses a value it would clamp.
      shares: int(0, 262144, 'an integer from 2 to 262144, or 0 for not set'),
      // CFS takes a quota of at least 1 ms and a period from 1 ms to 1 s (sched-bwc.rst).
      quota: int(-1, MAX_EXACT, 'microseconds, at least 1000, or 0 for not set or -1 for no limit'),
      period: int(0, 1_000_000, 'microseconds from 1000 to 1000000, or 0 for not set'),
      realtimeRuntime: int(-1, MAX_EXACT), realtimePeriod: int(0, MAX_EXACT),
      cpus: cpuList, mems: cpuList,
    })) {
      const shares = out.shares as number | undefined;
      const quota = out.quota as number | undefined;
      const period = out.period as number | undefined;
      if (shares === 1) errs.add(childPath(at, 'shares'), 'an integer from 2 to 262144, or 0 for not set', shares);
      else if (quota !== undefined && quota > 0 && quota < 1000) errs.add(childPath(at, 'quota'), 'microseconds, at least 1000, or 0 for not set or -1 for no limit', quota);
      else if (period !== undefined && period > 0 && period < 1000) errs.add(childPath(at, 'period'), 'microseconds from 1000 to 1000000, or 0 for not set', period);
      else resources.cpu = out;
    }
  }
  if (fields.blockIO !== undefined) {
    const at = childPath(path, 'blockIO');
    const blockIO = readSection(errs, fields.blockIO, at, ['weight', ...THROTTLES], BLOCK_IO_UNSUPPORTED);
    const out: Fields = {};
    const throttles = (v: unknown, p: string): BlockIoThrottle[] | undefined => readItems(errs, v, p, (item, itemAt) => {
      const t = readObject(errs, item, itemAt, ['major', 'minor', 'rate']);
      if (t === undefined) return undefined;
      const major = readInteger(errs, t.major, childPath(itemAt, 'major'), 0, 4095);
      const minor = readInteger(errs, t.minor, childPath(itemAt, 'minor'), 0, 1048575);
      const rate = readInteger(errs, t.rate, childPath(itemAt, 'rate'), 0, MAX_EXACT);
      return major === undefined || minor === undefined || rate === undefined ? undefined : { major, minor, rate };
    });
    const weight = (v: unknown, p: string): number | undefined => {
      const n = int(0, 1000, 'an integer from 10 to 1000, or 0 for not set')(v, p);
      if (n === undefined || n === 0 || n >= 10) return n;
      errs.add(p, 'an integer from 10 to 1000, or 0 for not set', n);
      return undefined;
    };
    if (blockIO !== undefined && readFields(blockIO, at, out, { weight, ...Object.fromEntries(THROTTLES.map((k) => [k, throttles])) })) {
      resources.blockIO = out;
    }
  }
  if (fields.hugepageLimits !== undefined) {
    const limits = readItems(errs, fields.hugepageLimits, childPath(path, 'hugepageLimits'), (item, at) => {
      const h = readObject(errs, item, at, ['pageSize', 'limit']);
      if (h === undefined) return undefined;
      const pageSize = readString(errs, h.pageSize, childPath(at, 'pageSize'), 'a page size such as "2MB" or "1GB"');
      if (pageSize !== undefined && !PAGE_SIZE.test(pageSize)) errs.add(childPath(at, 'pageSize'), 'a page size such as "2MB" or "1GB"', pageSize);
      const limit = readInteger(errs, h.limit, childPath(at, 'limit'), 0, MAX_EXACT);
      return pageSize === undefined || !PAGE_SIZE.test(pageSize) || limit === undefined ? undefined : { pageSize, limit };
    });
    if (limits !== undefined) resources.hugepageLimits = limits;
  }
  if (fields.unified !== undefined) {
    const unified = readUnified(errs, fields.unified, childPath(path, 'unified'));
    if (unified !== undefined) resources.unified = unified;
  }
  if (fields.devices !== undefined) {
    const devices = readItems(errs, fields.devices, childPath(path, 'devices'), (item, at) => readDeviceRule(errs, item, at));
    if (devices !== undefined) resources.devices = devices;
  }
  return errs.count === before ? resources : undefined;
}

function readItems<T>(errs: ProfileErrorList, value: unknown, path: string, read: (item: unknown, at: string) => T | undefined): T[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  const items = list.map((item, i) => read(item, childPath(path, i)));
  return items.every((item) => item !== undefined) ? items as T[] : undefined;
}

function readUnified(errs: ProfileErrorList, value: unknown, path: string): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    errs.add(path, 'an object of interface file names and values', value);
    return undefined;
  }
  const fields = value;
  const unified: Record<string, string> = {};
  let ok = true;
  for (const [key, text] of Object.entries(fields)) {
    const at = childPath(path, key);
    if (!UNIFIED_KEY.test(key) || key.startsWith('cgroup.')) {
      errs.addDescribed(at, 'a controller\'s interface file such as "memory.high" (no "/", no cgroup.* file)', JSON.stringify(key));
      ok = false;
      continue;
    }
    const read = readString(errs, text, at, 'the value to write, as a string');
    if (read === undefined) ok = false;
    else unified[key] = read;
  }
  return ok ? unified : undefined;
}

const ACCESS = /^(?!.*(.).*\1)[rwm]{1,3}$/;

function readDeviceRule(errs: ProfileErrorList, value: unknown, at: string): DeviceRule | undefined {
  const rule = readObject(errs, value, at, ['allow', 'type', 'major', 'minor', 'access']);
  if (rule === undefined) return undefined;
  const allow = rule.allow === undefined
    ? (errs.add(childPath(at, 'allow'), 'true or false (the runtime-spec requires it)', undefined), undefined)
    : readBoolean(errs, rule.allow, childPath(at, 'allow'));
  let type: DeviceRule['type'] | undefined = 'a';
  if (rule.type !== undefined) {
    type = rule.type === 'a' || rule.type === 'c' || rule.type === 'b' ? rule.type : undefined;
    if (type === undefined) errs.add(childPath(at, 'type'), 'one of a (all), c (character) or b (block)', rule.type);
  }
  // An absent major or minor, or -1, is the wildcard "*".
  const number = (key: 'major' | 'minor', max: number): number | undefined => rule[key] === undefined ? -1
    : readInteger(errs, rule[key], childPath(at, key), -1, max);
  const major = number('major', 4095);
  const minor = number('minor', 1048575);
  let access: string | undefined = 'rwm';
  if (rule.access !== undefined) {
    access = readString(errs, rule.access, childPath(at, 'access'), 'some of r, w and m, each at most once');
    if (access !== undefined && !ACCESS.test(access)) {
      errs.add(childPath(at, 'access'), 'some of r, w and m, each at most once', access);
      access = undefined;
    }
  }
  if (allow === undefined || type === undefined || major === undefined || minor === undefined || access === undefined) return undefined;
  return { allow, type, major, minor, access };
}

const CGROUPS_PATH_EXPECTED = 'a cgroup path, absolute ("/a/b") or relative ("a/b"), without "." or ".." parts';

/**
 * runc's cgroupfs driver cleans "..", so a path cannot leave the hierarchy; nsrig refuses it
 * instead, so the directory a person reads is the one used. "slice:prefix:name" is for systemd.
 */
export function readCgroupsPath(errs: ProfileErrorList, value: unknown, path: string): string | undefined {
  const text = readString(errs, value, path, CGROUPS_PATH_EXPECTED);
  if (text === undefined) return undefined;
  if (/^[^/:]*:[^/:]*:[^/:]*$/.test(text)) {
    errs.addDescribed(path, CGROUPS_PATH_EXPECTED, `a systemd "slice:prefix:name" path ${JSON.stringify(text)}`,
      'nsrig writes cgroupfs directly, like runc without --systemd-cgroup');
    return undefined;
  }
  const parts = text.split('/').filter((p, i) => !(p === '' && i === 0));
  if (text === '' || text === '/' || parts.some((p) => p === '' || p === '.' || p === '..')) {
    errs.add(path, CGROUPS_PATH_EXPECTED, text);
    return undefined;
  }
  return text;
}
