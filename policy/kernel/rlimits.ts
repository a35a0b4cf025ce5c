// Resource limits by name and number (include/uapi/asm-generic/resource.h, which x86_64 and
// arm64 use unchanged).
export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

/** The kernel's "no limit" (2^64-1), as prlimit(2) takes it. */
export const RLIM_INFINITY = 0xffffffffffffffffn;
