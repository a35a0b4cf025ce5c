// mount(2), umount2(2) and the new mount API's flags (include/uapi/linux/mount.h, fcntl.h).
export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, REMOUNT: 32, BIND: 4096, MOVE: 8192, REC: 16384,
  SILENT: 32768, UNBINDABLE: 1 << 17, PRIVATE: 1 << 18, SLAVE: 1 << 19, SHARED: 1 << 20,
} as const;

export const MNT_DETACH = 2;

/** mount_setattr(2)'s attr_set/attr_clr bits. */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8 } as const;

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
