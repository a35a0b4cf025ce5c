import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { cpuWeightFromShares } from '../../../core/cgroup-resource-writes.js';
import { cgroupText, controllerMissing } from './host-controllers.js';

export const cpuAsDeclared: SingleInvariant = {
  id: 'resources.cpu-as-declared',
  level: 'MUST',
  title: "The container's cgroup, read from inside, holds the declared cpu shares (cpu.weight as runc converts them on v2), CFS quota and period, cpus and mems.",
  reference: ociSpec('config-linux.md', 'configLinuxCPU', 'CPU', '`shares` (uint64, OPTIONAL) - specifies a relative share of CPU time available to the tasks in a cgroup'),
  anchors: { runtimeTools: ['linux_cgroups_cpus'] },
  generate: { cpuResources: true },
  skipWhen: () => controllerMissing('cpu', 'cpu') ?? controllerMissing('cpuset', 'cpuset'),
  scenario: 'single',
  request: () => ({ cgroupRead: ['cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.weight', 'cpu.max', 'cpuset.cpus', 'cpuset.mems'] }),
  check: (o, profile) => {
    const cpu = profile.resources?.cpu ?? {};
    const read = (file: string) => cgroupText(o.cgroupFiles, file) ?? o.cgroupFiles.find((f) => f.file === file)?.code ?? 'no such controller in the cgroup mount';
    // Which version the container's cpu controller is on: v1 has cpu.shares, v2 cpu.weight.
    const v1 = cgroupText(o.cgroupFiles, 'cpu.shares') !== undefined || cgroupText(o.cgroupFiles, 'cpu.weight') === undefined;
    const expected: Record<string, string> = {};
    const observed: Record<string, string> = {};
    const judge = (file: string, value: string) => {
      expected[file] = value;
      observed[file] = read(file);
    };
    if (cpu.shares) judge(v1 ? 'cpu.shares' : 'cpu.weight', String(v1 ? cpu.shares : cpuWeightFromShares(cpu.shares)));
    if (cpu.quota || cpu.period) {
      if (v1) {
        if (cpu.quota) judge('cpu.cfs_quota_us', String(cpu.quota));
        if (cpu.period) judge('cpu.cfs_period_us', String(cpu.period));
      } else judge('cpu.max', `${cpu.quota || 'max'} ${cpu.period || 100000}`);
    }
    if (cpu.cpus !== undefined) judge('cpuset.cpus', cpu.cpus);
    if (cpu.mems !== undefined) judge('cpuset.mems', cpu.mems);
    return expectEqual(expected, observed);
  },
};
