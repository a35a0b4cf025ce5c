// A cgroup v2 directory per container: it holds every process of the container, so teardown can
// kill all of them at once (cgroup.kill) even when the profile has no PID namespace.
import fs from 'node:fs';
import path from 'node:path';
import { readCgroupLayout } from './cgroup-layout.js';
import { removeCgroupTree, sweepDeadOwnersCgroupsOnce } from './cgroup-dead-owners.js';

/** Where this process's view mounts cgroup2 (undefined: none); read once, at its first container. */
let unifiedMount: string | undefined | null = null;

/** A container's cgroup that still holds a process after teardown killed everything in it. */
export class CgroupBusyError extends Error {
  constructor(readonly dirs: string[]) {
    super(dirs.length === 1 ? `cgroup ${dirs[0]} still busy after teardown` : `cgroups ${dirs.join(', ')} still busy after teardown`);
    this.name = 'CgroupBusyError';
  }
}

export class ContainerCgroup {
  private constructor(readonly dir: string) {}

  /** Creates nsrig/<id> under the cgroup v2 mount, or returns undefined when the host has none. */
  static create(id: string): ContainerCgroup | undefined {
    sweepDeadOwnersCgroupsOnce();
    if (unifiedMount === null) unifiedMount = readCgroupLayout().unifiedMount;
    if (unifiedMount === undefined) return undefined;
    const dir = path.join(unifiedMount, 'nsrig', id);
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

  /**
   * Removes the directory once the kernel has emptied it, with any cgroup the container made below
   * it (a writable cgroup mount allows that); kills again while processes die.
   */
  async remove(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (removeCgroupTree(this.dir)) return;
      this.killAll();
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new CgroupBusyError([this.dir]);
  }
}
