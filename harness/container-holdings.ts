// What a running container holds on the host, read from the host alone (so the same for every
// target): the cgroup directories its init is in, the processes in them, and the host mounts
// that name it. Read again after delete, it is what the delete left behind.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { cgroupDirsOf, readCgroupLayout, readProcessCgroups, ProcessCgroups } from '../core/cgroup-layout.js';
import { readMountinfo } from '../core/mountinfo.js';
import { startTicksOf, stillStartedAt } from '../core/process-start.js';
import { CgroupRecordFile, sweepDeadOwnersCgroups } from '../core/cgroup-dead-owners.js';

export interface ContainerHoldings {
  /** Cgroup directories of the container, one per hierarchy it has its own cgroup in. */
  cgroupDirs: string[];
  /** Each process in those cgroups, named for good by its start time. */
  processes: { pid: number; startTicks: number }[];
  /** Host mount points that name the container's id or lie in its bundle, before it started. */
  mountsBefore: Set<string>;
}

/** Where a process is in each hierarchy; none once it is gone. */
function cgroupsOf(pid: number | 'self'): ProcessCgroups {
  try {
    return readProcessCgroups(pid);
  } catch {
    return new ProcessCgroups([]);
  }
}

/**
 * The directories of the container's own cgroups: those of the init's cgroups that are not
 * nsrig's own (a hierarchy the runtime left the init in is not the container's to remove).
 * Named v1 hierarchies (name=systemd) are not controllers and are left out.
 */
function containerCgroupDirs(pid: number): string[] {
  const layout = readCgroupLayout();
  const own = cgroupsOf('self');
  const ownDirs = new Set(cgroupDirsOf(own, layout).map((d) => d.dir));
  const dirs = cgroupDirsOf(cgroupsOf(pid), layout)
    .filter((d) => d.path !== '/' && !ownDirs.has(d.dir) && (d.hierarchy === 'unified' || d.hierarchy.name === undefined));
  return [...new Set(dirs.map((d) => d.dir))];
}

function pidsIn(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Each host mount that names the id (in its root, mount point, source or options) or lies in the bundle, as "ID MOUNTPOINT". */
function namingMounts(id: string, bundle: string | undefined): string[] {
  return readMountinfo().filter((m) => {
    const inBundle = bundle !== undefined && [m.root, m.mountPoint].some((p) => p === bundle || p.startsWith(`${bundle}/`));
    return inBundle || [m.root, m.mountPoint, m.source, ...m.options, ...m.superOptions].some((field) => field.includes(id));
  }).map((m) => `${m.id} ${m.mountPoint}`);
}

/** Read while the container's init runs (hostPid) and before it is deleted. */
export function holdingsOf(hostPid: number, mountsBefore: Set<string>): ContainerHoldings {
  const cgroupDirs = containerCgroupDirs(hostPid);
  const pids = new Set([hostPid, ...cgroupDirs.flatMap(pidsIn)]);
  const processes = [...pids].flatMap((pid) => {
    const startTicks = startTicksOf(pid);
    return startTicks === undefined ? [] : [{ pid, startTicks }];
  });
  return { cgroupDirs, processes, mountsBefore };
}

/** Host mounts naming the container, taken before it starts: a mount there already is not the container's. */
export function mountsNaming(id: string, bundle: string | undefined): Set<string> {
  return new Set(namingMounts(id, bundle));
}

/**
 * The same process (not a reuse of its pid), and not a zombie, which holds nothing. (Not
 * host-leftovers' processRuns: that module reads the host's baseline when it loads, for tests.)
 */
function runs(pid: number, startTicks: number): boolean {
  if (!stillStartedAt(pid, startTicks)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Whether pid is still the process of the holdings that ran under it (not a reuse, not a zombie). */
export function stillRuns(holdings: ContainerHoldings, pid: number): boolean {
  const held = holdings.processes.find((p) => p.pid === pid);
  return held !== undefined && runs(pid, held.startTicks);
}

export interface Remains {
  cgroups: string[];
  processes: number[];
  mounts: string[];
}

/** What of the holdings is still on the host (read after delete). */
export function remainsOf(holdings: ContainerHoldings, id: string, bundle: string | undefined): Remains {
  return {
    cgroups: holdings.cgroupDirs.filter((dir) => fs.existsSync(dir)),
    processes: holdings.processes.filter((p) => runs(p.pid, p.startTicks)).map((p) => p.pid),
    mounts: namingMounts(id, bundle).filter((mount) => !holdings.mountsBefore.has(mount)).map((mount) => mount.slice(mount.indexOf(' ') + 1)),
  };
}

/**
 * Removes what a delete left (a broken runtime's), so judging it does not leave the host dirty:
 * SIGKILL to the processes, then the cgroup directories, deepest first. Mounts are reported only.
 */
export function sweepRemains(remains: Remains, holdings: ContainerHoldings): void {
  for (const pid of remains.processes) {
    const held = holdings.processes.find((p) => p.pid === pid);
    if (held === undefined || !runs(pid, held.startTicks)) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  for (const dir of [...remains.cgroups].sort((a, b) => b.length - a.length)) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // busy until its killed processes are reaped, or gone: reported either way
    }
  }
}

/**
 * A cgroup the container did not make, with its init moved in (runtime-tools'
 * delete_only_create_resources: its pids hierarchy, else the unified one): a delete must leave it.
 * remove() takes it away once empty; after a SIGKILL of its nsrig, the sweep of dead owners' cgroups does.
 */
export class ForeignCgroup {
  private constructor(readonly dir: string, private readonly record: CgroupRecordFile) {}

  static adopt(initPid: number): ForeignCgroup {
    sweepDeadOwnersCgroups();
    const layout = readCgroupLayout();
    const mount = layout.v1Mounts.get('pids')?.[0] ?? layout.unifiedMount;
    if (mount === undefined) throw new Error('no cgroup hierarchy to make a foreign cgroup in (neither a v1 pids one nor cgroup2)');
    const name = `nsrig-foreign-${process.pid}-${randomBytes(3).toString('hex')}`;
    const dir = path.join(mount, name);
    // Recorded before it is made, as the engine's cgroups are: after a SIGKILL of this nsrig the
    // next sweep of dead owners' cgroups kills what is in it and removes it.
    const record = new CgroupRecordFile(name, layout);
    record.write([dir], []);
    fs.mkdirSync(dir);
    const cgroup = new ForeignCgroup(dir, record);
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(initPid));
    } catch (e) {
      cgroup.remove();
      throw e;
    }
    return cgroup;
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  /** Once its processes are gone; a busy one is left to the caller's sweep of the container's processes first. */
  remove(): void {
    try {
      fs.rmdirSync(this.dir);
    } catch (e) {
      // Still busy: the process sweep comes first, and the record keeps it for a later sweep.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return;
      // Gone already: a broken delete took it.
    }
    this.record.remove();
  }
}
