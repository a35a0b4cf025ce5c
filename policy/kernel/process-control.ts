// prctl(2), open(2) and fcntl(2) constants (include/uapi/linux/prctl.h, asm-generic/fcntl.h).
export const PR = {
  SET_PDEATHSIG: 1,
  SET_DUMPABLE: 4,
  SET_KEEPCAPS: 8,
  CAPBSET_READ: 23,
  CAPBSET_DROP: 24,
  SET_CHILD_SUBREAPER: 36,
  SET_SECUREBITS: 28,
  SET_NO_NEW_PRIVS: 38,
  GET_NO_NEW_PRIVS: 39,
  CAP_AMBIENT: 47,
  CAP_AMBIENT_RAISE: 2,
  CAP_AMBIENT_CLEAR_ALL: 4,
} as const;

export const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, NOCTTY: 0o400, TRUNC: 0o1000,
  NONBLOCK: 0o4000, DIRECTORY: 0o200000, NOFOLLOW: 0o400000, CLOEXEC: 0o2000000, PATH: 0o10000000 } as const;

export const F = { GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, DUPFD_CLOEXEC: 1030, FD_CLOEXEC: 1, ADD_SEALS: 1033, GET_SEALS: 1034 } as const;

/** memfd_create(2) flags and the seals of fcntl(2) F_ADD_SEALS. */
export const MFD = { CLOEXEC: 0x1, ALLOW_SEALING: 0x2, EXEC: 0x10 } as const;
export const F_SEAL = { SEAL: 0x1, SHRINK: 0x2, GROW: 0x4, WRITE: 0x8 } as const;

/** close_range(2)'s flag that marks instead of closing. */
export const CLOSE_RANGE_CLOEXEC = 4;

/** personality(2)'s execution domains (include/uapi/linux/personality.h) by the profile's names. */
export const PERSONALITY = { linux: 0x0000, linux32: 0x0008 } as const;

/** ioctl_ns(2): the CLONE_NEW* type of the namespace an nsfs descriptor refers to. */
export const NS_GET_NSTYPE = 0xb703;
/** ioctl_ns(2): a descriptor of the user namespace that owns a namespace. */
export const NS_GET_USERNS = 0xb701;

/** waitid(2)/waitpid(2) options (include/uapi/linux/wait.h). */
export const WAIT = {
  WNOHANG: 0x1,
  WSTOPPED: 0x2,
  WEXITED: 0x4,
  WNOWAIT: 0x01000000,
  /** Wait only for children and tracees of the calling thread, not of its whole thread group. */
  WNOTHREAD: 0x20000000,
  /** Wait for clone children (threads) too. */
  WALL: 0x40000000,
} as const;

/** waitid(2)'s idtype for a pidfd (Linux 5.4). */
export const P_PIDFD = 3;

/** siginfo's si_code of a child that exited rather than was killed. */
export const CLD_EXITED = 1;
