// A classic-BPF interpreter for seccomp programs: runs a filter over one seccomp_data the way the
// kernel does, so tests can ask a compiled program what it would do without installing it.
import { actionFromRet, type Action } from './actions.js';
import { BPF, decode, SECCOMP_DATA, type Instruction } from './bpf.js';
import { normalizeArgs } from './semantics.js';
import { AUDIT_ARCH_X86_64 } from '../kernel/syscall-table.js';

export interface SeccompInput {
  nr: number;
  /** AUDIT_ARCH_* value; x86_64 when absent. */
  arch?: number;
  args?: readonly (number | bigint)[];
  instructionPointer?: bigint;
}

export interface EvaluateResult {
  /** The 32-bit value the filter returned. */
  ret: number;
  action: Action;
  /** Instructions executed. */
  steps: number;
}

export class EvaluateError extends Error {
  constructor(readonly pc: number, message: string) {
    super(`instruction ${pc}: ${message}`);
    this.name = 'EvaluateError';
  }
}

const MEMWORDS = 16;

/** The 64-byte struct seccomp_data for `input`, little-endian. */
export function seccompData(input: SeccompInput): Buffer {
  const data = Buffer.alloc(SECCOMP_DATA.size);
  data.writeInt32LE(input.nr | 0, SECCOMP_DATA.nr);
  data.writeUInt32LE((input.arch ?? AUDIT_ARCH_X86_64) >>> 0, SECCOMP_DATA.arch);
  data.writeBigUInt64LE(BigInt.asUintN(64, input.instructionPointer ?? 0n), SECCOMP_DATA.instructionPointer);
  normalizeArgs(input.args).forEach((v, i) => data.writeBigUInt64LE(v, SECCOMP_DATA.argLow(i)));
  return data;
}

export function evaluate(program: Buffer | readonly Instruction[], input: SeccompInput): EvaluateResult {
  const code = Buffer.isBuffer(program) ? decode(program) : program;
  const data = seccompData(input);
  const mem = new Uint32Array(MEMWORDS);
  let a = 0;
  let x = 0;
  let steps = 0;
  for (let pc = 0; pc < code.length; pc++) {
    const ins = code[pc]!;
    steps++;
    const src = (ins.code & BPF.X) !== 0 ? x : ins.k;
    switch (ins.code & 0x07) {
      case BPF.LD:
      case BPF.LDX: {
        const value = load(ins, data, mem, pc);
        if ((ins.code & 0x07) === BPF.LD) a = value;
        else x = value;
        break;
      }
      case BPF.ST:
        mem[memIndex(ins.k, pc)] = a;
        break;
      case BPF.STX:
        mem[memIndex(ins.k, pc)] = x;
        break;
      case BPF.ALU:
        if (((ins.code & 0xf0) === BPF.DIV || (ins.code & 0xf0) === BPF.MOD) && src === 0) {
          // Division by a zero register ends a classic BPF program with 0.
          return { ret: 0, action: actionFromRet(0), steps };
        }
        a = alu(ins.code & 0xf0, a, src, pc);
        break;
      case BPF.JMP: {
        const op = ins.code & 0xf0;
        if (op === BPF.JA) {
          pc += ins.k;
          break;
        }
        pc += compare(op, a, src, pc) ? ins.jt : ins.jf;
        break;
      }
      case BPF.RET: {
        const ret = ((ins.code & 0x18) === BPF.A ? a : ins.k) >>> 0;
        return { ret, action: actionFromRet(ret), steps };
      }
      case BPF.MISC:
        if ((ins.code & 0xf8) === BPF.TXA) a = x;
        else x = a;
        break;
    }
  }
  throw new EvaluateError(code.length, 'the program ran past its end without a ret');
}

function load(ins: Instruction, data: Buffer, mem: Uint32Array, pc: number): number {
  if ((ins.code & 0x18) !== BPF.W) throw new EvaluateError(pc, 'seccomp loads whole 32-bit words only');
  switch (ins.code & 0xe0) {
    case BPF.ABS:
      if (ins.k % 4 !== 0 || ins.k + 4 > data.length) throw new EvaluateError(pc, `load of seccomp_data offset ${ins.k}`);
      return data.readUInt32LE(ins.k);
    case BPF.IMM:
      return ins.k >>> 0;
    case BPF.MEM:
      return mem[memIndex(ins.k, pc)]!;
    case BPF.LEN:
      return data.length;
    default:
      throw new EvaluateError(pc, `load mode 0x${ins.code.toString(16)} is not allowed in seccomp`);
  }
}

function memIndex(k: number, pc: number): number {
  if (k >= MEMWORDS) throw new EvaluateError(pc, `scratch memory index ${k}`);
  return k;
}

function alu(op: number, a: number, src: number, pc: number): number {
  switch (op) {
    case BPF.ADD: return (a + src) >>> 0;
    case BPF.SUB: return (a - src) >>> 0;
    case BPF.MUL: return Math.imul(a, src) >>> 0;
    case BPF.DIV: return Math.floor(a / src) >>> 0;
    case BPF.MOD: return (a % src) >>> 0;
    case BPF.AND: return (a & src) >>> 0;
    case BPF.OR: return (a | src) >>> 0;
    case BPF.XOR: return (a ^ src) >>> 0;
    case BPF.LSH: return src >= 32 ? 0 : (a << src) >>> 0;
    case BPF.RSH: return src >= 32 ? 0 : a >>> src;
    case BPF.NEG: return (-a) >>> 0;
    default: throw new EvaluateError(pc, `ALU operation 0x${op.toString(16)}`);
  }
}

function compare(op: number, a: number, src: number, pc: number): boolean {
  switch (op) {
    case BPF.JEQ: return a >>> 0 === src >>> 0;
    case BPF.JGT: return a >>> 0 > src >>> 0;
    case BPF.JGE: return a >>> 0 >= src >>> 0;
    case BPF.JSET: return ((a & src) >>> 0) !== 0;
    default: throw new EvaluateError(pc, `jump operation 0x${op.toString(16)}`);
  }
}
