// Resource limit names as profiles write them; the numbers are the kernel's (policy/kernel/rlimits.ts).
import { withPrefix } from './field-reader.js';
import { RLIMIT_NUMBERS } from '../kernel/rlimits.js';

/** The kernel's table (policy/kernel/rlimits.ts), as profiles name the limits. */
export { RLIMIT_NUMBERS };

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
