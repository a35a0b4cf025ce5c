// The cgroup filesystem at a mount point, as runc 1.1 mounts a config's "cgroup" mount. On a
// unified (v2-only) host: cgroup2 itself, or, where the kernel refuses that (a user namespace
// without a cgroup namespace of its own), a bind of the container's own cgroup directory. On a
// v1 or hybrid host: a tmpfs holding one entry per v1 hierarchy, each the container's own cgroup
// in it (a bind of that directory, or, inside a cgroup namespace, the hierarchy mounted anew,
// whose root the namespace makes that same directory). Every entry gets the mount's own flags.
import fs from 'node:fs';
import path from 'node:path';
import type { PlannedMount } from './plan.js';
import { MS, MOUNT_ATTR } from '../policy/kernel/mount-flags.js';
import { mount, cloneMountTree, attachMountTree, setMountAttributes } from './native/mount.js';
import { SyscallError } from './native/syscall-error.js';

const HOST_CGROUP_ROOT = '/sys/fs/cgroup';

interface Hierarchy {
  mountPoint: string;
  /** The hierarchy's own mount options: its controllers, or name=... */
  controllers: string;
  /** The directory of this process's cgroup, relative to the hierarchy's root. */
  cgroupPath: string;
}

/** One mountinfo line's mount point, filesystem type and super options (mount points have no spaces here). */
function cgroupMounts(): { mountPoint: string; fsType: string; superOptions: string[] }[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').flatMap((line) => {
    const [left, right] = line.split(' - ');
    if (left === undefined || right === undefined) return [];
    const [fsType, , superOptions] = right.split(' ');
    const mountPoint = left.split(' ')[4]!;
    return fsType === 'cgroup' || fsType === 'cgroup2' ? [{ mountPoint, fsType, superOptions: (superOptions ?? '').split(',') }] : [];
  });
}

/** This process's cgroup per hierarchy: "cpu,cpuacct" → "/a/b", "" (cgroup2) → "/a". */
function ownCgroups(): Map<string, string> {
  const entries = fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n').map((line) => {
    const [, controllers, cgroup] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    return [controllers ?? '', cgroup ?? '/'] as [string, string];
  });
  return new Map(entries);
}

function v1Hierarchies(): Hierarchy[] {
  const own = ownCgroups();
  return cgroupMounts().filter((m) => m.fsType === 'cgroup' && path.dirname(m.mountPoint) === HOST_CGROUP_ROOT).flatMap((m) => {
    const controllers = m.superOptions.filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('release_agent') && o !== 'clone_children'
      && o !== 'xattr' && o !== 'noprefix').join(',');
    const cgroupPath = own.get(controllers);
    return cgroupPath === undefined ? [] : [{ mountPoint: m.mountPoint, controllers, cgroupPath }];
  });
}

function isUnified(): boolean {
  return cgroupMounts().some((m) => m.mountPoint === HOST_CGROUP_ROOT && m.fsType === 'cgroup2');
}

/** A bind of a host directory, read-only or not as the mount's flags say, made before it is attached. */
function bindWithFlags(source: string, target: string, flags: number): void {
  const tree = cloneMountTree(source, false);
  const attr = (flags & MS.RDONLY ? MOUNT_ATTR.RDONLY : 0) | (flags & MS.NOSUID ? MOUNT_ATTR.NOSUID : 0)
    | (flags & MS.NODEV ? MOUNT_ATTR.NODEV : 0) | (flags & MS.NOEXEC ? MOUNT_ATTR.NOEXEC : 0);
  setMountAttributes(tree, attr, { recursive: false });
  attachMountTree(tree, target);
}

export function mountCgroupFilesystem(target: string, planned: PlannedMount, inCgroupNamespace: boolean): void {
  const { flags, data } = planned;
  if (planned.mount.type === 'cgroup2' || isUnified()) {
    try {
      mount('cgroup2', target, 'cgroup2', flags, data);
    } catch (e) {
      if (!(e instanceof SyscallError && (e.code === 'EPERM' || e.code === 'EBUSY'))) throw e;
      bindWithFlags(path.join(HOST_CGROUP_ROOT, ownCgroups().get('') ?? '/'), target, flags);
    }
    return;
  }
  mount('tmpfs', target, 'tmpfs', flags & ~MS.RDONLY, 'mode=755');
  for (const h of v1Hierarchies()) {
    const dir = path.join(target, path.basename(h.mountPoint));
    fs.mkdirSync(dir);
    if (inCgroupNamespace) mount('cgroup', dir, 'cgroup', flags, h.controllers);
    else bindWithFlags(path.join(h.mountPoint, h.cgroupPath), dir, flags);
    // "cpu,cpuacct" is also reached as cpu and as cpuacct, as on the host.
    const name = path.basename(h.mountPoint);
    if (name.includes(',')) for (const part of name.split(',')) if (!fs.existsSync(path.join(target, part))) fs.symlinkSync(name, path.join(target, part));
  }
  if (flags & MS.RDONLY) setMountAttributes(target, MOUNT_ATTR.RDONLY, { recursive: false });
}
