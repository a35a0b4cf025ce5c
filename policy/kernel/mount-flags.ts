// mount(2), umount2(2) and the new mount API's flags (include/uapi/linux/mount.h, fcntl.h).
export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, MANDLOCK: 64, DIRSYNC: 128, NOSYMFOLLOW: 256,
  NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, MOVE: 8192, REC: 16384, SILENT: 32768, POSIXACL: 1 << 16,
  UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20, RELATIME: 1 << 21, I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24, LAZYTIME: 1 << 25,
} as const;

export const MNT_DETACH = 2;

/** mount_setattr(2)'s attr_set/attr_clr bits; the atime mode is a 3-bit field (_ATIME), not flags. */
export const MOUNT_ATTR = {
  RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8, _ATIME: 0x70, RELATIME: 0, NOATIME: 0x10, STRICTATIME: 0x20,
  NODIRATIME: 0x80, NOSYMFOLLOW: 0x200000,
} as const;

export const AT_FDCWD = -100;
export const AT_EMPTY_PATH = 0x1000;
export const AT_RECURSIVE = 0x8000;
export const OPEN_TREE_CLONE = 1;
export const OPEN_TREE_CLOEXEC = 0o2000000;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x4;

export type Propagation = 'private' | 'slave' | 'shared' | 'unbindable';
export const PROPAGATION_FLAGS: Readonly<Record<Propagation, number>> = {
  private: MS.PRIVATE, slave: MS.SLAVE, shared: MS.SHARED, unbindable: MS.UNBINDABLE,
};

function namesOf(table: Readonly<Record<string, number>>, prefix: string, bits: number): string[] {
  return Object.entries(table).filter(([, bit]) => (bits & bit) !== 0).map(([name]) => `${prefix}${name}`);
}

/** The MS_* names set in flags, for people. */
export function mountFlagNames(flags: number): string[] {
  return namesOf(MS, 'MS_', flags);
}

/** The MOUNT_ATTR_* names set in attr, for people. */
export function mountAttrNames(attr: number): string[] {
  return namesOf(MOUNT_ATTR, 'MOUNT_ATTR_', attr);
}
