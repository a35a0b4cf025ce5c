// The seccomp policy API: load and validate OCI / Docker profiles, resolve them for a container,
// compile them to BPF, inspect the result, compare traces and generate least-privilege profiles.
export { loadPolicyFile, formatPolicy } from './load.js';
export { parsePolicy } from './validate.js';
export { PolicyError } from './policy-error.js';
export { resolvePolicy } from './resolve.js';
export type { ResolvedPolicy, ResolvedRule, ResolvedCondition } from './resolve.js';
export { compilePolicy, compileResolved, CompileError } from './compile.js';
export type { CompileResult } from './compile.js';
export { disassemble } from './disassemble.js';
export { evaluate, seccompData, EvaluateError } from './evaluate.js';
export type { SeccompInput, EvaluateResult } from './evaluate.js';
export { decide, findOverlaps } from './semantics.js';
export type { Decision, RuleOverlap } from './semantics.js';
export { describeAction, actionFromRet, SECCOMP_RET } from './actions.js';
export type { Action, ActionKind } from './actions.js';
export {
  syscallNumber, syscallName, syscallTable, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, X32_SYSCALL_BIT,
} from '../kernel/syscall-table.js';
export type { Abi } from '../kernel/syscall-table.js';
export { checkTrace } from './trace-check.js';
export type { SyscallCount, TraceViolation } from './trace-check.js';
export { generatePolicy, RUNTIME_AFTER_FILTER } from './generate.js';
export { callsPolicyMayRefuse, withViolatingCalls } from './violating-calls.js';
export type { CallToRecord, RecordedCall, RefusalRules, ViolatingCall, ViolationWithCalls } from './violating-calls.js';
export type { GenerateOptions } from './generate.js';
export { ACTION_NAMES, OPERATOR_NAMES, ARCH_NAMES, FILTER_FLAGS } from './types.js';
export type * from './types.js';
