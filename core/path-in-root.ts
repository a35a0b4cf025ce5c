// A container path resolved inside the root being built, the way the kernel will resolve it once
// that root is "/": symlinks are followed, but an absolute target or a ".." starts over from (or
// stops at) the new root, never the host's. Masks and read-only binds are placed before
// pivot_root, where a plain path would follow an absolute symlink out to the host's tree and the
// mount would land where the container never looks.
import fs from 'node:fs';
import path from 'node:path';

/** Linux's own limit on symlinks followed in one lookup (ELOOP past it). */
const MAX_SYMLINKS = 40;

/**
 * The host path of `containerPath` inside `root`, every symlink resolved within `root`; undefined
 * when some part of it does not exist (runtimes skip such masked and read-only paths).
 */
export function resolveInRoot(root: string, containerPath: string): string | undefined {
  let pending = containerPath.split('/').filter((p) => p !== '' && p !== '.');
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = path.join(root, ...resolved, part);
    const stat = fs.lstatSync(host, { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    if (!stat.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) return undefined;
    const target = fs.readlinkSync(host);
    if (target.startsWith('/')) resolved = [];
    pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
  }
  return path.join(root, ...resolved);
}

/**
 * The first symlink on `containerPath` inside `root` whose target leads out of it (absolute, or
 * climbing with ".."), with that target; undefined when there is none. Before pivot_root the
 * kernel resolves such a link in the runtime's own tree, not the container's.
 */
export function escapingSymlink(root: string, containerPath: string): { link: string; target: string } | undefined {
  const parts = containerPath.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = 1; i <= parts.length; i++) {
    const inside = `/${parts.slice(0, i).join('/')}`;
    const host = path.join(root, inside);
    const stat = fs.lstatSync(host, { throwIfNoEntry: false });
    if (stat === undefined) return undefined;
    if (!stat.isSymbolicLink()) continue;
    const target = fs.readlinkSync(host);
    if (target.startsWith('/') || target.split('/').includes('..')) return { link: inside, target };
  }
  return undefined;
}
