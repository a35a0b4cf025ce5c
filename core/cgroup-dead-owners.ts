// The cgroups of nsrig processes that died without their teardown (SIGKILL), and the sweep that
// removes them, with whatever still runs in them, in every hierarchy this view mounts. Two ways
// find them: the record a launch writes before each mkdir (RECORDS; it alone knows a profile's
// cgroupsPath), and the name every container cgroup of the engine has, nsrig-<owner pid>-<hex>
// (core/container.ts), in an nsrig/ directory or at a hierarchy's root. A record whose directory
// its reader cannot see (another mount view of /sys/fs/cgroup, such as a pure-v2 one) is kept.
import fs from 'node:fs';
import path from 'node:path';
import { distinctV1Hierarchies, hierarchyKey, readCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
import { CLOCK_TICKS_PER_SECOND, startTicksOf, stillStartedAt } from './process-start.js';
import { readHostClocks } from './time-offsets.js';

const RECORDS = '/run/nsrig-cgroups';
/** Not .json: nsrig before this format read every *.json there as its own and threw on this one. */
const RECORD_SUFFIX = '.record';
/** A container cgroup's name: its owner's pid, and random hex. */
const CONTAINER_CGROUP = /^nsrig-(\d+)-[0-9a-f]+$/;
/** The shared parent of default placements, in every hierarchy. */
const DEFAULT_PARENT = 'nsrig';

/** A directory as its hierarchy and its path there, which any mount view can resolve. */
interface RecordedCgroup {
  /** "unified", or a v1 hierarchy's key (hierarchyKey). */
  hierarchy: string;
  /** From the hierarchy's root. */
  path: string;
}

interface CgroupRecord {
  owner: { pid: number; startTicks: number };
  /** The container's own cgroups: killed and removed with everything below them. */
  cgroups: RecordedCgroup[];
  /** Parents made on the way (cgroupsPath) and the shared nsrig/ ones: removed once empty, innermost first. */
  parents: RecordedCgroup[];
}

/** Where each hierarchy is mounted in this view: "unified" or a v1 key → mount point. */
function mountPoints(layout: CgroupLayout): Map<string, string> {
  const points = new Map<string, string>();
  if (layout.unifiedMount !== undefined) points.set('unified', layout.unifiedMount);
  for (const h of distinctV1Hierarchies(layout)) points.set(hierarchyKey(h), h.mountPoint);
  return points;
}

function toRecorded(dir: string, points: Map<string, string>): RecordedCgroup {
  // The deepest mount point holding it: a pure-v2 host mounts cgroup2 at /sys/fs/cgroup itself.
  const [hierarchy, mount] = [...points].filter(([, m]) => dir === m || dir.startsWith(`${m}/`))
    .sort((a, b) => b[1].length - a[1].length)[0] ?? [];
  if (hierarchy === undefined) throw new Error(`${dir} is in no cgroup hierarchy mounted here`);
  return { hierarchy, path: `/${path.relative(mount!, dir)}` };
}

function resolve(c: RecordedCgroup, points: Map<string, string>): string | undefined {
  const mount = points.get(c.hierarchy);
  return mount === undefined ? undefined : path.join(mount, c.path);
}

/** One container's record: written before each of its mkdirs, removed once its cgroups are. */
export class CgroupRecordFile {
  private readonly file: string;
  private readonly owner = { pid: process.pid, startTicks: startTicksOf('self') ?? 0 };

  constructor(id: string, private readonly layout: CgroupLayout) {
    this.file = path.join(RECORDS, `${id}${RECORD_SUFFIX}`);
  }

  write(cgroups: readonly string[], parents: readonly string[]): void {
    fs.mkdirSync(RECORDS, { recursive: true, mode: 0o700 });
    const points = mountPoints(this.layout);
    const record: CgroupRecord = { owner: this.owner, cgroups: cgroups.map((d) => toRecorded(d, points)), parents: parents.map((d) => toRecorded(d, points)) };
    // Written beside and renamed over: a SIGKILL between truncating the record and writing it
    // would leave an empty file that no sweep can read, and its cgroups for good.
    const next = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(next, JSON.stringify(record));
    fs.renameSync(next, this.file);
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }
}

/**
 * Does the process that made this cgroup still run? Its pid alone cannot say: a pid is reused, and
 * a process that started after the directory was last changed is someone else.
 */
function ownerLivesByTime(pid: number, dir: string): boolean {
  if (pid === process.pid) return true;
  const startTicks = startTicksOf(pid);
  if (startTicks === undefined) return false;
  // Start times are counted in the host's time namespace (process-start.ts), so its clock, not ours.
  const bootedAt = Date.now() / 1000 - readHostClocks().boottime;
  const startedAt = bootedAt + startTicks / CLOCK_TICKS_PER_SECOND;
  try {
    // A second of slack for the clocks' rounding.
    return startedAt <= fs.statSync(dir).mtimeMs / 1000 + 1;
  } catch {
    return true; // removed meanwhile, by its owner: nothing to sweep
  }
}

function subdirectories(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

/** What one walk of a hierarchy found: dead owners' container cgroups, live ones, and nsrig/ parents. */
interface Found {
  dead: string[];
  live: Set<string>;
  parents: string[];
}

/** Container cgroups by name: at the hierarchy's root (the traced runtimes' place) or in any nsrig/. */
function walkHierarchy(mount: string, found: Found): void {
  const visit = (dir: string): void => {
    const atParent = dir === mount || path.basename(dir) === DEFAULT_PARENT;
    if (dir !== mount && path.basename(dir) === DEFAULT_PARENT) found.parents.push(dir);
    for (const sub of subdirectories(dir)) {
      const owner = atParent ? CONTAINER_CGROUP.exec(path.basename(sub))?.[1] : undefined;
      if (owner === undefined) visit(sub);
      else if (ownerLivesByTime(Number(owner), sub)) found.live.add(sub);
      else {
        found.dead.push(sub);
        // A live owner's cgroup may sit below (a cgroupsPath into it): found, so it is spared.
        visit(sub);
      }
    }
  };
  visit(mount);
}

/** SIGKILL to every process in the cgroup and below it, except below a live owner's cgroup. */
export function killTree(dir: string, live: ReadonlySet<string> = new Set()): void {
  const below = subdirectories(dir);
  // cgroup.kill (cgroup v2, Linux 5.14+) kills the subtree at once, also processes forking meanwhile.
  if (!below.some((d) => holdsAny(d, live))) {
    try {
      fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
      return;
    } catch {
      // v1, or an older kernel: one by one
    }
  }
  try {
    for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } catch {
    // the cgroup is gone
  }
  for (const sub of below) if (!live.has(sub)) killTree(sub, live);
}

function holdsAny(dir: string, set: ReadonlySet<string>): boolean {
  return [...set].some((d) => d === dir || d.startsWith(`${dir}/`));
}

/**
 * rmdir of a cgroup and every cgroup below it, deepest first; false while one stays (populated, or
 * a live owner's). Throws what is no passing state (EACCES, EROFS).
 */
export function removeCgroupTree(dir: string, live: ReadonlySet<string> = new Set()): boolean {
  if (live.has(dir)) return false;
  const below = subdirectories(dir).map((d) => removeCgroupTree(d, live));
  if (below.includes(false)) return false;
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true;
    if (code === 'EBUSY' || code === 'ENOTEMPTY') return false;
    throw e;
  }
}

/** The sweep's removal: an error there leaves the cgroup for a later sweep, as a busy one. */
function removedBySweep(dir: string, live: ReadonlySet<string>): boolean {
  try {
    return removeCgroupTree(dir, live);
  } catch {
    return false;
  }
}

/** rmdir each that is empty now; the others hold another container's cgroup, or are gone. */
export function removeEmptyCgroups(dirs: Iterable<string>): void {
  for (const dir of dirs) {
    try {
      fs.rmdirSync(dir);
    } catch {
      // in use by another container (EBUSY, ENOTEMPTY), or gone already
    }
  }
}

/** Blocks this thread for `ms`: the sweep runs inside the synchronous cgroup setup. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How long the sweep waits for killed processes to leave their cgroups. */
const SWEEP_WAIT_MS = 2_000;

interface ReadRecord {
  file: string;
  record: CgroupRecord;
}

function readRecords(): ReadRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(RECORDS);
  } catch {
    return [];
  }
  // A record being rewritten when its writer was killed: the record itself still holds the last version.
  for (const name of names) {
    const writer = /\.(\d+)\.tmp$/.exec(name)?.[1];
    if (writer !== undefined && startTicksOf(Number(writer)) === undefined) fs.rmSync(path.join(RECORDS, name), { force: true });
  }
  return names.filter((n) => n.endsWith(RECORD_SUFFIX)).flatMap((name) => {
    const file = path.join(RECORDS, name);
    try {
      return [{ file, record: JSON.parse(fs.readFileSync(file, 'utf8')) as CgroupRecord }];
    } catch {
      return []; // removed meanwhile by its owner
    }
  });
}

const recordOwnerLives = ({ owner }: CgroupRecord) => owner.pid === process.pid || stillStartedAt(owner.pid, owner.startTicks);

/**
 * Removes the cgroups of nsrig processes that no longer exist, in every hierarchy, with any
 * process still in them (a container's orphans, a child the kill caught before it was released):
 * each is killed through its cgroup, and its directories go once the kernel has emptied them. A
 * live owner's cgroups, and anything below them, are never touched. What stays populated past
 * SWEEP_WAIT_MS is left, recorded, for the next sweep.
 */
export function sweepDeadOwnersCgroups(layout: CgroupLayout = readCgroupLayout()): void {
  const points = mountPoints(layout);
  const found: Found = { dead: [], live: new Set(), parents: [] };
  for (const mount of points.values()) walkHierarchy(mount, found);
  const records = readRecords();
  const resolved = (cs: readonly RecordedCgroup[]) => cs.map((c) => resolve(c, points));
  for (const { record } of records.filter((r) => recordOwnerLives(r.record))) {
    for (const dir of resolved(record.cgroups)) if (dir !== undefined) found.live.add(dir);
  }
  const deadRecords = records.filter((r) => !recordOwnerLives(r.record));
  const dead = new Set(found.dead);
  for (const { record } of deadRecords) for (const dir of resolved(record.cgroups)) if (dir !== undefined && !found.live.has(dir)) dead.add(dir);
  for (const dir of dead) killTree(dir, found.live);
  let left = [...dead];
  for (const start = Date.now(); left.length > 0; pause(10)) {
    left = left.filter((dir) => !removedBySweep(dir, found.live));
    if (Date.now() - start >= SWEEP_WAIT_MS) break;
  }
  for (const { file, record } of deadRecords) {
    const dirs = resolved(record.cgroups);
    // Not mounted in this view: another view (the host's, after a pure-v2 one) removes them.
    if (dirs.some((d) => d === undefined || fs.existsSync(d))) continue;
    removeEmptyCgroups(resolved(record.parents).filter((d): d is string => d !== undefined));
    fs.rmSync(file, { force: true });
  }
  sweepLegacyRecords(layout);
  // The nsrig/ parents: nsrig made them, and the last container to leave one removes it.
  removeEmptyCgroups([...dead].map((d) => path.dirname(d)).filter((d) => path.basename(d) === DEFAULT_PARENT));
  removeEmptyCgroups(found.parents.filter((p) => subdirectories(p).length === 0));
}

/** A record of nsrig before RECORD_SUFFIX: absolute paths as its writer's mount view saw them, the owner by pid. */
interface LegacyRecord {
  owner: number;
  dirs: string[];
  defaultParents?: string[];
}

/**
 * Removes what dead owners' legacy records name, as nsrig then did: rmdir of each, innermost first
 * (their default cgroups were killed and removed above, found by name). Not in a view whose
 * /sys/fs/cgroup is cgroup2 itself: a pure-v2 view of a hybrid host sees none of the paths a
 * hybrid view wrote, which is how such records were lost (on a real pure-v2 host they stay until
 * reboot; the ones of default placements were swept by name all the same).
 */
function sweepLegacyRecords(layout: CgroupLayout): void {
  if (layout.mode === 'v2') return;
  let names: string[];
  try {
    names = fs.readdirSync(RECORDS).filter((n) => n.endsWith('.json'));
  } catch {
    return;
  }
  for (const file of names.map((n) => path.join(RECORDS, n))) {
    let record: LegacyRecord;
    try {
      record = JSON.parse(fs.readFileSync(file, 'utf8')) as LegacyRecord;
    } catch {
      continue; // removed meanwhile by its owner
    }
    // Started before the record's last write: its owner, still running.
    if (!Array.isArray(record.dirs) || ownerLivesByTime(record.owner, file)) continue;
    removeEmptyCgroups([...record.dirs].reverse());
    if (record.dirs.some((d) => fs.existsSync(d))) continue;
    removeEmptyCgroups(record.defaultParents ?? []);
    fs.rmSync(file, { force: true });
  }
}

let swept = false;

/** The sweep once per process, before its first container cgroup. */
export function sweepDeadOwnersCgroupsOnce(): void {
  if (swept) return;
  swept = true;
  sweepDeadOwnersCgroups();
}
