// A mount's option list read the way runc and crun read a config.json's: each option sets or
// clears a mount(2) flag, changes propagation, sets or clears an attribute on the whole tree
// (the r* forms, mount_setattr(2) with AT_RECURSIVE), or, being none of these, is filesystem
// data handed to mount(2) as it is, so the filesystem itself accepts or refuses it.
import { MS, MOUNT_ATTR } from '../kernel/mount-flags.js';

interface FlagOption {
  flag: number;
  clear: boolean;
}

/** The mount(2) flag options; the later of two contradicting options wins, as in runc. */
const FLAG_OPTIONS: Readonly<Record<string, FlagOption>> = {
  defaults: { flag: 0, clear: false },
  ro: { flag: MS.RDONLY, clear: false }, rw: { flag: MS.RDONLY, clear: true },
  nosuid: { flag: MS.NOSUID, clear: false }, suid: { flag: MS.NOSUID, clear: true },
  nodev: { flag: MS.NODEV, clear: false }, dev: { flag: MS.NODEV, clear: true },
  noexec: { flag: MS.NOEXEC, clear: false }, exec: { flag: MS.NOEXEC, clear: true },
  sync: { flag: MS.SYNCHRONOUS, clear: false }, async: { flag: MS.SYNCHRONOUS, clear: true },
  dirsync: { flag: MS.DIRSYNC, clear: false },
  mand: { flag: MS.MANDLOCK, clear: false }, nomand: { flag: MS.MANDLOCK, clear: true },
  noatime: { flag: MS.NOATIME, clear: false }, atime: { flag: MS.NOATIME, clear: true },
  nodiratime: { flag: MS.NODIRATIME, clear: false }, diratime: { flag: MS.NODIRATIME, clear: true },
  relatime: { flag: MS.RELATIME, clear: false }, norelatime: { flag: MS.RELATIME, clear: true },
  strictatime: { flag: MS.STRICTATIME, clear: false }, nostrictatime: { flag: MS.STRICTATIME, clear: true },
  lazytime: { flag: MS.LAZYTIME, clear: false }, nolazytime: { flag: MS.LAZYTIME, clear: true },
  iversion: { flag: MS.I_VERSION, clear: false }, noiversion: { flag: MS.I_VERSION, clear: true },
  acl: { flag: MS.POSIXACL, clear: false }, noacl: { flag: MS.POSIXACL, clear: true },
  silent: { flag: MS.SILENT, clear: false }, loud: { flag: MS.SILENT, clear: true },
  nosymfollow: { flag: MS.NOSYMFOLLOW, clear: false },
  bind: { flag: MS.BIND, clear: false }, rbind: { flag: MS.BIND | MS.REC, clear: false },
};

const PROPAGATION_OPTIONS: Readonly<Record<string, number>> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};

interface AttrOption {
  set: number;
  clear: number;
}

const ATIME = MOUNT_ATTR._ATIME;
/**
 * The recursive forms. mount_setattr(2) changes the atime mode only as a whole (clearing every
 * atime bit and setting one mode), so each atime option names the mode it leaves: the negative
 * forms (ratime, rnorelatime, rnostrictatime) leave the kernel's default, relatime.
 */
const RECURSIVE_OPTIONS: Readonly<Record<string, AttrOption>> = {
  rro: { set: MOUNT_ATTR.RDONLY, clear: 0 }, rrw: { set: 0, clear: MOUNT_ATTR.RDONLY },
  rnosuid: { set: MOUNT_ATTR.NOSUID, clear: 0 }, rsuid: { set: 0, clear: MOUNT_ATTR.NOSUID },
  rnodev: { set: MOUNT_ATTR.NODEV, clear: 0 }, rdev: { set: 0, clear: MOUNT_ATTR.NODEV },
  rnoexec: { set: MOUNT_ATTR.NOEXEC, clear: 0 }, rexec: { set: 0, clear: MOUNT_ATTR.NOEXEC },
  rnodiratime: { set: MOUNT_ATTR.NODIRATIME, clear: 0 }, rdiratime: { set: 0, clear: MOUNT_ATTR.NODIRATIME },
  rnosymfollow: { set: MOUNT_ATTR.NOSYMFOLLOW, clear: 0 }, rsymfollow: { set: 0, clear: MOUNT_ATTR.NOSYMFOLLOW },
  rnoatime: { set: MOUNT_ATTR.NOATIME, clear: ATIME }, rstrictatime: { set: MOUNT_ATTR.STRICTATIME, clear: ATIME },
  rrelatime: { set: MOUNT_ATTR.RELATIME, clear: ATIME }, ratime: { set: MOUNT_ATTR.RELATIME, clear: ATIME },
  rnorelatime: { set: MOUNT_ATTR.RELATIME, clear: ATIME }, rnostrictatime: { set: MOUNT_ATTR.RELATIME, clear: ATIME },
};

/** Options runc or crun know that nsrig does not carry out, with the reason given to the user. */
export const REFUSED_MOUNT_OPTIONS: Readonly<Record<string, string>> = {
  remount: 'nsrig mounts each filesystem anew; a config has nothing to remount',
  tmpcopyup: 'nsrig does not copy the mount point\'s files into the new tmpfs (a runc extension)',
  idmap: 'nsrig makes no id-mapped mounts',
  ridmap: 'nsrig makes no id-mapped mounts',
};

/** The mount's options as the kernel calls need them. */
export interface MountOptionEffect {
  /** MS_* flags for mount(2): what was set, less what a later option cleared. */
  flags: number;
  /** MS_* propagation changes (with MS_REC for the r forms), applied in order after the mount. */
  propagation: number[];
  /** MOUNT_ATTR_* bits set and cleared on the mount and every mount below it. */
  recursive: { set: number; clear: number };
  /** Everything else, in order: the filesystem's own options (mode=, size=, newinstance, ...). */
  data: string[];
}

export type MountOptionKind = 'flag' | 'propagation' | 'recursive' | 'refused' | 'data';

export function mountOptionKind(option: string): MountOptionKind {
  if (Object.hasOwn(FLAG_OPTIONS, option)) return 'flag';
  if (Object.hasOwn(PROPAGATION_OPTIONS, option)) return 'propagation';
  if (Object.hasOwn(RECURSIVE_OPTIONS, option)) return 'recursive';
  if (Object.hasOwn(REFUSED_MOUNT_OPTIONS, option)) return 'refused';
  return 'data';
}

/** What an option list asks of the kernel. Refused options are left out: the reader reports them. */
export function mountOptionEffect(options: readonly string[]): MountOptionEffect {
  const effect: MountOptionEffect = { flags: 0, propagation: [], recursive: { set: 0, clear: 0 }, data: [] };
  for (const option of options) {
    switch (mountOptionKind(option)) {
      case 'flag': {
        const { flag, clear } = FLAG_OPTIONS[option]!;
        effect.flags = clear ? effect.flags & ~flag : effect.flags | flag;
        break;
      }
      case 'propagation':
        effect.propagation.push(PROPAGATION_OPTIONS[option]!);
        break;
      case 'recursive': {
        const { set, clear } = RECURSIVE_OPTIONS[option]!;
        // A later option undoes an earlier one's bits, as for the plain flags.
        effect.recursive.set = (effect.recursive.set & ~clear & ~set) | set;
        effect.recursive.clear = (effect.recursive.clear & ~set) | clear;
        break;
      }
      case 'data':
        effect.data.push(option);
        break;
      case 'refused':
        break;
    }
  }
  return effect;
}

/** The value of the last `name=value` data option, as the filesystem would read it. */
export function dataOption(options: readonly string[], name: string): string | undefined {
  const prefix = `${name}=`;
  return options.filter((o) => o.startsWith(prefix)).at(-1)?.slice(prefix.length);
}

export const PROPAGATION_OPTION_NAMES: readonly string[] = Object.keys(PROPAGATION_OPTIONS);
