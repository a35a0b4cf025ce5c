// The capability sets a program holds after execve, derived from the sets declared for the
// process before it, so invariants compare the kernel's result against the kernel's rule.
import { CAPABILITY_NAMES, capabilityMask } from '../../../policy/kernel/capabilities.js';
import type { Capabilities, ProcessConfig } from '../../../policy/profile/types.js';

export interface CapabilityMasks {
  bounding: bigint;
  permitted: bigint;
  effective: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export const MASK_ORDER = ['bounding', 'permitted', 'effective', 'inheritable', 'ambient'] as const;

/**
 * capabilities(7), "Transformation of capabilities during execve()", for a program file with no
 * file capabilities and no set-user-ID bit (the probe's Node binary, the usual container program):
 *   P'(ambient)   = P(ambient)
 *   P'(permitted) = (P(inheritable) & F(inheritable)) | (F(permitted) & P(bounding)) | P'(ambient)
 *   P'(effective) = F(effective) ? P'(permitted) : P'(ambient)
 * For uid 0 of the process's user namespace ("Capabilities and execution of programs by root")
 * F(inheritable) and F(permitted) count as all ones and F(effective) as set, so
 *   P'(permitted) = P(bounding) | P(inheritable) | P(ambient) = P'(effective).
 * With no_new_privs the kernel grants nothing beyond the permitted set held before execve
 * (cap_bprm_creds_from_file), so root's permitted set is then cut back to the declared one.
 * The bounding and inheritable sets pass through unchanged.
 */
export function setsAfterExecve(process: Pick<ProcessConfig, 'uid' | 'capabilities' | 'noNewPrivileges'>): CapabilityMasks {
  const declared = declaredMasks(process.capabilities);
  const { bounding, inheritable, ambient } = declared;
  if (process.uid !== 0) return { bounding, inheritable, ambient, permitted: ambient, effective: ambient };
  let permitted = bounding | inheritable | ambient;
  if (process.noNewPrivileges) permitted &= declared.permitted;
  return { bounding, inheritable, ambient, permitted, effective: permitted };
}

export function declaredMasks(caps: Capabilities): CapabilityMasks {
  return {
    bounding: capabilityMask(caps.bounding),
    permitted: capabilityMask(caps.permitted),
    effective: capabilityMask(caps.effective),
    inheritable: capabilityMask(caps.inheritable),
    ambient: capabilityMask(caps.ambient),
  };
}

/** The hex masks of /proc/self/status (CapBnd, CapPrm, ...) as numbers. */
export function observedMasks(caps: Record<(typeof MASK_ORDER)[number], string>): CapabilityMasks {
  const parse = (hex: string) => BigInt(`0x${hex || '0'}`);
  return {
    bounding: parse(caps.bounding), permitted: parse(caps.permitted), effective: parse(caps.effective),
    inheritable: parse(caps.inheritable), ambient: parse(caps.ambient),
  };
}

/** Names for a report: "CAP_CHOWN,CAP_KILL", unknown bits as "cap40". */
export function maskNames(mask: bigint): string {
  const names: string[] = [];
  for (let n = 0; n < 64; n++) if ((mask >> BigInt(n)) & 1n) names.push(CAPABILITY_NAMES[n] ?? `cap${n}`);
  return names.join(',') || '∅';
}

export function hasCapability(mask: bigint, name: string): boolean {
  return (mask & capabilityMask([name])) !== 0n;
}
