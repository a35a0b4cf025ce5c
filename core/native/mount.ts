// Mount syscalls: the classic mount(2) family and the new mount API (open_tree, move_mount,
// mount_setattr), which lets us clone a tree detached, lock it read-only, then attach it.
import { raw, check, lastErrno } from './libc.js';
import { SyscallError } from './syscall-error.js';
import {
  MS, MNT_DETACH, AT_FDCWD, AT_EMPTY_PATH, AT_RECURSIVE, OPEN_TREE_CLONE, OPEN_TREE_CLOEXEC, MOVE_MOUNT_F_EMPTY_PATH, PROPAGATION_FLAGS,
  type Propagation,
} from '../../policy/kernel/mount-flags.js';
import { NR } from '../../policy/kernel/syscall-table.js';


export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  const rc = raw.mount(source, target, fstype, flags, data) as number;
  if (rc === -1) throw new SyscallError('mount', lastErrno(), describeMount(source, target, fstype, flags));
}

function describeMount(source: string | null, target: string, fstype: string | null, flags: number): string {
  const what = flags & MS.BIND ? `bind ${source}` : fstype ?? (flags & (MS.PRIVATE | MS.SLAVE | MS.SHARED) ? 'propagation' : 'remount');
  return `${what} on ${target}`;
}

export function unmount(target: string, flags: number): void {
  check(raw.umount2(target, flags) as number, 'umount2', target);
}

export function unmountDetached(target: string): void {
  unmount(target, MNT_DETACH);
}

export function setPropagation(target: string, propagation: Propagation, recursive: boolean): void {
  mount(null, target, null, PROPAGATION_FLAGS[propagation] | (recursive ? MS.REC : 0));
}

/** A detached copy of the mount tree at path, as a file descriptor (close-on-exec). */
export function cloneMountTree(path: string, recursive: boolean): number {
  const flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  const fd = Number(raw.openTreeSyscall(NR.open_tree, AT_FDCWD, path, flags));
  if (fd === -1) throw new SyscallError('open_tree', lastErrno(), path);
  return fd;
}

/**
 * Sets mount attributes (MOUNT_ATTR_*), clears those in `clear`, and optionally sets propagation,
 * on a tree fd or a path.
 */
export function setMountAttributes(target: number | string, attrSet: number,
  options: { recursive: boolean; propagation?: Propagation; clear?: number }): void {
  // struct mount_attr { u64 attr_set; u64 attr_clr; u64 propagation; u64 userns_fd; }
  const attr = Buffer.alloc(32);
  attr.writeBigUInt64LE(BigInt(attrSet), 0);
  attr.writeBigUInt64LE(BigInt(options.clear ?? 0), 8);
  if (options.propagation) attr.writeBigUInt64LE(BigInt(PROPAGATION_FLAGS[options.propagation]), 16);
  const flags = (options.recursive ? AT_RECURSIVE : 0) | (typeof target === 'number' ? AT_EMPTY_PATH : 0);
  const rc = Number(typeof target === 'number'
    ? raw.mountSetattrSyscall(NR.mount_setattr, target, '', flags, attr, 32)
    : raw.mountSetattrSyscall(NR.mount_setattr, AT_FDCWD, target, flags, attr, 32));
  if (rc === -1) throw new SyscallError('mount_setattr', lastErrno(), typeof target === 'number' ? `tree fd ${target}` : target);
}

/** Attaches a detached tree (from cloneMountTree) at target. */
export function attachMountTree(treeFd: number, target: string): void {
  const rc = Number(raw.moveMountSyscall(NR.move_mount, treeFd, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH));
  if (rc === -1) throw new SyscallError('move_mount', lastErrno(), target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  const rc = Number(raw.pivotRootSyscall(NR.pivot_root, newRoot, putOld));
  if (rc === -1) throw new SyscallError('pivot_root', lastErrno(), newRoot);
}

export function chdir(path: string): void {
  check(raw.chdir(path) as number, 'chdir', path);
}

/** S_IFCHR, S_IFBLK and S_IFIFO, the node types a config may ask for (sys/stat.h). */
export const NODE_TYPE = { c: 0o020000, u: 0o020000, b: 0o060000, p: 0o010000 } as const;

/** mknod(2) of a device node or FIFO; the glibc makedev() encoding of major and minor. */
export function makeNode(path: string, type: keyof typeof NODE_TYPE, mode: number, major: number, minor: number): void {
  const dev = ((BigInt(major) & 0xfffff000n) << 32n) | ((BigInt(major) & 0xfffn) << 8n)
    | ((BigInt(minor) & 0xffffff00n) << 12n) | (BigInt(minor) & 0xffn);
  check(raw.mknod(path, NODE_TYPE[type] | (mode & 0o7777), type === 'p' ? 0n : dev) as number, 'mknod', path);
}
