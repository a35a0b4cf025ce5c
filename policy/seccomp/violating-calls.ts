// Which recorded calls (pid and argument registers, as the eBPF tracer samples them) a policy
// would refuse. checkTrace judges names over every argument value; with the arguments at hand a
// conditional call is judged by running the compiled filter on them, as the kernel would.
import { evaluate } from './evaluate.js';
import { compilePolicy } from './compile.js';
import { checkTrace, type TraceViolation } from './trace-check.js';
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

/** x86_64 names `policy` may refuse for some arguments: the calls worth recording during a trace. */
export function callsPolicyMayRefuse(policy: SeccompPolicy, ctx: PolicyContext): string[] {
  const every = [...syscallTable('x86_64').byName.keys()].map((name) => ({ name, count: 1 }));
  return checkTrace(policy, every, ctx).map((v) => v.name).sort();
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
