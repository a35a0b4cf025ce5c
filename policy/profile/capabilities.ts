// Linux capabilities by name and number, as include/uapi/linux/capability.h numbers them.
import { withPrefix } from './field-reader.js';
import { CAPABILITY_NAMES } from '../kernel/capabilities.js';

/** In number order: the kernel's table (policy/kernel/capabilities.ts), as profiles name capabilities. */
export { CAPABILITY_NAMES };

/** Every capability this kernel generation defines, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40). */
export const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = Object.fromEntries(CAPABILITY_NAMES.map((name, n) => [name, n]));

export const LAST_CAPABILITY = CAPABILITY_NAMES.length - 1;

/** "chown", "CAP_CHOWN" and "Cap_Chown" all mean CAP_CHOWN; undefined for a name the kernel lacks. */
export function normaliseCapabilityName(name: string): string | undefined {
  const full = withPrefix(name, 'CAP_');
  return Object.hasOwn(CAPABILITY_NUMBERS, full) ? full : undefined;
}

/** The number of a normalised name, e.g. capabilityNumber("CAP_SYS_ADMIN") === 21. */
export function capabilityNumber(name: string): number {
  const number = CAPABILITY_NUMBERS[name];
  if (number === undefined) throw new RangeError(`unknown capability ${name}`);
  return number;
}
