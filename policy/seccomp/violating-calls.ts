// Which recorded calls (pid and argument registers, as the eBPF tracer samples them) a policy
// would refuse. checkTrace judges names over every argument value; with the arguments at hand a
// conditional call is judged by running the compiled filter on them, as the kernel would.
import { evaluate } from './evaluate.js';
import { compilePolicy } from './compile.js';
import { checkTrace, letsThrough, type TraceViolation } from './trace-check.js';
import { resolvePolicy, type ResolvedCondition, type ResolvedPolicy } from './resolve.js';
import { rulesFor } from './semantics.js';
import { syscallNumber, syscallTable } from '../kernel/syscall-table.js';
import type { PolicyContext, SeccompPolicy } from './types.js';

export interface RecordedCall {
  name: string;
  pid: number;
  /** The six argument registers at entry. */
  args: readonly bigint[];
}

export interface ViolatingCall {
  pid: number;
  /** The six argument registers, as unsigned 64-bit decimal numbers (JSON has no 64-bit integers). */
  args: string[];
}

export type ViolationWithCalls = TraceViolation & { calls?: ViolatingCall[] };

/**
 * When a call of one name is refused, judged from its six argument registers (x86_64, 64 bits
 * each) as the policy's rules would judge them: the first rule whose conditions all hold decides;
 * when none holds, `otherwise` does.
 */
export interface RefusalRules {
  rules: { conditions: ResolvedCondition[]; refuses: boolean }[];
  otherwise: boolean;
}

/** A call worth recording during a trace. */
export interface CallToRecord {
  name: string;
  /** Absent when every call of the name is refused; else which of its calls are. */
  refusedWhen?: RefusalRules;
}

/**
 * The x86_64 calls `policy` may refuse, each with the rules that tell its refused calls from the
 * others, so a tracer can record the refused ones only: a conditional call (socket for one address
 * family) is often made many times with arguments the policy lets through before the one it refuses.
 */
export function callsPolicyMayRefuse(policy: SeccompPolicy, ctx: PolicyContext): CallToRecord[] {
  const resolved = resolvePolicy(policy, ctx);
  const every = [...syscallTable('x86_64').byName.keys()].map((name) => ({ name, count: 1 }));
  return checkTrace(resolved, every, ctx)
    .map((v) => (v.reason === 'denied' ? { name: v.name } : { name: v.name, refusedWhen: refusalRules(resolved, v.name) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function refusalRules(policy: ResolvedPolicy, name: string): RefusalRules {
  const rules: RefusalRules['rules'] = [];
  for (const rule of rulesFor(policy, name)) {
    rules.push({ conditions: rule.conditions, refuses: !letsThrough(rule.action) });
    // An unconditional rule decides every call that reaches it, as in possibleActions.
    if (rule.conditions.length === 0) break;
  }
  return { rules, otherwise: !letsThrough(policy.defaultAction) };
}

/**
 * `violations` with, for each, the recorded calls of that name the policy refuses (all of them
 * for a denied call; for a conditional one, those whose arguments the compiled filter refuses).
 */
export function withViolatingCalls(violations: readonly TraceViolation[], recorded: readonly RecordedCall[], policy: SeccompPolicy, ctx: PolicyContext): ViolationWithCalls[] {
  const program = violations.some((v) => v.reason === 'conditional') ? compilePolicy(policy, ctx).program : undefined;
  return violations.map((v) => {
    const nr = syscallNumber(v.name, 'x86_64');
    const calls = recorded.filter((c) => c.name === v.name).filter((c) => {
      if (v.reason === 'denied' || program === undefined || nr === undefined) return true;
      const kind = evaluate(program, { nr, args: c.args }).action.kind;
      return kind !== 'ALLOW' && kind !== 'LOG';
    });
    return calls.length === 0 ? { ...v } : { ...v, calls: calls.map((c) => ({ pid: c.pid, args: c.args.map((a) => BigInt.asUintN(64, a).toString()) })) };
  });
}
