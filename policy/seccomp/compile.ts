// Compiles a seccomp profile into a classic-BPF program (struct sock_filter[]) for an x86_64 kernel.
//
// Shape of the program:
//   ld arch; x86_64 -> X64; i386 -> I386 (when listed); anything else -> KILL_PROCESS
//   X64:  ld nr; nr >= 0x40000000 -> X32 (when listed) else KILL_PROCESS; then dispatch
//   X32, I386: ld nr; dispatch
// Dispatch is a balanced binary search (jge) over runs of system call numbers that share one
// outcome, so a 400-name allow-list costs about nine comparisons. Each distinct outcome that depends
// on arguments becomes one block of rule checks, shared by every call with the same rules; each
// rule compares 64-bit arguments as two 32-bit halves (high half first). The meaning of a policy is
// stated in semantics.ts; this file only encodes it.
import { makeAction, type Action } from './actions.js';
import { Assembler, BPF_MAXINSNS, encode, OP, SECCOMP_DATA, type Label } from './bpf.js';
import { resolvePolicy, type ResolvedCondition, type ResolvedPolicy, type ResolvedRule } from './resolve.js';
import { findOverlaps, rulesFor, type RuleOverlap } from './semantics.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, syscallTable, X32_SYSCALL_BIT, type Abi } from '../kernel/syscall-table.js';
import type { ArchName, PolicyContext, SeccompPolicy } from './types.js';

export interface CompileResult {
  /** struct sock_filter[]: 8 bytes each (u16 code, u8 jt, u8 jf, u32 k), little-endian. */
  program: Buffer;
  instructions: number;
  /** Names the profile uses that x86_64 lacks (skipped, as libseccomp skips them), sorted. */
  skippedNames: string[];
  /** The same for every ABI compiled in. */
  skippedByAbi: Partial<Record<Abi, string[]>>;
  /** The ABIs the program has a section for; other listed architectures cannot occur on x86_64. */
  abis: Abi[];
  architectures: ArchName[];
  /** seccomp(2) flags the profile asks for. */
  flags: number;
  /** Calls that rules with different actions both name; where they overlap the strictest applies. */
  overlaps: RuleOverlap[];
}

export class CompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CompileError';
  }
}

const KILL_PROCESS = makeAction('KILL_PROCESS');
const U32 = 0xffffffffn;

/** The ABI a libseccomp architecture token stands for, when an x86_64 kernel can run it. */
function abiOfArch(arch: ArchName): Abi | undefined {
  if (arch === 'SCMP_ARCH_X86_64') return 'x86_64';
  if (arch === 'SCMP_ARCH_X32') return 'x32';
  if (arch === 'SCMP_ARCH_X86') return 'i386';
  return undefined;
}

export function compilePolicy(policy: SeccompPolicy, ctx: PolicyContext): CompileResult {
  return compileResolved(resolvePolicy(policy, ctx));
}

export function compileResolved(policy: ResolvedPolicy): CompileResult {
  const abis = policy.architectures.map(abiOfArch).filter((a): a is Abi => a !== undefined);
  if (!abis.includes('x86_64')) throw new CompileError(`compilePolicy targets x86_64 kernels; the native architecture here is ${policy.architectures[0]}`);
  const asm = new Assembler();
  const badArch = asm.label();
  const x64 = asm.label();
  const x32 = abis.includes('x32') ? asm.label() : badArch;
  const i386 = abis.includes('i386') ? asm.label() : badArch;

  asm.emit(OP.LD_ABS, SECCOMP_DATA.arch);
  if (i386 === badArch) {
    asm.jump(OP.JEQ_K, AUDIT_ARCH_X86_64, x64, badArch);
  } else {
    const tryI386 = asm.label();
    asm.jump(OP.JEQ_K, AUDIT_ARCH_X86_64, x64, tryI386);
    asm.place(tryI386);
    asm.jump(OP.JEQ_K, AUDIT_ARCH_I386, i386, badArch);
  }

  const skippedByAbi: Partial<Record<Abi, string[]>> = {};
  // Every section returns KILL_PROCESS through the one bad-architecture return.
  const shared = new Map([[KILL_PROCESS.ret, badArch]]);
  asm.place(x64);
  asm.emit(OP.LD_ABS, SECCOMP_DATA.nr);
  const x64Dispatch = asm.label();
  asm.jump(OP.JGE_K, X32_SYSCALL_BIT, x32, x64Dispatch);
  asm.place(x64Dispatch);
  skippedByAbi.x86_64 = emitSection(asm, policy, 'x86_64', 0, X32_SYSCALL_BIT, shared);
  if (x32 !== badArch) {
    asm.place(x32);
    asm.emit(OP.LD_ABS, SECCOMP_DATA.nr);
    skippedByAbi.x32 = emitSection(asm, policy, 'x32', X32_SYSCALL_BIT, 2 ** 32, shared);
  }
  if (i386 !== badArch) {
    asm.place(i386);
    asm.emit(OP.LD_ABS, SECCOMP_DATA.nr);
    skippedByAbi.i386 = emitSection(asm, policy, 'i386', 0, 2 ** 32, shared);
  }
  asm.place(badArch);
  asm.emit(OP.RET_K, KILL_PROCESS.ret);

  const instructions = asm.assemble();
  if (instructions.length > BPF_MAXINSNS) {
    throw new CompileError(`the policy compiles to ${instructions.length} BPF instructions; the kernel accepts at most ${BPF_MAXINSNS}`);
  }
  return {
    program: encode(instructions),
    instructions: instructions.length,
    skippedNames: skippedByAbi.x86_64 ?? [],
    skippedByAbi,
    abis,
    architectures: policy.architectures,
    flags: policy.flags,
    overlaps: findOverlaps(policy),
  };
}

interface Interval {
  start: number;
  target: Label;
}

/** Emits one ABI's dispatch over [low, high), its rule blocks and its return instructions. */
function emitSection(asm: Assembler, policy: ResolvedPolicy, abi: Abi, low: number, high: number, shared: ReadonlyMap<number, Label>): string[] {
  const table = syscallTable(abi);
  const width = abi === 'i386' ? 32 : 64;
  const rets = new Map<number, Label>();
  const retLabel = (action: Action): Label => {
    const common = shared.get(action.ret);
    if (common !== undefined) return common;
    let l = rets.get(action.ret);
    if (l === undefined) rets.set(action.ret, (l = asm.label()));
    return l;
  };
  const defaultLabel = retLabel(policy.defaultAction);

  const skipped = new Set<string>();
  const byNumber = new Map<number, string>();
  for (const rule of policy.rules) {
    for (const name of rule.names) {
      const nr = table.byName.get(name);
      if (nr === undefined) skipped.add(name);
      else byNumber.set(nr, name);
    }
  }

  const blocks = new Map<string, { label: Label; rules: ResolvedRule[] }>();
  const targetOf = new Map<number, Label>();
  for (const [nr, name] of byNumber) {
    const rules = effectiveRules(rulesFor(policy, name), policy.defaultAction);
    if (rules.length === 0) continue;
    if (rules.length === 1 && rules[0]!.conditions.length === 0) {
      targetOf.set(nr, retLabel(rules[0]!.action));
      continue;
    }
    const key = blockKey(rules, width);
    let block = blocks.get(key);
    if (block === undefined) blocks.set(key, (block = { label: asm.label(), rules }));
    targetOf.set(nr, block.label);
  }

  emitDispatch(asm, intervals(targetOf, defaultLabel, low, high));
  for (const block of blocks.values()) {
    asm.place(block.label);
    emitRules(asm, block.rules, width, retLabel, defaultLabel);
  }
  for (const [ret, label] of rets) {
    asm.place(label);
    asm.emit(OP.RET_K, ret);
  }
  return [...skipped].sort();
}

/** Drops rules that can never decide: those after an unconditional one, and trailing defaults. */
function effectiveRules(ordered: ResolvedRule[], fallback: Action): ResolvedRule[] {
  const firstAlways = ordered.findIndex((r) => r.conditions.length === 0);
  const kept = firstAlways === -1 ? [...ordered] : ordered.slice(0, firstAlways + 1);
  while (kept.length > 0 && kept[kept.length - 1]!.action.ret === fallback.ret) kept.pop();
  return kept;
}

function blockKey(rules: ResolvedRule[], width: number): string {
  return JSON.stringify(rules.map((r) => [r.action.ret, r.conditions.map((c) => [c.index, c.op, String(c.value), String(c.valueTwo)])]).concat([width]));
}

/** Runs of numbers with one target, covering [low, high) without gaps. */
function intervals(targetOf: Map<number, Label>, fallback: Label, low: number, high: number): Interval[] {
  const out: Interval[] = [];
  const push = (start: number, target: Label): void => {
    if (out.length > 0 && out[out.length - 1]!.target === target) return; // the previous run goes on
    out.push({ start, target });
  };
  let uncovered = low;
  for (const nr of [...targetOf.keys()].sort((x, y) => x - y)) {
    if (nr > uncovered) push(uncovered, fallback);
    push(nr, targetOf.get(nr)!);
    uncovered = nr + 1;
  }
  if (uncovered < high || out.length === 0) push(uncovered, fallback);
  return out;
}

function emitDispatch(asm: Assembler, runs: Interval[]): void {
  if (runs.length === 1) {
    asm.ja(runs[0]!.target);
    return;
  }
  const node = (lo: number, hi: number): void => {
    const mid = (lo + hi + 1) >> 1;
    const left = lo === mid - 1 ? runs[lo]!.target : asm.label();
    const right = mid === hi ? runs[hi]!.target : asm.label();
    asm.jump(OP.JGE_K, runs[mid]!.start, right, left);
    if (lo < mid - 1) {
      asm.place(left);
      node(lo, mid - 1);
    }
    if (mid < hi) {
      asm.place(right);
      node(mid, hi);
    }
  };
  node(0, runs.length - 1);
}

function emitRules(asm: Assembler, rules: ResolvedRule[], width: 32 | 64, retLabel: (a: Action) => Label, fallback: Label): void {
  for (const [i, rule] of rules.entries()) {
    const next = rules[i + 1];
    if (rule.conditions.length === 0) return; // only ever last: effectiveRules cut the rest
    const otherwise = next === undefined ? fallback : next.conditions.length === 0 ? retLabel(next.action) : asm.label();
    rule.conditions.forEach((c, j) => {
      const pass = j === rule.conditions.length - 1 ? retLabel(rule.action) : asm.label();
      emitCondition(asm, c, width, pass, otherwise);
      if (j < rule.conditions.length - 1) asm.place(pass);
    });
    if (next !== undefined && next.conditions.length > 0) asm.place(otherwise);
  }
}

/** Jumps to `pass` when the condition holds, else to `fail`; compares as unsigned 64 (or 32) bits. */
function emitCondition(asm: Assembler, c: ResolvedCondition, width: 32 | 64, pass: Label, fail: Label): void {
  const hi = Number((c.value >> 32n) & U32);
  const lo = Number(c.value & U32);
  const hiTwo = Number((c.valueTwo >> 32n) & U32);
  const loTwo = Number(c.valueTwo & U32);
  const loadLow = (): void => asm.emit(OP.LD_ABS, SECCOMP_DATA.argLow(c.index));
  const loadHigh = (): void => asm.emit(OP.LD_ABS, SECCOMP_DATA.argHigh(c.index));
  const wide = width === 64;
  switch (c.op) {
    case 'SCMP_CMP_EQ':
    case 'SCMP_CMP_NE': {
      const [onEqual, onDiffer] = c.op === 'SCMP_CMP_EQ' ? [pass, fail] : [fail, pass];
      if (wide) {
        loadHigh();
        const lowHalf = asm.label();
        asm.jump(OP.JEQ_K, hi, lowHalf, onDiffer);
        asm.place(lowHalf);
      }
      loadLow();
      asm.jump(OP.JEQ_K, lo, onEqual, onDiffer);
      return;
    }
    case 'SCMP_CMP_MASKED_EQ': {
      if (wide) {
        loadHigh();
        asm.emit(OP.AND_K, hi);
        const lowHalf = asm.label();
        asm.jump(OP.JEQ_K, hiTwo, lowHalf, fail);
        asm.place(lowHalf);
      }
      loadLow();
      asm.emit(OP.AND_K, lo);
      asm.jump(OP.JEQ_K, loTwo, pass, fail);
      return;
    }
    case 'SCMP_CMP_GT':
    case 'SCMP_CMP_GE':
    case 'SCMP_CMP_LT':
    case 'SCMP_CMP_LE': {
      const above = c.op === 'SCMP_CMP_GT' || c.op === 'SCMP_CMP_GE' ? pass : fail;
      const below = above === pass ? fail : pass;
      if (wide) {
        loadHigh();
        const equalHigh = asm.label();
        const notAbove = asm.label();
        asm.jump(OP.JGT_K, hi, above, notAbove);
        asm.place(notAbove);
        asm.jump(OP.JEQ_K, hi, equalHigh, below);
        asm.place(equalHigh);
      }
      loadLow();
      // Low halves: GT and LE split at "> lo", GE and LT at ">= lo".
      const strict = c.op === 'SCMP_CMP_GT' || c.op === 'SCMP_CMP_LE';
      asm.jump(strict ? OP.JGT_K : OP.JGE_K, lo, above, below);
      return;
    }
  }
}
