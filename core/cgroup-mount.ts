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
import { readCgroupLayout, readProcessCgroups, type CgroupLayout } from './cgroup-layout.js';

const HOST_CGROUP_ROOT = '/sys/fs/cgroup';

interface Hierarchy {
  mountPoint: string;
  /** The hierarchy's own mount options: its controllers, or name=... */
  controllers: string;
  /** The directory of this process's cgroup, relative to the hierarchy's root. */
  cgroupPath: string;
}

function v1Hierarchies(layout: CgroupLayout): Hierarchy[] {
  const own = readProcessCgroups();
  return layout.v1Hierarchies.filter((h) => path.dirname(h.mountPoint) === HOST_CGROUP_ROOT).flatMap((h) => {
    const cgroupPath = own.ofHierarchy(h);
    const controllers = [...h.controllers, ...(h.name !== undefined ? [`name=${h.name}`] : [])].join(',');
    return cgroupPath === undefined ? [] : [{ mountPoint: h.mountPoint, controllers, cgroupPath }];
  });
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
  const layout = readCgroupLayout();
  if (planned.mount.type === 'cgroup2' || layout.unifiedMount === HOST_CGROUP_ROOT) {
    try {
      mount('cgroup2', target, 'cgroup2', flags, data);
    } catch (e) {
      if (!(e instanceof SyscallError && (e.code === 'EPERM' || e.code === 'EBUSY'))) throw e;
      bindWithFlags(path.join(HOST_CGROUP_ROOT, readProcessCgroups().unified ?? '/'), target, flags);
    }
    return;
  }
  mount('tmpfs', target, 'tmpfs', flags & ~MS.RDONLY, 'mode=755');
  for (const h of v1Hierarchies(layout)) {
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
