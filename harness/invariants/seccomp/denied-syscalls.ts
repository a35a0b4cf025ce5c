// What an OCI seccomp policy promises for calls it denies with an errno, read from the policy
// document: unconditional SCMP_ACT_ERRNO rules (the kind harness/generators/seccomp-policy.ts makes).
import type { Profile } from '../../../policy/profile/types.js';
import { DENIABLE_SYSCALLS } from '../../generators/seccomp-policy.js';

/** EPERM: what SCMP_ACT_ERRNO returns when a rule gives no errnoRet (OCI config-linux.md, Seccomp). */
export const DEFAULT_ERRNO = 1;

export interface DeniedCall {
  name: string;
  errno: number;
}

interface RuleShape {
  names?: unknown;
  action?: unknown;
  errnoRet?: unknown;
  args?: unknown;
}

const HARMLESS: ReadonlySet<string> = new Set(DENIABLE_SYSCALLS);

/**
 * The calls the policy denies that the probe may make: only those harmless if the filter fails to
 * deny them. A real config's policy denies kexec_load, acct or vhangup too, which made for real
 * with zero arguments would change the host (generated policies deny nothing else anyway).
 */
export function deniedCalls(profile: Profile): DeniedCall[] {
  const policy = profile.seccomp?.policy as { syscalls?: RuleShape[] } | undefined;
  return (policy?.syscalls ?? [])
    .filter((r) => r.action === 'SCMP_ACT_ERRNO' && (r.args === undefined || (Array.isArray(r.args) && r.args.length === 0)))
    .flatMap((r) => (Array.isArray(r.names) ? r.names : []).map((name) => ({
      name: String(name), errno: typeof r.errnoRet === 'number' ? r.errnoRet : DEFAULT_ERRNO,
    })))
    .filter((c) => HARMLESS.has(c.name));
}
