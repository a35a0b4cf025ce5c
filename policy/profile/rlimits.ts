// Resource limits by name and number (include/uapi/asm-generic/resource.h, which x86_64 and
// arm64 use unchanged).
import { withPrefix } from './field-reader.js';

export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

export const RLIMIT_NAMES: readonly string[] = Object.keys(RLIMIT_NUMBERS);

/**
 * RLIM_INFINITY (2^64-1) cannot be a JavaScript number exactly, so a profile holds Infinity and
 * the engine and the OCI writer turn it into the kernel's and the spec's value.
 */
export const UNLIMITED = Infinity;

/** The largest finite limit a profile can state exactly. */
export const LARGEST_FINITE_RLIMIT = Number.MAX_SAFE_INTEGER;

/** "nofile", "RLIMIT_NOFILE" and "rlimit_nofile" all mean RLIMIT_NOFILE. */
export function normaliseRlimitName(name: string): string | undefined {
  const full = withPrefix(name, 'RLIMIT_');
  return Object.hasOwn(RLIMIT_NUMBERS, full) ? full : undefined;
}
