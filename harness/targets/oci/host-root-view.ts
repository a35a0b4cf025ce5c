// What of the host a bundle's synthetic rootfs shows: the directories programs (and the probe)
// need, bound read-only, and the merged-/usr symlinks recreated rather than bound, so /bin inside
// resolves through the container's own /usr bind. Everything else in the rootfs, /etc included
// (but for its alternatives), is generated.
import fs from 'node:fs';
import path from 'node:path';
import type { OciMount } from '../../../policy/profile/oci-config.js';
import { rigBinds, projectRoot } from '../../probe-rig.js';

export { projectRoot };

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
 * The host part of a synthetic rootfs. With `probe`, also node's directory (unless an earlier bind
 * covers it) and the probe's rig (probe-rig.ts), so `node /run/nsrig-rig/dist/harness/probe/main.js` runs inside.
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
    const nodeDir = path.dirname(fs.realpathSync(process.execPath));
    const covered = binds.some((b) => isSameOrBelow(nodeDir, b.destination)) || [...symlinks.keys()].some((s) => isSameOrBelow(nodeDir, `/${s}`));
    if (!covered) binds.push(hostBind(nodeDir));
    for (const rig of rigBinds()) binds.push({ ...hostBind(rig.source), destination: rig.destination });
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
