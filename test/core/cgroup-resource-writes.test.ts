// The translation of resources into cgroup file writes, on both versions. The v1 values are also
// checked on this host for real (cgroup-resources.test.ts, against what runc 1.1.5 writes); the v2
// ones are checked here as data, because a host whose controllers sit on v1 hierarchies cannot
// give them to a cgroup2 mount, private or not (a controller is bound to one hierarchy at a time).
import test from 'ava';
import {
  cgroupWritePlan, cpuWeightFromShares, ioWeightFromBlkioWeight, DEFAULT_DEVICE_RULES, type ControllerPlacement,
} from '../../core/cgroup-resource-writes.js';
import type { Resources } from '../../policy/profile/types.js';

const V1: ControllerPlacement = () => 1;
const V2: ControllerPlacement = () => 2;
const pairs = (r: Resources, p: ControllerPlacement) => cgroupWritePlan(r, p).writes.map((w) => `${w.file}=${w.value}`);

test('runc\'s conversions to v2: shares onto cpu.weight, the blkio weight onto io.weight, at both ends and the middle', (t) => {
  t.deepEqual([2, 1024, 262144].map(cpuWeightFromShares), [1, 39, 10000]);
  t.deepEqual([10, 500, 1000].map(ioWeightFromBlkioWeight), [1, 4950, 10000]);
});

test('0 means not set and writes nothing, on both versions', (t) => {
  const unset: Resources = { pids: { limit: 0 }, memory: { limit: 0, reservation: 0, swap: 0 }, cpu: { shares: 0, quota: 0, period: 0 }, blockIO: { weight: 0 } };
  t.deepEqual(pairs(unset, V1), []);
  t.deepEqual(pairs(unset, V2), []);
});

test('-1 means no limit: "max" on v2, -1 itself on v1; memory -1 with swap unset lifts both', (t) => {
  const r: Resources = { pids: { limit: -1 }, memory: { limit: -1 }, cpu: { quota: -1, period: 100000 } };
  t.deepEqual(pairs(r, V1), ['pids.max=max', 'memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1', 'cpu.cfs_period_us=100000', 'cpu.cfs_quota_us=-1']);
  t.deepEqual(pairs(r, V2), ['pids.max=max', 'memory.swap.max=max', 'memory.max=max', 'cpu.max=max 100000']);
});

test('memory on v2: swap is memory+swap in the spec, swap alone in memory.swap.max; equal values turn swap off', (t) => {
  t.deepEqual(pairs({ memory: { limit: 100, swap: 300, reservation: 50 } }, V2), ['memory.swap.max=200', 'memory.max=100', 'memory.low=50']);
  t.deepEqual(pairs({ memory: { limit: 100, swap: 100 } }, V2), ['memory.swap.max=0', 'memory.max=100']);
  t.deepEqual(pairs({ memory: { limit: 100, swap: 300 } }, V1), ['memory.limit_in_bytes=100', 'memory.memsw.limit_in_bytes=300']);
  t.throws(() => cgroupWritePlan({ memory: { swap: 300 } }, V2), { message: /resources\.memory\.swap: a swap limit needs a memory limit/ });
});

test('swappiness and disableOOMKiller: files on v1, a warning on v2 where runc has none to write either', (t) => {
  const r: Resources = { memory: { swappiness: 0, disableOOMKiller: true } };
  t.deepEqual(pairs(r, V1), ['memory.swappiness=0', 'memory.oom_control=1']);
  const v2 = cgroupWritePlan(r, V2);
  t.deepEqual(v2.writes, []);
  t.is(v2.warnings.length, 2);
});

test('cpu on v2: weight, cpu.max "quota period", cpuset files; realtime refused', (t) => {
  t.deepEqual(pairs({ cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' } }, V2),
    ['cpu.weight=39', 'cpu.max=50000 100000', 'cpuset.cpus=0-1', 'cpuset.mems=0']);
  t.deepEqual(pairs({ cpu: { quota: 20000 } }, V2), ['cpu.max=20000']);
  t.throws(() => cgroupWritePlan({ cpu: { realtimeRuntime: 950000 } }, V2), { message: /resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime/ });
  t.deepEqual(pairs({ cpu: { realtimePeriod: 1000000, realtimeRuntime: 950000 } }, V1), ['cpu.rt_period_us=1000000', 'cpu.rt_runtime_us=950000']);
});

test('block I/O: BFQ\'s weight file first with the plain one as fallback, throttles as v1 lines or v2 io.max keys', (t) => {
  const r: Resources = { blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }] } };
  const v2 = cgroupWritePlan(r, V2).writes;
  t.deepEqual(v2.map((w) => [w.file, w.value, w.fallback]), [
    ['io.bfq.weight', '500', { file: 'io.weight', value: '4950' }], ['io.max', '8:0 rbps=1048576', undefined], ['io.max', '8:0 wiops=100', undefined],
  ]);
  t.deepEqual(pairs(r, V1), ['blkio.weight=500', 'blkio.throttle.read_bps_device=8:0 1048576', 'blkio.throttle.write_iops_device=8:0 100']);
});

test('hugepage limits: limit_in_bytes on v1, .max on v2; each write names its field', (t) => {
  const r: Resources = { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }, { pageSize: '1GB', limit: 0 }] };
  t.deepEqual(pairs(r, V1), ['hugetlb.2MB.limit_in_bytes=4194304', 'hugetlb.1GB.limit_in_bytes=0']);
  t.deepEqual(cgroupWritePlan(r, V2).writes.map((w) => [w.file, w.field]), [['hugetlb.2MB.max', 'resources.hugepageLimits[0].limit'], ['hugetlb.1GB.max', 'resources.hugepageLimits[1].limit']]);
});

test('device rules on v1: in order, wildcards as *, then runc\'s own defaults so they always stand', (t) => {
  const writes = cgroupWritePlan({ devices: [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }, { allow: true, type: 'b', major: 8, minor: -1, access: 'r' }] }, V1).writes;
  // First "deny all", as runc starts every list (runc 1.1.5 gives a list of only allow rules a deny default too).
  t.deepEqual(writes.slice(0, 3).map((w) => `${w.file} ${w.value} ${w.field}`),
    ['devices.deny a resources.devices', 'devices.deny a resources.devices[0]', 'devices.allow b 8:* r resources.devices[1]']);
  t.is(writes.length, 3 + DEFAULT_DEVICE_RULES.length);
  t.deepEqual(writes.slice(3, 5).map((w) => w.value), ['c *:* m', 'b *:* m']);
});
