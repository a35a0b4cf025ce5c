// What a container of this test process could leave on the host, read from the host itself:
// processes in its cgroup, the cgroup directory, zombie or live children, mounts, temp entries.
// Container ids are `nsrig-<our pid>-<hex>`, so everything of ours is found by that prefix even
// when a launch failed before its id was known to the test.
import fs from 'node:fs';
import path from 'node:path';
import { liveContainers } from '../core/live-containers.js';
import { isOurNamespaceHolder } from './namespace-holder.js';
import { distinctV1Hierarchies, readCgroupLayout, readProcessCgroups } from '../core/cgroup-layout.js';

/** Where the engine puts container cgroups: nsrig/ under the cgroup2 mount (hybrid hosts have it at unified/). */
export const CGROUP_PARENT = path.join(cgroup2Mount(), 'nsrig');
export const OUR_PREFIX = `nsrig-${process.pid}-`;

function cgroup2Mount(): string {
  const { unifiedMount } = readCgroupLayout();
  if (unifiedMount === undefined) throw new Error('no cgroup2 mount on this host: the engine cannot give containers a cgroup, and these checks need one');
  return unifiedMount;
}

/** The mount point of every hierarchy now (crun's host preparation mounts some for a while): cgroup2's, then each v1 hierarchy's once. */
function hierarchyMounts(): string[] {
  const layout = readCgroupLayout();
  return [...(layout.unifiedMount === undefined ? [] : [layout.unifiedMount]), ...distinctV1Hierarchies(layout).map((h) => h.mountPoint)];
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function numericEntries(dir: string): number[] {
  try {
    return fs.readdirSync(dir).filter((n) => /^\d+$/.test(n)).map(Number);
  } catch {
    return [];
  }
}

export interface ChildProcess {
  pid: number;
  state: string;
  command: string;
}

/**
 * Children of a process (every thread's list), with their state letter from /proc/PID/stat. Our
 * namespace holders are left out: fixtures of the whole process, which die with it.
 */
export function childrenOf(pid: number = process.pid): ChildProcess[] {
  const pids = numericEntries(`/proc/${pid}/task`).flatMap((tid) =>
    read(`/proc/${pid}/task/${tid}/children`).split(/\s+/).filter(Boolean).map(Number));
  return [...new Set(pids)].filter((child) => !isOurNamespaceHolder(child)).map((child) => {
    const stat = read(`/proc/${child}/stat`);
    const close = stat.lastIndexOf(')');
    return { pid: child, state: stat.slice(close + 2, close + 3), command: stat.slice(stat.indexOf('(') + 1, close) };
  }).filter((c) => c.state !== '');
}

/**
 * Running host processes whose cgroup v2 path names one of our containers. A zombie still shows
 * its last cgroup but is dead; one that is our child is reported by childrenOf.
 */
export function processesInOurCgroups(prefix = OUR_PREFIX): number[] {
  return numericEntries('/proc').filter((pid) => read(`/proc/${pid}/cgroup`).includes(`/nsrig/${prefix}`) && processRuns(pid));
}

/** The nsrig/ parents of the engine's default placement: in the cgroup2 tree, and in every v1 hierarchy below our own cgroup. */
export function defaultCgroupParents(): string[] {
  const own = readProcessCgroups();
  const v1 = distinctV1Hierarchies(readCgroupLayout()).map((h) => path.join(h.mountPoint, own.ofHierarchy(h) ?? '/', 'nsrig'));
  return [...new Set([CGROUP_PARENT, ...v1])];
}

/** Default parents present now, absent from `before`, holding no cgroup: left behind (one holding another container's is not). */
export function newEmptyCgroupParents(before: ReadonlySet<string>): string[] {
  return defaultCgroupParents().filter((p) => !before.has(p) && fs.existsSync(p)
    && !fs.readdirSync(p, { withFileTypes: true }).some((e) => e.isDirectory()));
}

/** Our containers' directories under the nsrig/ parents. */
export function ourCgroupDirs(prefix = OUR_PREFIX): string[] {
  return defaultCgroupParents().flatMap((parent) => {
    try {
      return fs.readdirSync(parent).filter((n) => n.startsWith(prefix)).map((n) => path.join(parent, n));
    } catch {
      return [];
    }
  });
}

/**
 * Cgroups whose name starts with `prefix` anywhere in any hierarchy, below whatever cgroup their
 * nsrig process was in when it made them, and not below one of them (theirs to hold).
 */
export function cgroupDirsNamed(prefix: string): string[] {
  const found: string[] = [];
  const visit = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.filter((d) => d.isDirectory())) {
      if (e.name.startsWith(prefix)) found.push(path.join(dir, e.name));
      else visit(path.join(dir, e.name));
    }
  };
  for (const mount of hierarchyMounts()) visit(mount);
  return found;
}

/**
 * The fixture directory or user namespace files (each a mount point of its own) of another live
 * nsrig process, such as a test file that runs beside this one, and what lies below it: theirs to
 * remove, not a leak of ours.
 */
function anotherProcessFixture(mountPoint: string): boolean {
  // Test files that set TMPDIR put theirs one level down (/tmp/nsrig-oci-runtimes-test-X/nsrig-fixture-...);
  // a network namespace a test made with ip-netns(8) is a mount at /run/netns/nsrig-fixture-PID-...;
  // user-namespace-files.ts binds nsfs files in /tmp/nsrig-userns-PID-...
  const pid = Number(/^(?:\/tmp\/(?:[^/]+\/)?|\/run\/netns\/)nsrig-(?:fixture|userns)-(\d+)-/.exec(mountPoint)?.[1]);
  return Boolean(pid) && pid !== process.pid && fs.existsSync(`/proc/${pid}`);
}

/** Host mounts a leak from a container would show as: anything naming nsrig, or under the staging root /tmp. */
export function suspectHostMounts(): string[] {
  return read('/proc/self/mountinfo').split('\n').filter((line) => {
    const mountPoint = line.split(' ')[4] ?? '';
    if (anotherProcessFixture(mountPoint)) return false;
    return line.includes('nsrig') || mountPoint === '/tmp' || mountPoint.startsWith('/tmp/');
  });
}

export function ourTempEntries(prefix = OUR_PREFIX): string[] {
  return fs.readdirSync('/tmp').filter((n) => n.includes(prefix)).map((n) => path.join('/tmp', n));
}

/** Taken when a test file loads, before its first container. */
export const baselineMounts = new Set(suspectHostMounts());

/** Owner and mode of a host node every runtime sees: a runtime that fchowns its stdio can hand it to a container's user. */
function hostNullOwner(): string {
  const st = fs.statSync('/dev/null');
  return `${st.uid}:${st.gid} mode ${(st.mode & 0o7777).toString(8)}`;
}
const baselineNullOwner = hostNullOwner();

/**
 * Everything of ours still on the host, in words; empty when teardown was complete. Tests in a
 * file run serially, so any child of this process at this point is a leftover.
 */
export function leftovers(): string[] {
  const found: string[] = [];
  for (const c of childrenOf()) found.push(`child process ${c.pid} (${c.command}) in state ${c.state}`);
  for (const pid of processesInOurCgroups()) found.push(`process ${pid} still in one of our cgroups`);
  for (const dir of ourCgroupDirs()) found.push(`cgroup directory ${dir}`);
  for (const line of suspectHostMounts()) if (!baselineMounts.has(line)) found.push(`host mount ${line}`);
  for (const entry of ourTempEntries()) found.push(`temp entry ${entry}`);
  if (liveContainers.size > 0) found.push(`${liveContainers.size} containers still registered as live`);
  const nullOwner = hostNullOwner();
  if (nullOwner !== baselineNullOwner) found.push(`the host's /dev/null changed from ${baselineNullOwner} to ${nullOwner}`);
  return found;
}

/**
 * What one OCI runtime's container could leave: a cgroup named after its id in any hierarchy
 * (runc and crun put one at the top of each when config.json names no cgroupsPath), a running
 * process in such a cgroup, a host mount naming the id or its bundle. `id` may be a prefix of
 * ids (a launch that failed before its id was known).
 */
export function containerLeftovers(id: string, bundleDir?: string): string[] {
  const found: string[] = [];
  // Also the directory the v1 hierarchies are mounted in (a tmpfs): crun makes plain directories
  // there for a controller it finds unmounted.
  const v1Parents = distinctV1Hierarchies(readCgroupLayout()).map((h) => path.dirname(h.mountPoint));
  for (const dir of new Set([...hierarchyMounts(), ...v1Parents])) {
    try {
      for (const entry of fs.readdirSync(dir)) if (entry.includes(id)) found.push(`cgroup directory ${path.join(dir, entry)}`);
    } catch {
      // not a directory, or gone
    }
  }
  for (const pid of numericEntries('/proc')) {
    if (read(`/proc/${pid}/cgroup`).includes(id) && processRuns(pid)) found.push(`process ${pid} still in the container's cgroup`);
  }
  for (const line of read('/proc/self/mountinfo').split('\n')) {
    if (line.includes(id) || (bundleDir !== undefined && line.includes(bundleDir))) found.push(`host mount ${line}`);
  }
  if (bundleDir !== undefined && fs.existsSync(bundleDir)) found.push(`bundle directory ${bundleDir}`);
  return found;
}

/** True while a process with this pid runs; a zombie (dead, waiting for its parent to reap it) does not. */
export function processRuns(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}
