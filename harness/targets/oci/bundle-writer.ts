// A profile as an OCI bundle: dir/config.json (policy/profile's mapping, untouched except for the
// rig's own read-only binds) and dir/rootfs. For a profile whose root is the host ("/") the rootfs
// is generated: empty directories for mount points, a minimal /etc, the merged-/usr symlinks and
// read-only binds of the host directories programs need. The bundle asks for everything the profile
// says; nothing here weakens it.
import fs from 'node:fs';
import path from 'node:path';
import type { Profile } from '../../../policy/profile/types.js';
import {
  ociConfigFromProfile, ociConfigJson, type OciMount, type OciRuntimeConfig,
} from '../../../policy/profile/oci-config.js';
import { HOST_BIND_OPTIONS, hostRootView, isSameOrBelow } from './host-root-view.js';
import { rigBinds } from '../../probe-rig.js';

export interface BundleOptions {
  /** Replaces profile.process.args. */
  args?: string[];
  /**
   * Bind node's directory and the nsrig project so the probe can run inside. Default true for a
   * generated rootfs. A profile's own rootfs directory gets only the rig (probe-rig.ts), and only
   * when this is true: node must be in that rootfs already (nsrig check --config says so).
   */
  probe?: boolean;
}

export interface Bundle {
  dir: string;
  configPath: string;
  /** The root filesystem the config names: dir/rootfs, or the profile's own rootfs directory. */
  rootfsPath: string;
  config: OciRuntimeConfig;
  /** Mounts the rig added to the profile's (first in config.mounts), so observers can tell them apart. */
  rigMounts: OciMount[];
}

/** A bundle that could not be written: where, and what is wrong. */
export class BundleError extends Error {
  constructor(readonly dir: string, message: string) {
    super(`bundle ${dir}: ${message}`);
    this.name = 'BundleError';
  }
}

const ROOTFS = 'rootfs';

export function writeBundle(profile: Profile, dir: string, options: BundleOptions = {}): Bundle {
  dir = path.resolve(dir);
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of ['config.json', ROOTFS]) {
    if (fs.existsSync(path.join(dir, entry))) throw new BundleError(dir, `already holds ${entry}; give an empty or new directory`);
  }
  // The container's root user is not host root: it must be able to reach rootfs through dir.
  fs.chmodSync(dir, 0o711);
  checkReachable(dir, containerRootOnHost(profile));
  const synthetic = profile.rootfs.path === '/';
  const rootfsPath = synthetic ? path.join(dir, ROOTFS) : profile.rootfs.path;
  const config = ociConfigFromProfile(profile, {
    rootfsPath: synthetic ? ROOTFS : rootfsPath,
    ...(options.args === undefined ? {} : { args: options.args }),
  });
  let rigMounts: OciMount[] = [];
  if (synthetic) {
    const view = hostRootView({ probe: options.probe ?? true });
    rigMounts = view.binds;
    // The rig's binds come first so that a profile mount below one of them still lands on top;
    // a rig bind below a profile mount (the nsrig tree under a /tmp tmpfs) comes after it instead.
    const below = (inner: string, outer: string) => inner !== outer && inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`);
    const covered = (m: OciMount) => config.mounts.some((p) => below(m.destination, p.destination));
    config.mounts = [...rigMounts.filter((m) => !covered(m)), ...config.mounts, ...rigMounts.filter(covered)];
    generateRootfs(rootfsPath, profile, config.mounts, view.symlinks);
  } else if (options.probe === true) {
    // Last, over whatever the profile mounts there, as the built-in engine attaches its tree.
    rigMounts = rigBinds().map((rig) => ({ destination: rig.destination, type: 'bind', source: rig.source, options: [...HOST_BIND_OPTIONS] }));
    config.mounts = [...config.mounts, ...rigMounts];
  }
  const configPath = path.join(dir, 'config.json');
  fs.writeFileSync(configPath, ociConfigJson(config), { mode: 0o644 });
  return { dir, configPath, rootfsPath, config, rigMounts };
}

/**
 * runc mounts the rootfs as the container's root, so every directory above the bundle must let
 * that uid through; otherwise runc fails with a bare "permission denied" on the rootfs mount.
 */
function checkReachable(dir: string, owner: { uid: number; gid: number }): void {
  if (owner.uid === 0) return;
  for (let above = path.dirname(dir); ; above = path.dirname(above)) {
    const st = fs.statSync(above);
    const searchable = (st.mode & 0o001) !== 0 || (st.uid === owner.uid && (st.mode & 0o100) !== 0)
      || (st.gid === owner.gid && (st.mode & 0o010) !== 0);
    if (!searchable) {
      throw new BundleError(dir, `${above} (mode ${(st.mode & 0o7777).toString(8)}) does not let the container's root ` +
        `(host uid ${owner.uid}) through; chmod o+x ${above}, or write bundles elsewhere (TMPDIR)`);
    }
    if (above === '/') return;
  }
}

function generateRootfs(rootfs: string, profile: Profile, mounts: OciMount[], symlinks: Map<string, string>): void {
  const created: string[] = [];
  fs.mkdirSync(rootfs, { mode: 0o755 });
  created.push(rootfs);
  for (const [name, target] of symlinks) {
    fs.symlinkSync(target, path.join(rootfs, name));
    created.push(path.join(rootfs, name));
  }
  created.push(...writeEtc(path.join(rootfs, 'etc'), profile));
  for (const mount of mounts) created.push(...makeMountPoint(rootfs, mount, mounts, symlinks));
  // Owned by the container's root, as an image's files would be, so that "read-only rootfs" is
  // observable as EROFS rather than hidden behind EACCES.
  const owner = containerRootOnHost(profile);
  if (owner.uid !== 0 || owner.gid !== 0) for (const p of created) fs.lchownSync(p, owner.uid, owner.gid);
}

/**
 * Mount points the runtime could not create itself: inside a user namespace the container's root
 * may not write to a directory the host's root owns. Destinations below another mount are left to
 * the runtime (it creates them inside that mount, e.g. /dev/shm in the /dev tmpfs).
 */
function makeMountPoint(rootfs: string, mount: OciMount, all: OciMount[], symlinks: Map<string, string>): string[] {
  const dest = path.posix.normalize(mount.destination);
  if (all.some((other) => other.destination !== dest && isSameOrBelow(dest, path.posix.normalize(other.destination)))) return [];
  const first = dest.split('/')[1] ?? '';
  if (symlinks.has(first)) return [];
  const target = path.join(rootfs, dest);
  if (path.relative(rootfs, target).startsWith('..')) return [];
  const created = makeDirs(rootfs, path.dirname(target));
  if (fs.existsSync(target)) return created;
  if (mount.type === 'bind' && mount.source !== undefined && isFile(mount.source)) fs.writeFileSync(target, '', { mode: 0o644 });
  else fs.mkdirSync(target, { mode: 0o755 });
  return [...created, target];
}

function makeDirs(rootfs: string, dir: string): string[] {
  if (dir === rootfs || fs.existsSync(dir)) return [];
  const created = makeDirs(rootfs, path.dirname(dir));
  fs.mkdirSync(dir, { mode: 0o755 });
  return [...created, dir];
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** Just enough /etc for names and the dynamic linker; nothing of the host's configuration. */
function writeEtc(etc: string, profile: Profile): string[] {
  fs.mkdirSync(etc, { mode: 0o755 });
  const { uid, gid, additionalGids } = profile.process;
  const users = [[0, 0, 'root', '/root'], [65534, 65534, 'nobody', '/nonexistent']];
  if (!users.some(([id]) => id === uid)) users.push([uid, gid, 'nsrig', '/']);
  const groups = new Map<number, string>([[0, 'root'], [65534, 'nogroup']]);
  for (const g of [gid, ...additionalGids]) if (!groups.has(g)) groups.set(g, `group${g}`);
  const files: Record<string, string> = {
    passwd: users.map(([id, g, name, home]) => `${name}:x:${id}:${g}:${name}:${home}:/bin/sh\n`).join(''),
    group: [...groups].map(([id, name]) => `${name}:x:${id}:\n`).join(''),
    hosts: `127.0.0.1\tlocalhost${profile.hostname ? ` ${profile.hostname}` : ''}\n::1\tlocalhost\n`,
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
  };
  const created = [etc];
  for (const [name, text] of Object.entries(files)) {
    fs.writeFileSync(path.join(etc, name), text, { mode: 0o644 });
    created.push(path.join(etc, name));
  }
  if (fs.existsSync('/etc/ld.so.cache')) {
    fs.copyFileSync('/etc/ld.so.cache', path.join(etc, 'ld.so.cache'));
    created.push(path.join(etc, 'ld.so.cache'));
  }
  return created;
}

/** The host ids the container's uid 0 and gid 0 map to (0 without a user namespace or mapping). */
export function containerRootOnHost(profile: Profile): { uid: number; gid: number } {
  if (!profile.namespaces.includes('user')) return { uid: 0, gid: 0 };
  const hostIdOf = (maps: Profile['user']['uidMappings']): number => {
    const m = maps.find((r) => r.containerId <= 0 && 0 < r.containerId + r.size);
    return m === undefined ? 0 : m.hostId - m.containerId;
  };
  return { uid: hostIdOf(profile.user.uidMappings), gid: hostIdOf(profile.user.gidMappings) };
}
