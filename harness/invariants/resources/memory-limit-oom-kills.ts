import fs from 'node:fs';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { cgroupText, controllerMissing } from './host-controllers.js';

const MiB = 1024 * 1024;
/** Allocated past the limit: the probe's own node is charged too, so any excess does; a few MiB keep a case quick. */
const EXCESS_MIB = 8;

/**
 * memory+swap is judged where the container's cgroup has its file, and wherever the host has swap;
 * a kernel without swap accounting has no file, and without swap there is nothing for it to limit.
 */
function hostHasSwap(): boolean {
  return fs.readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
}

export const memoryLimitOomKills: SingleInvariant = {
  id: 'resources.memory-limit-oom-kills',
  level: 'MUST',
  title: "The container's memory limit (and memory+swap) reads as declared in its cgroup, and a process allocating past it is killed by the OOM killer (SIGKILL, oom_kill counted) while nsrig runs on.",
  reference: ociSpec('config-linux.md', 'configLinuxMemory', 'Memory', 'If enabled (`false`), tasks that attempt to consume more memory than they are allowed are immediately killed by the OOM killer.'),
  anchors: { runtimeTools: ['linux_cgroups_memory'] },
  generate: { memoryLimit: true },
  skipWhen: () => controllerMissing('memory', 'memory'),
  scenario: 'single',
  request: (profile) => ({
    cgroupRead: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.max', 'memory.swap.max'],
    allocate: { mib: Math.ceil((profile.resources?.memory?.limit ?? 0) / MiB) + EXCESS_MIB },
  }),
  check: (o, profile) => {
    const { limit = 0, swap = 0 } = profile.resources?.memory ?? {};
    const v1 = cgroupText(o.cgroupFiles, 'memory.limit_in_bytes');
    const v2 = cgroupText(o.cgroupFiles, 'memory.max');
    // v2 counts swap apart from memory (memory.swap.max is memory+swap minus the limit).
    const swapFile = v2 !== undefined ? 'memory.swap.max' : 'memory.memsw.limit_in_bytes';
    const swapExpected = String(v2 !== undefined ? swap - limit : swap);
    const swapRead = o.cgroupFiles.find((f) => f.file === swapFile);
    const judgeSwap = swapRead?.text != null || hostHasSwap();
    const a = o.allocation;
    const killedBy = a === null ? 'not run' : a.start.code !== null ? `not started: ${a.start.code}`
      : a.signal !== null ? `killed by ${a.signal}` : `exited with ${a.exit}, having held ${a.mib} MiB`;
    const oomKills = a?.oomKillsBefore == null || a.oomKillsAfter == null ? 'oom_kill unreadable'
      : a.oomKillsAfter > a.oomKillsBefore ? 'rose' : `${a.oomKillsBefore} -> ${a.oomKillsAfter}`;
    return expectEqual(
      { limit: String(limit), ...(judgeSwap ? { [swapFile]: swapExpected } : {}), [`allocating ${a?.mib} MiB`]: 'killed by SIGKILL', oom_kill: 'rose' },
      {
        limit: v1 ?? v2 ?? 'no memory controller in the cgroup mount',
        ...(judgeSwap ? { [swapFile]: swapRead?.text ?? swapRead?.code ?? 'not read' } : {}),
        [`allocating ${a?.mib} MiB`]: killedBy,
        oom_kill: oomKills,
      },
    );
  },
};
