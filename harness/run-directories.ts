// Directories a run mounts on the host and names after its pid (nsrig-fixture-PID-*,
// nsrig-userns-PID-*): their removal, and the sweep of those a SIGKILLed run left, whose exit
// hook never ran.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unmountDetached } from '../core/host-kernel.js';
import { readMountinfo } from '../core/cgroup-layout.js';

/** Detaches the directory's mount and every mount below it at once, then removes it. */
export function removeMountedDir(dir: string): void {
  try {
    unmountDetached(dir);
  } catch {
    // not (or no longer) a mount point
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** `PREFIX` + pid + '-' + anything: the name mkdtemp gives a run's directory. */
export function runDirectoryName(prefix: string): RegExp {
  return new RegExp(`^${prefix}(\\d+)-[^/]+$`);
}

/**
 * The directories named by `name` whose run is gone: those in $TMPDIR by name, and those mounted
 * anywhere else (a run whose TMPDIR was another directory, as test files set it) by the mount
 * table, since a leftover mount is what would weaken the host.
 */
export function sweepDirectoriesOfDeadRuns(name: RegExp): void {
  const inTmp = fs.readdirSync(os.tmpdir()).map((entry) => path.join(os.tmpdir(), entry));
  const mounted = readMountinfo().map((m) => m.mountPoint);
  for (const dir of new Set([...inTmp, ...mounted])) {
    const pid = Number(name.exec(path.basename(dir))?.[1]);
    if (!pid || fs.existsSync(`/proc/${pid}`)) continue;
    removeMountedDir(dir);
  }
}
