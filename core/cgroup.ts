// A cgroup v2 directory per container: it holds every process of the container, so teardown can
// kill all of them at once (cgroup.kill) even when the profile has no PID namespace.
import fs from 'node:fs';
import path from 'node:path';

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

/**
 * Removes the cgroups of nsrig processes that no longer exist (killed with SIGKILL, so their
 * teardown never ran). Their containers died with them (parent-death signal); the directories
 * are empty and only need removing.
 */
function sweepStale(parent: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((n) => /^nsrig-\d+-[0-9a-f]+$/.test(n));
  } catch {
    return;
  }
  for (const name of names) {
    const owner = Number(name.split('-')[1]);
    if (owner === process.pid || fs.existsSync(`/proc/${owner}`)) continue;
    try {
      fs.rmdirSync(path.join(parent, name));
    } catch {
      // still populated or already gone: left for its owner or the next sweep
    }
  }
}

export class ContainerCgroup {
  private constructor(readonly dir: string) {}

  /** Creates nsrig/<id> under the cgroup v2 mount, or returns undefined when the host has none. */
  static create(id: string): ContainerCgroup | undefined {
    if (cachedRoot === null) {
      cachedRoot = cgroup2Root();
      if (cachedRoot) sweepStale(path.join(cachedRoot, 'nsrig'));
    }
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
    throw new Error(`cgroup ${this.dir} still busy after teardown`);
  }
}
