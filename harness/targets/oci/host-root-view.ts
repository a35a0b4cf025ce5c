// What of the host a bundle's synthetic rootfs shows: the directories programs (and the probe)
// need, bound read-only, and the merged-/usr symlinks recreated rather than bound, so /bin inside
// resolves through the container's own /usr bind. Everything else in the rootfs, /etc included
// (but for its alternatives), is generated.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OciMount } from '../../../policy/profile/oci-config.js';

/** Top-level host entries a dynamically linked program may need. */
const SYSTEM_ENTRIES = ['usr', 'bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

/**
 * Read-only; nosuid, as nothing the rig runs inside needs set-uid programs; private, so a mount the
 * host makes later under /usr or the checkout stays out of the container.
 */
export const HOST_BIND_OPTIONS: readonly string[] = ['bind', 'private', 'ro', 'nosuid', 'nodev'];

export interface HostRootView {
  /** Read-only binds of host directories, at the same path inside. */
  binds: OciMount[];
  /** Top-level symlinks to recreate inside: name → target ("bin" → "usr/bin"). */
  symlinks: Map<string, string>;
}

/**
 * The host part of a synthetic rootfs. With `probe`, also node's directory and the nsrig project
 * (so `node <project>/dist/harness/probe/main.js` runs inside), unless an earlier bind covers them.
 */
export function hostRootView(options: { probe: boolean }): HostRootView {
  const binds: OciMount[] = [];
  const symlinks = new Map<string, string>();
  for (const name of SYSTEM_ENTRIES) {
    const hostPath = `/${name}`;
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(hostPath);
    } catch {
      continue;
    }
    if (stat.isSymbolicLink()) symlinks.set(name, fs.readlinkSync(hostPath));
    else if (stat.isDirectory()) binds.push(hostBind(hostPath));
  }
  // Debian reaches many programs through it (/usr/bin/awk → /etc/alternatives/awk → mawk). Bound,
  // not copied: hundreds of symlinks made per bundle cost more than the container itself.
  if (isDirectory('/etc/alternatives')) binds.push(hostBind('/etc/alternatives'));
  if (options.probe) {
    for (const dir of [path.dirname(fs.realpathSync(process.execPath)), projectRoot()]) {
      const covered = binds.some((b) => isSameOrBelow(dir, b.destination)) || [...symlinks.keys()].some((s) => isSameOrBelow(dir, `/${s}`));
      if (!covered) binds.push(hostBind(dir));
    }
  }
  return { binds, symlinks };
}

function isDirectory(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

function hostBind(dir: string): OciMount {
  return { destination: dir, type: 'bind', source: dir, options: [...HOST_BIND_OPTIONS] };
}

export function isSameOrBelow(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

let cachedRoot: string | undefined;

/** The nsrig checkout this module runs from: the nearest directory up with nsrig's package.json. */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'nsrig') {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nsrig package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
