// A profile's resources as the list of cgroup interface-file writes that carry them out, on either
// cgroup version, in the order they are made. Plain data, computed without touching the host, so
// the translation (runc's meanings: 0 is "not set", -1 is "no limit", cpu shares become a v2
// weight) is tested on any host, including the v2 path on a host whose controllers are on v1.
import type { DeviceRule, Resources } from '../policy/profile/types.js';

export type CgroupController = 'pids' | 'memory' | 'cpu' | 'cpuset' | 'blkio' | 'io' | 'hugetlb' | 'devices';

export interface CgroupWrite {
  /** Which hierarchy's directory the file is in: a v1 controller's, or the v2 one. */
  version: 1 | 2;
  controller: CgroupController;
  file: string;
  value: string;
  /** The profile field the value comes from, for the error when the kernel refuses it. */
  field: string;
  /** Written instead when `file` does not exist (a kernel with BFQ has blkio.bfq.weight, not blkio.weight). */
  fallback?: { file: string; value: string };
  /** A file that may be missing without it being an error (v2 memory.swap.max without swap accounting). */
  optional?: boolean;
}

/** Where each controller is: on a v1 hierarchy of its own, or in the v2 tree. */
export type ControllerPlacement = (controller: 'pids' | 'memory' | 'cpu' | 'cpuset' | 'blkio' | 'hugetlb' | 'devices') => 1 | 2;

/** A resource the host's layout cannot carry out, refused the way runc refuses it. */
export class CgroupResourceRefusal extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'CgroupResourceRefusal';
  }
}

export interface CgroupWritePlan {
  writes: CgroupWrite[];
  /** Values runc accepts and then has no file for on this cgroup version: said once each, not dropped silently. */
  warnings: string[];
}

/** runc's ConvertCPUSharesToCgroupV2Value: 2..262144 onto 1..10000, linearly. */
export function cpuWeightFromShares(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** runc's ConvertBlkIOToIOWeightValue: 10..1000 onto 1..10000, linearly. */
export function ioWeightFromBlkioWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/** -1 is "no limit": v1 files take -1 itself, v2 files "max". */
const v2Limit = (n: number): string => (n === -1 ? 'max' : String(n));

export function cgroupWritePlan(resources: Resources, placement: ControllerPlacement, fieldPrefix = 'resources'): CgroupWritePlan {
  const writes: CgroupWrite[] = [];
  const warnings: string[] = [];
  const f = (path: string): string => `${fieldPrefix}.${path}`;
  const add = (version: 1 | 2, controller: CgroupController, file: string, value: string | number, field: string, extra: Partial<CgroupWrite> = {}): void => {
    writes.push({ version, controller, file, value: String(value), field: f(field), ...extra });
  };

  const pids = resources.pids;
  if (pids !== undefined && pids.limit !== 0) {
    add(placement('pids'), 'pids', 'pids.max', pids.limit > 0 ? pids.limit : 'max', 'pids.limit');
  }

  const memory = resources.memory;
  if (memory !== undefined) {
    const v = placement('memory');
    const limit = memory.limit ?? 0;
    // Memory without limit and swap unset means both unlimited (runc keeps v1's meaning on v2 too).
    const swap = limit === -1 && (memory.swap ?? 0) === 0 ? -1 : memory.swap ?? 0;
    if (v === 1) {
      // A fresh cgroup's limit is the maximum, so memory+swap may only follow the memory limit down,
      // unless it is -1; runc orders the two writes the same way.
      const swapWrite = (): void => { if (swap !== 0) add(1, 'memory', 'memory.memsw.limit_in_bytes', swap, 'memory.swap'); };
      if (swap === -1) swapWrite();
      if (limit !== 0) add(1, 'memory', 'memory.limit_in_bytes', limit, 'memory.limit');
      if (swap !== -1) swapWrite();
      if ((memory.reservation ?? 0) !== 0) add(1, 'memory', 'memory.soft_limit_in_bytes', memory.reservation!, 'memory.reservation');
      if (memory.swappiness !== undefined) add(1, 'memory', 'memory.swappiness', memory.swappiness, 'memory.swappiness');
      if (memory.disableOOMKiller === true) add(1, 'memory', 'memory.oom_control', 1, 'memory.disableOOMKiller');
    } else {
      // v2 counts swap apart from memory: memory.swap.max is the spec's memory+swap minus the limit.
      if (swap === -1) add(2, 'memory', 'memory.swap.max', 'max', 'memory.swap', { optional: true });
      else if (swap > 0) {
        if (limit <= 0) throw new CgroupResourceRefusal(f('memory.swap'), 'a swap limit needs a memory limit on cgroup v2 (runc refuses it too)');
        add(2, 'memory', 'memory.swap.max', swap - limit, 'memory.swap', { optional: swap === limit });
      }
      if (limit !== 0) add(2, 'memory', 'memory.max', v2Limit(limit), 'memory.limit');
      if ((memory.reservation ?? 0) !== 0) add(2, 'memory', 'memory.low', v2Limit(memory.reservation!), 'memory.reservation');
      if (memory.swappiness !== undefined) warnings.push(`${f('memory.swappiness')} has no cgroup v2 file; like runc, nsrig leaves swappiness as the kernel has it`);
      if (memory.disableOOMKiller === true) warnings.push(`${f('memory.disableOOMKiller')} has no cgroup v2 file; like runc, nsrig leaves the OOM killer on`);
    }
  }

  const cpu = resources.cpu;
  if (cpu !== undefined) {
    const shares = cpu.shares ?? 0;
    const quota = cpu.quota ?? 0;
    const period = cpu.period ?? 0;
    if (placement('cpu') === 1) {
      if (shares !== 0) add(1, 'cpu', 'cpu.shares', shares, 'cpu.shares');
      // Period before quota: a quota is checked against the period already in place.
      if (period !== 0) add(1, 'cpu', 'cpu.cfs_period_us', period, 'cpu.period');
      if (quota !== 0) add(1, 'cpu', 'cpu.cfs_quota_us', quota, 'cpu.quota');
      if ((cpu.realtimePeriod ?? 0) !== 0) add(1, 'cpu', 'cpu.rt_period_us', cpu.realtimePeriod!, 'cpu.realtimePeriod');
      if ((cpu.realtimeRuntime ?? 0) !== 0) add(1, 'cpu', 'cpu.rt_runtime_us', cpu.realtimeRuntime!, 'cpu.realtimeRuntime');
    } else {
      if (shares !== 0) add(2, 'cpu', 'cpu.weight', cpuWeightFromShares(shares), 'cpu.shares');
      if (quota !== 0 || period !== 0) {
        add(2, 'cpu', 'cpu.max', `${quota > 0 ? quota : 'max'}${period !== 0 ? ` ${period}` : ''}`, quota !== 0 ? 'cpu.quota' : 'cpu.period');
      }
      for (const key of ['realtimeRuntime', 'realtimePeriod'] as const) {
        if ((cpu[key] ?? 0) !== 0) throw new CgroupResourceRefusal(f(`cpu.${key}`), 'cgroup v2 has no realtime CPU bandwidth files (runc refuses it too)');
      }
    }
    const cpusetVersion = cpu.cpus !== undefined || cpu.mems !== undefined ? placement('cpuset') : undefined;
    if (cpu.cpus !== undefined && cpu.cpus !== '') add(cpusetVersion!, 'cpuset', 'cpuset.cpus', cpu.cpus, 'cpu.cpus');
    if (cpu.mems !== undefined && cpu.mems !== '') add(cpusetVersion!, 'cpuset', 'cpuset.mems', cpu.mems, 'cpu.mems');
  }

  const blockIO = resources.blockIO;
  if (blockIO !== undefined) {
    const v = placement('blkio');
    const weight = blockIO.weight ?? 0;
    if (v === 1) {
      if (weight !== 0) add(1, 'blkio', 'blkio.weight', weight, 'blockIO.weight', { fallback: { file: 'blkio.bfq.weight', value: String(weight) } });
    } else if (weight !== 0) {
      // BFQ takes the v1 range as it is; the io controller's own weight is rescaled.
      add(2, 'io', 'io.bfq.weight', weight, 'blockIO.weight', { fallback: { file: 'io.weight', value: String(ioWeightFromBlkioWeight(weight)) } });
    }
    const throttles = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
    ] as const;
    for (const [key, v1File, v2Key] of throttles) {
      blockIO[key]?.forEach((t, i) => {
        if (v === 1) add(1, 'blkio', v1File, `${t.major}:${t.minor} ${t.rate}`, `blockIO.${key}[${i}]`);
        else add(2, 'io', 'io.max', `${t.major}:${t.minor} ${v2Key}=${t.rate}`, `blockIO.${key}[${i}]`);
      });
    }
  }

  resources.hugepageLimits?.forEach((h, i) => {
    const v = placement('hugetlb');
    add(v, 'hugetlb', v === 1 ? `hugetlb.${h.pageSize}.limit_in_bytes` : `hugetlb.${h.pageSize}.max`, h.limit, `hugepageLimits[${i}].limit`);
  });

  if (resources.devices !== undefined && placement('devices') === 1) {
    // runc starts every allow-list from "deny all", also one whose rules do not say so.
    add(1, 'devices', 'devices.deny', 'a', 'devices');
    resources.devices.forEach((rule, i) => {
      add(1, 'devices', rule.allow ? 'devices.allow' : 'devices.deny', deviceRuleText(rule), `devices[${i}]`);
    });
    for (const rule of DEFAULT_DEVICE_RULES) add(1, 'devices', 'devices.allow', deviceRuleText(rule), 'devices');
  }
  return { writes, warnings };
}

const char = (major: number, minor: number): DeviceRule => ({ allow: true, type: 'c', major, minor, access: 'rwm' });

/**
 * What runc 1.1 appends after a config's own device rules, so they always stand: mknod of any
 * node, the six default devices, /dev/ptmx, the devpts ptys and /dev/net/tun. Read back from
 * devices.list of a runc 1.1.5 container on the development host; nsrig appends the same.
 */
export const DEFAULT_DEVICE_RULES: readonly DeviceRule[] = [
  { allow: true, type: 'c', major: -1, minor: -1, access: 'm' }, { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  char(1, 3), char(1, 8), char(1, 7), char(5, 0), char(1, 5), char(1, 9), char(136, -1), char(5, 2), char(10, 200),
];

/** The v1 devices controller's rule syntax (admin-guide/cgroup-v1/devices.rst): "c 1:3 rw", "a". */
export function deviceRuleText(rule: DeviceRule): string {
  if (rule.type === 'a') return 'a';
  const n = (x: number): string => (x === -1 ? '*' : String(x));
  return `${rule.type} ${n(rule.major)}:${n(rule.minor)} ${rule.access}`;
}
