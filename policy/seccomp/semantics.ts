// What a resolved policy means, stated directly and without BPF: the compiler must agree with this,
// and the tests hold the kernel, evaluate() and this to the same answer.
//
// One system call with its arguments gets:
//   - the action of the matching rule whose action is strictest, when rules naming it match
//     (strictest in the kernel's order: KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE,
//     LOG, ALLOW); among equally strict rules the first in the profile wins;
//   - the default action otherwise.
// Strictest-wins makes the answer independent of rule order, so an allow rule can never undo a
// deny rule that matches the same call. libseccomp (under runc and crun) differs only where rules
// with different actions overlap on one call: it keeps the first unconditional rule it was given and
// drops later ones for that call. Docker's profile has no such overlap; Podman's has one (setns is
// in its allow-all list and in an EPERM rule for containers without CAP_SYS_ADMIN): nsrig refuses it
// there. compilePolicy() reports every such overlap so a person can see it.
import { actionRank, describeAction, type Action } from './actions.js';
import type { ResolvedCondition, ResolvedPolicy, ResolvedRule } from './resolve.js';

const U64 = (1n << 64n) - 1n;
const U32 = (1n << 32n) - 1n;

/** Arguments as the kernel hands them to a filter: unsigned 64-bit. */
export function normalizeArgs(args: readonly (number | bigint)[] | undefined): bigint[] {
  const out: bigint[] = [];
  for (let i = 0; i < 6; i++) out.push(BigInt.asUintN(64, BigInt(args?.[i] ?? 0)));
  return out;
}

/**
 * Whether one condition holds. `width` 32 compares only the low 32 bits, as filters for 32-bit
 * ABIs (i386) do: the kernel zero-extends their registers.
 */
export function conditionHolds(c: ResolvedCondition, args: readonly bigint[], width: 64 | 32 = 64): boolean {
  const mask = width === 64 ? U64 : U32;
  const arg = (args[c.index] ?? 0n) & mask;
  const value = c.value & mask;
  switch (c.op) {
    case 'SCMP_CMP_NE': return arg !== value;
    case 'SCMP_CMP_LT': return arg < value;
    case 'SCMP_CMP_LE': return arg <= value;
    case 'SCMP_CMP_EQ': return arg === value;
    case 'SCMP_CMP_GE': return arg >= value;
    case 'SCMP_CMP_GT': return arg > value;
    case 'SCMP_CMP_MASKED_EQ': return (arg & value) === (c.valueTwo & mask);
  }
}

export interface Decision {
  action: Action;
  /** The rule that decided, or undefined when the default action applied. */
  rule: ResolvedRule | undefined;
}

/** Rules that name `name`, strictest action first, profile order among equals. */
export function rulesFor(policy: ResolvedPolicy, name: string): ResolvedRule[] {
  return policy.rules
    .filter((r) => r.names.includes(name))
    .map((rule, order) => ({ rule, order }))
    .sort((a, b) => actionRank(a.rule.action) - actionRank(b.rule.action) || a.order - b.order)
    .map((x) => x.rule);
}

/** The action `policy` takes for system call `name` called with `args`. */
export function decide(policy: ResolvedPolicy, name: string, args?: readonly (number | bigint)[], width: 64 | 32 = 64): Decision {
  const values = normalizeArgs(args);
  for (const rule of rulesFor(policy, name)) {
    if (rule.conditions.every((c) => conditionHolds(c, values, width))) return { action: rule.action, rule };
  }
  return { action: policy.defaultAction, rule: undefined };
}

export interface RuleOverlap {
  name: string;
  /** The different actions rules give this call, strictest first ("ERRNO(EPERM)", "ALLOW"). */
  actions: string[];
  /** The profile's syscalls[] indexes of those rules. */
  sources: number[];
}

/**
 * Calls that rules with different actions both name. Where their conditions overlap, the strictest
 * decides; disjoint conditions (Podman's socket rules) are listed too, as this does not solve them.
 */
export function findOverlaps(policy: ResolvedPolicy): RuleOverlap[] {
  const names = new Set(policy.rules.flatMap((r) => r.names));
  const out: RuleOverlap[] = [];
  for (const name of [...names].sort()) {
    const rules = rulesFor(policy, name);
    const rets = new Set(rules.map((r) => r.action.ret));
    if (rets.size < 2) continue;
    const actions = [...new Map(rules.map((r) => [r.action.ret, describeAction(r.action)])).values()];
    out.push({ name, actions, sources: [...new Set(rules.map((r) => r.source))] });
  }
  return out;
}
