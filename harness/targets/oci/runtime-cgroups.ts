// The cgroups an OCI runtime made for a container it could not create or start. runc and crun
// remove them on delete only for a container they know; one whose create failed half-way is known
// to neither, and its directories stay in every hierarchy. nsrig names each container uniquely
// (nsrig-oci-PID-N-HEX), so a directory of that name in any cgroup hierarchy is that container's.
import fs from 'node:fs';
import path from 'node:path';
import { readMountinfo } from './cgroup-layout.js';

/** How deep below a hierarchy's root a runtime puts a container's cgroup (runc: below nsrig's own). */
const MAX_DEPTH = 5;

function matching(match: (name: string) => boolean, dir: string, depth: number): string[] {
  if (depth > MAX_DEPTH) return [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isDirectory()).flatMap((e) => {
    const p = path.join(dir, e.name);
    return match(e.name) ? [p] : matching(match, p, depth + 1);
  });
}

/** Every cgroup directory whose name `match`es, in every hierarchy: v1 (named ones such as name=systemd too) and v2. */
export function cgroupsNamedLike(match: (name: string) => boolean): string[] {
  const roots = new Set(readMountinfo().filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2').map((m) => m.mountPoint));
  return [...roots].flatMap((root) => matching(match, root, 0));
}

/** Every cgroup directory named `id`, in every hierarchy. */
export function cgroupsOfContainer(id: string): string[] {
  return cgroupsNamedLike((name) => name === id);
}

/**
 * Removes the cgroups named `id` once the runtime has deleted what it knows; children first.
 * Returns what could not be removed (a cgroup still holding a process), to be reported.
 */
export function removeContainerCgroups(id: string): string[] {
  const left: string[] = [];
  for (const dir of cgroupsOfContainer(id)) {
    const inner = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
    for (const d of [...inner, dir]) {
      try {
        fs.rmdirSync(d);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') left.push(`${d} (${code})`);
      }
    }
  }
  return left.length === 0 ? [] : [`the runtime left cgroups nsrig could not remove: ${left.join(', ')}`];
}
