import fc from 'fast-check';
import fs from 'node:fs';
import { CAPABILITY_NAMES } from '../../policy/kernel/capabilities.js';

/** Capabilities a generated container may keep; none of them lets it reach the host. */
const POOL = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP'];

/**
 * The five sets, coherent as runtimes configure them: effective = permitted ⊆ bounding,
 * ambient ⊆ permitted ∩ inheritable.
 */
export const capabilitySets = fc.subarray(POOL).chain((bounding) =>
  fc.subarray(bounding).chain((permitted) =>
    fc.subarray(permitted).chain((inheritable) =>
      fc.subarray(inheritable).map((ambient) => ({ bounding, effective: permitted, permitted, inheritable, ambient })))));

type CapabilitySets = { bounding: string[]; effective: string[]; permitted: string[]; inheritable: string[]; ambient: string[] };

/** Exactly these capabilities bounding, effective and permitted; none inheritable or ambient. */
export function fixedCapabilities(caps: string[]): CapabilitySets {
  return { bounding: [...caps], effective: [...caps], permitted: [...caps], inheritable: [], ambient: [] };
}

/** The same sets with `caps` added to bounding, effective and permitted. */
export function withCapabilities(sets: CapabilitySets, caps: string[]): CapabilitySets {
  const add = (set: string[]) => [...new Set([...set, ...caps])];
  return { ...sets, bounding: add(sets.bounding), effective: add(sets.effective), permitted: add(sets.permitted) };
}

/** Every capability this kernel has (up to /proc/sys/kernel/cap_last_cap): a runtime refuses one it does not know. */
export function kernelCapabilities(): string[] {
  let last = CAPABILITY_NAMES.length - 1;
  try {
    last = Math.min(last, Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()));
  } catch {
    // no /proc here: the whole table
  }
  return CAPABILITY_NAMES.slice(0, last + 1);
}
