import fs from 'node:fs';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { ioWeightFromBlkioWeight } from '../../../core/cgroup-resource-writes.js';
import { readCgroupLayout } from '../../../core/cgroup-layout.js';
import { versionBefore } from '../../targets/oci/runtime-spec-version.js';
import { cgroupText, controllerMissing } from './host-controllers.js';

/** A cgroup weight on v1 needs an I/O scheduler that reads one: BFQ (blkio.bfq.weight) or, before Linux 5.0, CFQ (blkio.weight). */
function v1WeightScheduler(scheduler = /\b(bfq|cfq)\b/): boolean {
  let devices: string[] = [];
  try {
    devices = fs.readdirSync('/sys/block');
  } catch {
    return false;
  }
  return devices.some((d) => {
    try {
      return scheduler.test(fs.readFileSync(`/sys/block/${d}/queue/scheduler`, 'utf8'));
    } catch {
      return false;
    }
  });
}

/** "100" (v1) or "default 100" followed by per-device lines (v2): the cgroup's own weight. */
function ownWeight(text: string | undefined): string | undefined {
  return text?.match(/^(?:default )?(\d+)$/m)?.[1];
}

export const blockIOWeightAsDeclared: SingleInvariant = {
  id: 'resources.blockio-weight-as-declared',
  level: 'MUST',
  title: "The container's cgroup, read from inside, holds the declared blockIO weight: blkio.weight or BFQ's blkio.bfq.weight on v1, io.bfq.weight or io.weight (as runc converts it) on v2.",
  reference: ociSpec('config-linux.md', 'configLinuxBlockIO', 'Block IO', '`weight` (uint16, OPTIONAL) - specifies per-cgroup weight. This is default weight of the group on all devices until and unless overridden by per-device rules.'),
  anchors: { runtimeTools: ['linux_cgroups_blkio'] },
  generate: { blockIOWeight: true },
  skipWhen: (_host, target) => {
    const missing = controllerMissing('blkio', 'io');
    if (missing) return missing;
    if (!readCgroupLayout().v1Mounts.has('blkio')) return undefined;
    if (!v1WeightScheduler()) return 'no block device here can use the BFQ or CFQ I/O scheduler, the only ones a v1 blkio weight means anything to (no weight file exists)';
    // Verified in crun's source: 1.8.1 writes blkio.weight only; commit 56a2550 (first in 1.8.2) falls back to blkio.bfq.weight.
    return target.name === 'crun' && versionBefore(target.version, '1.8.2') && !v1WeightScheduler(/\bcfq\b/)
      ? `crun ${target.version} cannot set a blkio weight on a cgroup v1 host whose only weight file is BFQ's blkio.bfq.weight: it refuses every such container (containers/crun#1157, fixed in 1.8.2), and its failed starts leave their cgroups behind`
      : undefined;
  },
  scenario: 'single',
  request: () => ({ cgroupRead: ['blkio.weight', 'blkio.bfq.weight', 'io.bfq.weight', 'io.weight'] }),
  check: (o, profile) => {
    const weight = profile.resources?.blockIO?.weight ?? 0;
    // The first file the container's cgroup has, in the order the runtimes write them.
    const file = ['blkio.weight', 'blkio.bfq.weight', 'io.bfq.weight', 'io.weight'].find((f) => cgroupText(o.cgroupFiles, f) !== undefined);
    const expected = file === 'io.weight' ? ioWeightFromBlkioWeight(weight) : weight;
    return expectEqual(
      { weight: String(expected) },
      { weight: file === undefined ? `no weight file in the cgroup mount (${o.cgroupFiles.map((f) => `${f.file}: ${f.code ?? 'no controller'}`).join(', ')})` : ownWeight(cgroupText(o.cgroupFiles, file)) ?? cgroupText(o.cgroupFiles, file) },
    );
  },
};
