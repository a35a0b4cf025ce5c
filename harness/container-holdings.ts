// What a running container holds on the host, read from the host alone (so the same for every
// target): the cgroup directories its init is in, the processes in them, and the host mounts
// that name it. Read again after delete, it is what the delete left behind.
import fs from 'node:fs';
import path from 'node:path';
import { readCgroupLayout } from '../core/cgroup-layout.js';
import { startTicksOf } from '../core/process-start.js';

export interface ContainerHoldings {
  /** Cgroup directories of the container, one per hierarchy it has its own cgroup in. */
  cgroupDirs: string[];
  /** Each process in those cgroups, named for good by its start time. */
  processes: { pid: number; startTicks: number }[];
  /** Host mount points that name the container's id or lie in its bundle, before it started. */
  mountsBefore: Set<string>;
}

/** One line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH". */
function cgroupPaths(pid: number | 'self'): Map<string, string> {
  const paths = new Map<string, string>();
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return paths;
  }
  for (const line of text.split('\n').filter(Boolean)) {
    const [, controllers, ...rest] = line.split(':');
    paths.set(controllers ?? '', rest.join(':'));
  }
  return paths;
}

/**
 * The directories of the container's own cgroups: those of the init's cgroups that are not
 * nsrig's own (a hierarchy the runtime left the init in is not the container's to remove).
 * Named v1 hierarchies (name=systemd) are not controllers and are left out.
 */
function containerCgroupDirs(pid: number): string[] {
  const layout = readCgroupLayout();
  const own = cgroupPaths('self');
  const dirs: string[] = [];
  for (const [controllers, cgroup] of cgroupPaths(pid)) {
    if (cgroup === '/' || cgroup === own.get(controllers)) continue;
    const mount = controllers === '' ? layout.unifiedMount : layout.v1Mounts.get(controllers.split(',')[0]!)?.[0];
    if (mount !== undefined) dirs.push(path.join(mount, cgroup));
  }
  return [...new Set(dirs)];
}

function pidsIn(dir: string): number[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function namingMounts(id: string, bundle: string | undefined): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((line) => {
    const fields = line.split(' ');
    const [root, mountPoint] = [fields[3] ?? '', fields[4] ?? ''];
    const inBundle = bundle !== undefined && [root, mountPoint].some((p) => p === bundle || p.startsWith(`${bundle}/`));
    return line.includes(id) || inBundle;
  });
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
  if (startTicksOf(pid) !== startTicks) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
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
    mounts: namingMounts(id, bundle).filter((line) => !holdings.mountsBefore.has(line)).map((line) => line.split(' ')[4] ?? line),
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
