// crun 1.8 and this host's hybrid cgroup layout. crun refuses a host whose v1 controllers sit beside
// a cgroup2 mount that still holds controllers ("cgroups in hybrid mode not supported, drop all
// controllers from cgroupv2"). On the Debian hosts seen here cgroup2 keeps only hugetlb, because no
// v1 hierarchy claimed it. Mounting each such controller as a v1 hierarchy moves it off cgroup2;
// unmounting it (once no cgroup is left in it) moves it back. Nothing else on the host changes.
//
// The step is explicit, never silent: the rig calls prepareHostForCrun() before running crun and
// undoHostPreparation() after. Several nsrig processes may hold the preparation at once; each holds
// a lease, and the last holder to leave undoes the mounts the first one made.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mount, unmountDetached } from '../../../core/host-kernel.js';
import { startTicksOf, stillStartedAt } from '../../../core/process-start.js';
import { MS } from '../../../policy/kernel/mount-flags.js';
import { readCgroupLayout, type CgroupLayout } from './cgroup-layout.js';
import { PREPARED_HIERARCHIES_RECORD } from '../../../core/cgroup-layout.js';

/** What prepareHostForCrun did; give it back to undoHostPreparation. */
export interface HostPreparation {
  /** The lease this process holds; undefined when the host needed nothing. */
  lease: string | undefined;
  /** What this call changed (mkdir and mount steps); empty when another holder had done it. */
  changes: string[];
}

/** Host preparation that failed, with what a person can do instead. */
export class HostPreparationError extends Error {
  constructor(message: string, readonly remedy: string) {
    super(`${message} — ${remedy}`);
    this.name = 'HostPreparationError';
  }
}

const STATE_DIR = '/run/nsrig-crun-host-preparation';
const LEASES = path.join(STATE_DIR, 'leases');
/** The engine reads it too, to keep its containers out of these hierarchies (core/cgroup-layout.ts). */
const RECORD = PREPARED_HIERARCHIES_RECORD;
const LOCK = path.join(STATE_DIR, 'lock');
/**
 * crun 1.8 joins a v1 controller's name to /sys/fs/cgroup and looks nowhere else, so the hierarchy
 * goes exactly there. Mounted anywhere else, crun makes plain directories on /sys/fs/cgroup's
 * tmpfs and writes a plain cgroup.procs file in each: no limit applies and its rmdir cannot remove them.
 */
const MOUNT_PARENT = '/sys/fs/cgroup';
/** The directory the built-in engine makes its containers' cgroups in, in each hierarchy (core/cgroup.ts). */
const ENGINE_CGROUP_PARENT = 'nsrig';

interface MountStep {
  controller: string;
  mountPoint: string;
  /** Directories mkdir made for the mount point, innermost first: removed after unmounting. */
  createdDirs: string[];
}

interface PreparationRecord {
  mounts: MountStep[];
}

/**
 * Why crun 1.8 would refuse this host, with what to do; undefined when it would not. Other
 * runtimes (runc) need none of this.
 */
export function crunHostProblem(layout: CgroupLayout = readCgroupLayout()): string | undefined {
  if (layout.mode !== 'hybrid' || layout.unifiedControllers.length === 0) return undefined;
  const list = layout.unifiedControllers.join(', ');
  return `this host mixes cgroup v1 and v2 and its cgroup2 hierarchy at ${layout.unifiedMount} holds controllers (${list}); ` +
    'crun 1.8 refuses that ("cgroups in hybrid mode not supported"). Rerun nsrig check with --prepare-host, which mounts ' +
    `${list} as v1 hierarchies under /sys/fs/cgroup for the run and unmounts them afterwards ` +
    '(prepareHostForCrun() and undoHostPreparation() in harness/targets/oci/crun-host-preparation.ts), ' +
    `or prepare the host by hand: mkdir /sys/fs/cgroup/X && mount -t cgroup -o X cgroup /sys/fs/cgroup/X for each X in ${list}`;
}

export function prepareHostForCrun(): HostPreparation {
  return withLock(() => {
    pruneDeadLeases();
    const changes: string[] = [];
    const layout = readCgroupLayout();
    if (crunHostProblem(layout) === undefined) {
      // Prepared by an earlier holder, by hand, or never needed: only our own record needs holding.
      if (!fs.existsSync(RECORD)) return { lease: undefined, changes };
    } else {
      // A record whose mounts are gone (unmounted by hand) describes nothing: prepare afresh.
      fs.rmSync(RECORD, { force: true });
      const record: PreparationRecord = { mounts: [] };
      try {
        for (const controller of layout.unifiedControllers) {
          const step = mountV1Hierarchy(controller);
          record.mounts.push(step);
          const mkdir = step.createdDirs.length > 0 ? `mkdir -p ${step.mountPoint}; ` : '';
          changes.push(`${mkdir}mount -t cgroup -o ${controller} cgroup ${step.mountPoint}`);
        }
        const after = readCgroupLayout();
        if (after.unifiedControllers.length > 0) {
          throw new HostPreparationError(`cgroup2 still holds ${after.unifiedControllers.join(', ')} after mounting them as v1`,
            'a controller enabled in a cgroup2 subtree cannot move; disable it in cgroup.subtree_control, or boot with a pure v1 or v2 layout');
        }
      } catch (error) {
        try {
          undoMounts(record);
        } catch (undoError) {
          throw new HostPreparationError(`${(error as Error).message}; undoing the partial preparation failed too`, (undoError as Error).message);
        }
        throw error;
      }
      fs.writeFileSync(RECORD, JSON.stringify(record));
    }
    // pid and start time: a pid alone is reused once its holder is gone, and would hold the lease.
    const lease = `${process.pid}-${startTicksOf('self')}-${randomBytes(4).toString('hex')}`;
    fs.writeFileSync(path.join(LEASES, lease), '');
    return { lease, changes };
  });
}

/**
 * Gives the lease back; the last holder unmounts. Returns what was undone (empty when others still
 * hold it). On failure the lease stays, so the call can be repeated once the cause is gone.
 */
export function undoHostPreparation(prep: HostPreparation): string[] {
  const lease = prep.lease;
  if (lease === undefined) return [];
  return withLock(() => {
    pruneDeadLeases();
    const others = fs.readdirSync(LEASES).filter((l) => l !== lease);
    let undone: string[] = [];
    if (others.length === 0 && fs.existsSync(RECORD)) {
      undone = undoMounts(JSON.parse(fs.readFileSync(RECORD, 'utf8')) as PreparationRecord);
      fs.rmSync(RECORD);
    }
    fs.rmSync(path.join(LEASES, lease), { force: true });
    return undone;
  });
}

function mountV1Hierarchy(controller: string): MountStep {
  const mountPoint = path.join(MOUNT_PARENT, controller);
  let createdDirs: string[] = [];
  try {
    if (!fs.existsSync(mountPoint)) {
      const first = fs.mkdirSync(mountPoint, { recursive: true, mode: 0o755 })!;
      for (let dir = mountPoint; ; dir = path.dirname(dir)) {
        createdDirs.push(dir);
        if (dir === first) break;
      }
    } else {
      removeCrunStrays(mountPoint);
      // Empty now and no mount: what crun or an interrupted preparation left on /sys/fs/cgroup's
      // tmpfs, not a hierarchy of the host's. Adopted, so the undo removes it with the mount.
      createdDirs = [mountPoint];
    }
    mount('cgroup', mountPoint, 'cgroup', MS.NOSUID | MS.NODEV | MS.NOEXEC, controller);
    return { controller, mountPoint, createdDirs };
  } catch (error) {
    for (const dir of createdDirs) fs.rmdirSync(dir);
    createdDirs = [];
    if (error instanceof HostPreparationError) throw error;
    throw new HostPreparationError(`could not mount the ${controller} controller as a cgroup v1 hierarchy at ${mountPoint} (${(error as Error).message})`,
      `crun 1.8 finds it nowhere else; mount it there by hand (mkdir -p ${mountPoint} && mount -t cgroup -o ${controller} cgroup ${mountPoint}), or run crun on a host with a pure v1 or v2 layout`);
  }
}

/**
 * An existing, non-mounted /sys/fs/cgroup/NAME may hold what crun made there while the hierarchy
 * was mounted elsewhere (an earlier nsrig did that): directories named nsrig-* holding only plain
 * files. Those are removed; anything else is someone's and stops the preparation.
 */
function removeCrunStrays(mountPoint: string): void {
  const entries = fs.readdirSync(mountPoint, { withFileTypes: true });
  if (entries.length === 0) return;
  const onParentFs = fs.statSync(mountPoint).dev === fs.statSync(path.dirname(mountPoint)).dev;
  const stray = (dir: string): boolean => fs.readdirSync(dir, { withFileTypes: true })
    .every((e) => e.isFile() || (e.isDirectory() && stray(path.join(dir, e.name))));
  const foreign = entries.filter((e) => !(e.isDirectory() && e.name.startsWith('nsrig-') && stray(path.join(mountPoint, e.name))));
  if (!onParentFs || foreign.length > 0) {
    throw new HostPreparationError(`${mountPoint} exists and holds what nsrig did not make (${foreign.map((e) => e.name).slice(0, 5).join(', ') || 'a mount'})`,
      `crun 1.8 needs the controller's v1 hierarchy exactly there; empty or unmount ${mountPoint}`);
  }
  for (const e of entries) fs.rmSync(path.join(mountPoint, e.name), { recursive: true });
}

/**
 * Unmounts in reverse order and waits until each controller is back on cgroup2. The kernel frees
 * an unmounted v1 hierarchy only if it has no child cgroups at that moment, dying ones included
 * (a container's cgroup lingers briefly after crun removes it); unmounted with one, the hierarchy
 * lives on invisibly and keeps the controller away from cgroup2. So: wait for the children to be
 * gone (/proc/cgroups counts dying ones too), unmount, wait for the controller to come back.
 */
function undoMounts(record: PreparationRecord): string[] {
  const undone: string[] = [];
  const stuck: string[] = [];
  for (const { controller, mountPoint, createdDirs } of [...record.mounts].reverse()) {
    if (!(readCgroupLayout().v1Mounts.get(controller) ?? []).includes(mountPoint)) {
      // Unmounted by hand or by a holder that died mid-undo: the directories made for it go still.
      const removed = createdDirs.filter((dir) => removeIfEmpty(dir));
      undone.push(`${mountPoint} was already unmounted${removed.length > 0 ? `; rmdir ${removed.join(' ')}` : ''}`);
      continue;
    }
    // The built-in engine's parent for its containers' cgroups stays after its last container; empty,
    // it is nobody's, and it would keep the hierarchy alive. rmdir fails (EBUSY) while it is in use.
    removeIfEmpty(path.join(mountPoint, ENGINE_CGROUP_PARENT));
    if (!waitUntil(() => controllerState(controller)?.cgroups === 1, 5000)) {
      const live = fs.readdirSync(mountPoint, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
      stuck.push(`the ${controller} hierarchy at ${mountPoint} still has ${controllerState(controller)?.cgroups ?? '?'} cgroups` +
        (live.length > 0 ? ` (live: ${live.join(', ')})` : ' (dying)'));
      continue;
    }
    unmountDetached(mountPoint);
    for (const dir of createdDirs) fs.rmdirSync(dir);
    undone.push(`umount ${mountPoint}${createdDirs.length > 0 ? `; rmdir ${createdDirs.join(' ')}` : ''}`);
    if (!waitUntil(() => controllerState(controller)?.hierarchy === 0, 5000)) {
      stuck.push(`${controller} did not return to cgroup2 within 5 s of unmounting ${mountPoint}; mounting it again and unmounting it once it has no cgroups frees it`);
    }
  }
  if (stuck.length > 0) {
    throw new HostPreparationError(`could not undo the crun host preparation: ${stuck.join('; ')}`,
      'delete the containers still using those cgroups (crun delete --force), then call undoHostPreparation() again');
  }
  return undone;
}

/** A controller's row in /proc/cgroups: its hierarchy id (0 is cgroup2) and how many cgroups that hierarchy has. */
function controllerState(controller: string): { hierarchy: number; cgroups: number } | undefined {
  for (const line of fs.readFileSync('/proc/cgroups', 'utf8').split('\n')) {
    const [name, hierarchy, cgroups] = line.split('\t');
    if (name === controller) return { hierarchy: Number(hierarchy), cgroups: Number(cgroups) };
  }
  return undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function waitUntil(condition: () => boolean, limitMs: number): boolean {
  for (let waited = 0; waited < limitMs; waited += 10) {
    if (condition()) return true;
    sleepSync(10);
  }
  return condition();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that took `lease` (PID-STARTTICKS-RANDOM) still runs: same pid, same start. */
function holderAlive(lease: string): boolean {
  const [pid, started] = lease.split('-').map(Number) as [number, number];
  return stillStartedAt(pid, started);
}

/** A lease whose process has died (killed mid-run), or whose pid another process now has, no longer holds the preparation. */
function pruneDeadLeases(): void {
  fs.mkdirSync(LEASES, { recursive: true, mode: 0o700 });
  for (const lease of fs.readdirSync(LEASES)) {
    if (!holderAlive(lease)) fs.rmSync(path.join(LEASES, lease), { force: true });
  }
}

/** mkdir is atomic: the directory is the lock, the pid inside names its holder. */
function withLock<T>(body: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
      fs.mkdirSync(LOCK);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // ENOENT: a holder leaving removed the empty state directory between our two mkdirs.
      if (code === 'ENOENT') continue;
      if (code !== 'EEXIST') throw error;
      const holder = Number(readOrEmpty(path.join(LOCK, 'pid')));
      if (holder > 0 && !isAlive(holder)) fs.rmSync(LOCK, { recursive: true, force: true });
      else if (attempt > 1000) throw new Error(`${LOCK} held by pid ${holder} for over 10 s`);
      else sleepSync(10);
    }
  }
  try {
    fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
    return body();
  } finally {
    removeIfEmpty(LEASES);
    fs.rmSync(LOCK, { recursive: true, force: true });
    removeIfEmpty(STATE_DIR);
  }
}

/** Removes `dir` if it is empty; false when it is not, or is already gone (another process may be recreating it). */
function removeIfEmpty(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
