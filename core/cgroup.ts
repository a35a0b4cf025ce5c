// A cgroup v2 directory per container: it holds every process of the container, so teardown can
// kill all of them at once (cgroup.kill) even when the profile has no PID namespace.
import fs from 'node:fs';
import path from 'node:path';
import { CLOCK_TICKS_PER_SECOND, startTicksOf } from './process-start.js';
import { readHostClocks } from './time-offsets.js';

const CANDIDATE_ROOTS = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

function cgroup2Root(): string | undefined {
  for (const root of CANDIDATE_ROOTS) {
    try {
      if (fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.includes(` ${root} `) && l.includes(' - cgroup2 '))) return root;
    } catch {
      // not mounted here
    }
  }
  return undefined;
}

let cachedRoot: string | undefined | null = null;

/** Blocks this thread for `ms`: the sweep runs inside the synchronous create(). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** SIGKILL to every process in the cgroup and its descendants. */
function killCgroup(dir: string): void {
  try {
    // cgroup.kill (Linux 5.14+, cgroup-v2.rst) kills the whole subtree, also processes forking meanwhile.
    fs.writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return;
    // An older kernel: one by one, from cgroup.procs.
    for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}

/** rmdir of a cgroup and the cgroups below it, deepest first; false while one is still populated. */
function removeCgroupTree(dir: string): boolean {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return true;
  }
  const below = entries.filter((e) => e.isDirectory()).map((e) => removeCgroupTree(path.join(dir, e.name)));
  if (below.includes(false)) return false;
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Does the nsrig process that created this cgroup still run? Its pid alone cannot say: a pid is
 * reused, so a process that started after the cgroup was made is someone else.
 */
function ownerLives(pid: number, dir: string): boolean {
  const startTicks = startTicksOf(pid);
  if (startTicks === undefined) return false;
  // Start times are counted in the host's time namespace (process-start.ts), so its clock, not ours.
  const bootedAt = Date.now() / 1000 - readHostClocks().boottime;
  const startedAt = bootedAt + startTicks / CLOCK_TICKS_PER_SECOND;
  let createdAt: number;
  try {
    createdAt = fs.statSync(dir).mtimeMs / 1000;
  } catch {
    return true; // removed meanwhile, by its owner: nothing to sweep
  }
  // A second of slack for the clocks' rounding.
  return startedAt <= createdAt + 1;
}

/** How long the sweep waits for killed processes to leave their cgroups. */
const SWEEP_WAIT_MS = 2_000;

/**
 * Removes the cgroups of nsrig processes that no longer exist (killed with SIGKILL, so their
 * teardown never ran) together with any process still in them: a child the kill caught before
 * it was released, or a container's orphans. Each is killed through its cgroup, then its
 * directories go once the kernel has emptied them.
 */
export function sweepStaleCgroups(parent: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((n) => /^nsrig-\d+-[0-9a-f]+$/.test(n));
  } catch {
    return [];
  }
  const stale = names.map((name) => path.join(parent, name)).filter((dir) => {
    const owner = Number(path.basename(dir).split('-')[1]);
    return owner !== process.pid && !ownerLives(owner, dir);
  });
  for (const dir of stale) killCgroup(dir);
  let left = stale;
  for (const start = Date.now(); left.length > 0 && Date.now() - start < SWEEP_WAIT_MS; pause(10)) {
    left = left.filter((dir) => !removeCgroupTree(dir));
  }
  // Still populated: left for the next sweep.
  return stale.filter((dir) => !left.includes(dir));
}

/** A container's cgroup that still holds a process after teardown killed everything in it. */
export class CgroupBusyError extends Error {
  constructor(readonly dirs: string[]) {
    super(dirs.length === 1 ? `cgroup ${dirs[0]} still busy after teardown` : `cgroups ${dirs.join(', ')} still busy after teardown`);
    this.name = 'CgroupBusyError';
  }
}

/** Sweeps the engine's container cgroups of dead nsrig processes now (the first launch of a process does it too). */
export function sweepEngineCgroups(): void {
  cachedRoot ??= cgroup2Root();
  if (cachedRoot) sweepStaleCgroups(path.join(cachedRoot, 'nsrig'));
}

export class ContainerCgroup {
  private constructor(readonly dir: string) {}

  /** Creates nsrig/<id> under the cgroup v2 mount, or returns undefined when the host has none. */
  static create(id: string): ContainerCgroup | undefined {
    if (cachedRoot === null) sweepEngineCgroups();
    if (!cachedRoot) return undefined;
    const dir = path.join(cachedRoot, 'nsrig', id);
    fs.mkdirSync(dir, { recursive: true });
    return new ContainerCgroup(dir);
  }

  /** A directory made elsewhere (a profile's cgroupsPath, see cgroup-resources.ts), handled the same way. */
  static adopt(dir: string): ContainerCgroup {
    return new ContainerCgroup(dir);
  }

  add(pid: number): void {
    fs.writeFileSync(path.join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** SIGKILL to every process in the cgroup (Linux 5.14+). */
  killAll(): void {
    try {
      fs.writeFileSync(path.join(this.dir, 'cgroup.kill'), '1');
    } catch {
      // already removed
    }
  }

  isEmpty(): boolean {
    try {
      return fs.readFileSync(path.join(this.dir, 'cgroup.procs'), 'utf8').trim() === '';
    } catch {
      return true;
    }
  }

  /** Removes the directory once the kernel has emptied it; retries briefly while processes die. */
  async remove(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      try {
        fs.rmdirSync(this.dir);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        if (code !== 'EBUSY') throw e;
        this.killAll();
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    throw new CgroupBusyError([this.dir]);
  }
}
