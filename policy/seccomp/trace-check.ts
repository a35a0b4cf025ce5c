// Compares a trace (which system calls a program made, how often) with a policy: which of them the
// policy would not let through.
//
// A trace of names carries no arguments, so a call is judged over all argument values:
//   - allowed:      every possible outcome is ALLOW or LOG (for instance an unconditional allow
//                   rule, or an allowing default that no stricter rule can override);
//   - denied:       no argument values let it through (every outcome is ERRNO, KILL, TRAP, TRACE or
//                   NOTIFY; a supervisor or tracer might still let a NOTIFY or TRACE call run, but the
//                   policy itself does not);
//   - conditional:  it is let through only for some argument values (clone under Docker's profile
//                   without CAP_SYS_ADMIN, socket for some address families).
// Only "allowed" calls are fine; the other two are reported, with the reason, so a caller that knows
// the arguments were benign can set conditional ones aside.
import { describeAction, type Action } from './actions.js';
import { resolvePolicy, type ResolvedPolicy } from './resolve.js';
import { rulesFor } from './semantics.js';
import { syscallNumber } from '../kernel/syscall-table.js';
import type { PolicyContext, SeccompPolicy } from './types.js';

export interface SyscallCount {
  name: string;
  count: number;
}

export interface TraceViolation {
  name: string;
  count: number;
  reason: 'denied' | 'conditional';
  /** What happens when it is refused: the strictest refusing outcome, e.g. "ERRNO(EPERM)". */
  outcome: string;
  /** False when x86_64 has no system call of that name (a trace from another ABI, or a typo). */
  known: boolean;
}

/** Whether `action` lets the call run (ALLOW, LOG); every other action refuses it. */
export function letsThrough(action: Action): boolean {
  return action.kind === 'ALLOW' || action.kind === 'LOG';
}

/** Every action `name` can end in under `policy`, over all argument values. */
export function possibleActions(policy: ResolvedPolicy, name: string): Action[] {
  const out: Action[] = [];
  for (const rule of rulesFor(policy, name)) {
    out.push(rule.action);
    // An unconditional rule decides every call that reached it: nothing after it, default included.
    if (rule.conditions.length === 0) return out;
  }
  out.push(policy.defaultAction);
  return out;
}

/**
 * The traced calls `policy` would not let through unconditionally, in the order of `counts`
 * (repeated names are added together; names counted zero times are not calls). `policy` may be a profile (then resolved with `ctx`) or an
 * already resolved policy.
 */
export function checkTrace(policy: SeccompPolicy | ResolvedPolicy, counts: readonly SyscallCount[], ctx: PolicyContext): TraceViolation[] {
  const resolved = 'rules' in policy ? policy : resolvePolicy(policy, ctx);
  const totals = new Map<string, number>();
  for (const { name, count } of counts) totals.set(name, (totals.get(name) ?? 0) + count);
  const violations: TraceViolation[] = [];
  for (const [name, count] of totals) {
    if (count <= 0) continue; // listed but never made: nothing to refuse
    const outcomes = possibleActions(resolved, name);
    const refusing = outcomes.filter((a) => !letsThrough(a));
    if (refusing.length === 0) continue;
    violations.push({
      name,
      count,
      reason: refusing.length === outcomes.length ? 'denied' : 'conditional',
      outcome: describeAction(refusing[0]!),
      known: syscallNumber(name) !== undefined,
    });
  }
  return violations;
}
