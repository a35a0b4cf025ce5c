// How this host's cgroup hierarchies are mounted, read from /proc/self/mountinfo: v2 only, v1 only,
// or hybrid (v1 controllers plus a cgroup2 mount, usually /sys/fs/cgroup/unified), and which
// controllers the cgroup2 hierarchy holds. crun 1.8 refuses a hybrid host whose cgroup2 holds any.
import fs from 'node:fs';
import { parseMountinfo, type MountinfoEntry as MountEntry } from './mountinfo.js';

export interface CgroupLayout {
  mode: 'v1' | 'v2' | 'hybrid' | 'unknown';
  /** Where the cgroup2 hierarchy is mounted, if anywhere. */
  unifiedMount: string | undefined;
  /** Controllers the cgroup2 hierarchy holds (its root's cgroup.controllers). */
  unifiedControllers: string[];
  /** v1 controller → where its hierarchy is mounted. */
  v1Mounts: Map<string, string[]>;
}

export type MountinfoEntry = Pick<MountEntry, 'mountPoint' | 'fsType' | 'superOptions'>;

export function readMountinfo(): MountinfoEntry[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** cgroup v1 superblock options that are not controllers. */
const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods']);

export function readCgroupLayout(mounts: MountinfoEntry[] = readMountinfo()): CgroupLayout {
  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const v1Mounts = new Map<string, string[]>();
  for (const m of mounts.filter((e) => e.fsType === 'cgroup')) {
    for (const option of m.superOptions) {
      if (V1_NON_CONTROLLER_OPTIONS.has(option) || option.includes('=')) continue;
      v1Mounts.set(option, [...(v1Mounts.get(option) ?? []), m.mountPoint]);
    }
  }
  let unifiedControllers: string[] = [];
  if (unified !== undefined) {
    try {
      unifiedControllers = fs.readFileSync(`${unified.mountPoint}/cgroup.controllers`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      // an unreadable cgroup2 root holds nothing we can name
    }
  }
  const hasV1 = mounts.some((m) => m.fsType === 'cgroup');
  const mode = unified?.mountPoint === '/sys/fs/cgroup' ? 'v2' : unified !== undefined && hasV1 ? 'hybrid' : hasV1 ? 'v1' : 'unknown';
  return { mode, unifiedMount: unified?.mountPoint, unifiedControllers, v1Mounts };
}
