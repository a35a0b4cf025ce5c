// How this host's cgroup hierarchies are mounted, read from /proc/self/mountinfo: v2 only, v1 only,
// or hybrid (v1 controllers plus a cgroup2 mount, usually /sys/fs/cgroup/unified), and which
// controllers the cgroup2 hierarchy holds. crun 1.8 refuses a hybrid host whose cgroup2 holds any.
// Also the one reader of /proc/PID/cgroup, which says where a process is in each hierarchy.
import fs from 'node:fs';
import path from 'node:path';
import { readMountinfo as readOwnMountinfo, type MountinfoEntry as MountEntry } from './mountinfo.js';

/** One mounted v1 hierarchy: its controllers, or the name of a named hierarchy (name=systemd). */
export interface V1Hierarchy {
  mountPoint: string;
  controllers: string[];
  name: string | undefined;
}

export interface CgroupLayout {
  mode: 'v1' | 'v2' | 'hybrid' | 'unknown';
  /** Where the cgroup2 hierarchy is mounted, if anywhere. */
  unifiedMount: string | undefined;
  /** Controllers the cgroup2 hierarchy holds (its root's cgroup.controllers). */
  unifiedControllers: string[];
  /** v1 controller → where its hierarchy is mounted. */
  v1Mounts: Map<string, string[]>;
  /** Every mounted v1 hierarchy, named ones included, in mountinfo's order. */
  v1Hierarchies: V1Hierarchy[];
}

export type MountinfoEntry = Pick<MountEntry, 'mountPoint' | 'fsType' | 'superOptions'>;

export function readMountinfo(): MountinfoEntry[] {
  return readOwnMountinfo();
}

/** cgroup v1 superblock options that are not controllers. */
const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods']);

export function readCgroupLayout(mounts: MountinfoEntry[] = readMountinfo()): CgroupLayout {
  const unified = mounts.find((m) => m.fsType === 'cgroup2');
  const v1Mounts = new Map<string, string[]>();
  const v1Hierarchies: V1Hierarchy[] = [];
  for (const m of mounts.filter((e) => e.fsType === 'cgroup')) {
    const controllers = m.superOptions.filter((o) => !V1_NON_CONTROLLER_OPTIONS.has(o) && !o.includes('='));
    const name = m.superOptions.find((o) => o.startsWith('name='))?.slice('name='.length);
    for (const controller of controllers) v1Mounts.set(controller, [...(v1Mounts.get(controller) ?? []), m.mountPoint]);
    v1Hierarchies.push({ mountPoint: m.mountPoint, controllers, name });
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
  return { mode, unifiedMount: unified?.mountPoint, unifiedControllers, v1Mounts, v1Hierarchies };
}

/**
 * One line of /proc/PID/cgroup (cgroups(7)): "hierarchy-ID:controller-list:cgroup-path". The v2
 * line is "0::PATH"; a v1 line lists its controllers, or "name=NAME" for a named hierarchy.
 */
export interface CgroupMembership {
  hierarchyId: number;
  /** v1 controllers of the hierarchy; none on the v2 line and on a named hierarchy's. */
  controllers: string[];
  /** A named v1 hierarchy's name (name=systemd → "systemd"). */
  name: string | undefined;
  /** The cgroup, relative to the hierarchy's root (or to the reader's cgroup namespace root). */
  path: string;
}

/** Where a process is in every hierarchy, as /proc/PID/cgroup says. */
export class ProcessCgroups {
  constructor(readonly memberships: readonly CgroupMembership[]) {}

  /** Its cgroup v2 path (the "0::" line), undefined when the kernel mounts no cgroup2 for it. */
  get unified(): string | undefined {
    return this.memberships.find(isUnifiedLine)?.path;
  }

  /** The v1 lines, named hierarchies included. */
  get v1(): CgroupMembership[] {
    return this.memberships.filter((m) => !isUnifiedLine(m));
  }

  /** Its path in the v1 hierarchy that holds this controller. */
  ofController(controller: string): string | undefined {
    return this.memberships.find((m) => m.controllers.includes(controller))?.path;
  }

  /** Its path in a mounted v1 hierarchy, matched by the hierarchy's controllers or name. */
  ofHierarchy(h: Pick<V1Hierarchy, 'controllers' | 'name'>): string | undefined {
    return this.memberships.find((m) => !isUnifiedLine(m) && m.name === h.name
      && m.controllers.length === h.controllers.length && m.controllers.every((c) => h.controllers.includes(c)))?.path;
  }
}

/** The v2 line: hierarchy 0 and an empty controller list, which a v1 hierarchy never has. */
function isUnifiedLine(m: CgroupMembership): boolean {
  return m.hierarchyId === 0 && m.controllers.length === 0 && m.name === undefined;
}

/** Malformed /proc/PID/cgroup text: never the kernel's, so a reader fed something else. */
export class CgroupFileError extends Error {
  constructor(readonly file: string, readonly line: string) {
    super(`${file}: ${JSON.stringify(line)} is not "hierarchy-ID:controller-list:cgroup-path"`);
    this.name = 'CgroupFileError';
  }
}

export function parseProcCgroup(text: string, file = '/proc/PID/cgroup'): ProcessCgroups {
  return new ProcessCgroups(text.split('\n').filter(Boolean).map((line) => {
    // The path is everything after the second colon: a cgroup's name may hold colons itself.
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (match === null) throw new CgroupFileError(file, line);
    const list = match[2]!.split(',').filter(Boolean);
    const name = list.find((c) => c.startsWith('name='))?.slice('name='.length);
    return { hierarchyId: Number(match[1]), controllers: list.filter((c) => !c.startsWith('name=')), name, path: match[3]! };
  }));
}

/** /proc/PID/cgroup read (ENOENT when the process is gone). */
export function readProcessCgroups(pid: number | 'self' = 'self'): ProcessCgroups {
  const file = `/proc/${pid}/cgroup`;
  return parseProcCgroup(fs.readFileSync(file, 'utf8'), file);
}

/** One key per v1 hierarchy, whichever of its mounts names it: "name=systemd", or its controllers sorted. */
export function hierarchyKey(h: Pick<V1Hierarchy, 'controllers' | 'name'>): string {
  return h.name !== undefined ? `name=${h.name}` : [...h.controllers].sort().join(',');
}

/** Each mounted v1 hierarchy once (a hierarchy mounted twice is one set of cgroups), at its first mount. */
export function distinctV1Hierarchies(layout: Pick<CgroupLayout, 'v1Hierarchies'>): V1Hierarchy[] {
  const seen = new Set<string>();
  return layout.v1Hierarchies.filter((h) => {
    const key = hierarchyKey(h);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Where crun's host preparation (harness/targets/oci/crun-host-preparation.ts) records the v1
 * hierarchies it mounts for a while: cgroup2's controllers, moved to v1 for crun 1.8 on a hybrid
 * host and moved back once no cgroup is left in them.
 */
export const PREPARED_HIERARCHIES_RECORD = '/run/nsrig-crun-host-preparation/record.json';

/** Mount points of the v1 hierarchies mounted only for a while (see PREPARED_HIERARCHIES_RECORD). */
export function temporaryV1MountPoints(): Set<string> {
  try {
    const record = JSON.parse(fs.readFileSync(PREPARED_HIERARCHIES_RECORD, 'utf8')) as { mounts?: { mountPoint?: unknown }[] };
    return new Set((record.mounts ?? []).map((m) => m.mountPoint).filter((p): p is string => typeof p === 'string'));
  } catch {
    return new Set();
  }
}

/**
 * The host directory of each of the process's cgroups that this view mounts: the cgroup2 one
 * first, then one per mounted v1 hierarchy (named ones included).
 */
export function cgroupDirsOf(cgroups: ProcessCgroups, layout: CgroupLayout = readCgroupLayout()): { hierarchy: V1Hierarchy | 'unified'; dir: string; path: string }[] {
  const unified = cgroups.unified;
  const dirs: { hierarchy: V1Hierarchy | 'unified'; dir: string; path: string }[] = [];
  if (unified !== undefined && layout.unifiedMount !== undefined) dirs.push({ hierarchy: 'unified', dir: path.join(layout.unifiedMount, unified), path: unified });
  for (const h of distinctV1Hierarchies(layout)) {
    const p = cgroups.ofHierarchy(h);
    if (p !== undefined) dirs.push({ hierarchy: h, dir: path.join(h.mountPoint, p), path: p });
  }
  return dirs;
}
