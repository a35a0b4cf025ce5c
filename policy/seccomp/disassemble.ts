// Prints a seccomp program one instruction per line, for a person debugging a policy:
//   0007: 0x35 0x00 0x11 0x00000027  jge  #0x27        jt 0008  jf 0025   ; nr >= 39 (getpid)
// The comments come from following what the accumulator holds along every path (arch, nr, an
// argument half) and which ABI the path has established, so a number is only named when every path
// reaching that instruction agrees on what it means.
import { actionFromRet, describeAction } from './actions.js';
import { BPF, decode, SECCOMP_DATA, type Instruction } from './bpf.js';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, syscallName, X32_SYSCALL_BIT, type Abi } from '../kernel/syscall-table.js';

interface Known {
  /** What A holds: 'arch', 'nr', 'args[2].lo', ..., or '' when unknown. */
  a: string;
  abi: Abi | undefined;
}

const UNKNOWN: Known = { a: '', abi: undefined };

const ARCH_NAMES: Readonly<Record<number, string>> = {
  [AUDIT_ARCH_X86_64]: 'AUDIT_ARCH_X86_64',
  [AUDIT_ARCH_I386]: 'AUDIT_ARCH_I386',
};

const ALU_NAMES: Readonly<Record<number, string>> = {
  [BPF.ADD]: 'add', [BPF.SUB]: 'sub', [BPF.MUL]: 'mul', [BPF.DIV]: 'div', [BPF.OR]: 'or', [BPF.AND]: 'and',
  [BPF.LSH]: 'lsh', [BPF.RSH]: 'rsh', [BPF.NEG]: 'neg', [BPF.MOD]: 'mod', [BPF.XOR]: 'xor',
};
const JUMP_NAMES: Readonly<Record<number, string>> = { [BPF.JEQ]: 'jeq', [BPF.JGT]: 'jgt', [BPF.JGE]: 'jge', [BPF.JSET]: 'jset' };

export function disassemble(program: Buffer | readonly Instruction[]): string {
  const code = Buffer.isBuffer(program) ? decode(program) : program;
  const known = track(code);
  return code.map((ins, pc) => line(ins, pc, known[pc] ?? UNKNOWN)).join('\n') + '\n';
}

function hex(n: number, width: number): string {
  return `0x${(n >>> 0).toString(16).padStart(width, '0')}`;
}

function pad(n: number): string {
  return String(n).padStart(4, '0');
}

function line(ins: Instruction, pc: number, k: Known): string {
  const raw = `${pad(pc)}: ${hex(ins.code, 2)} ${hex(ins.jt, 2)} ${hex(ins.jf, 2)} ${hex(ins.k, 8)}  `;
  const [text, note] = mnemonic(ins, pc, k);
  return note === '' ? `${raw}${text}` : `${raw}${text.padEnd(40)}; ${note}`;
}

function mnemonic(ins: Instruction, pc: number, k: Known): [string, string] {
  const cls = ins.code & 0x07;
  const src = (ins.code & BPF.X) !== 0 ? 'x' : `#${hex(ins.k, 0)}`;
  switch (cls) {
    case BPF.LD:
    case BPF.LDX: {
      const reg = cls === BPF.LD ? 'ld ' : 'ldx';
      const mode = ins.code & 0xe0;
      if (mode === BPF.ABS) return [`${reg}  [${ins.k}]`, fieldName(ins.k)];
      if (mode === BPF.IMM) return [`${reg}  #${hex(ins.k, 0)}`, ''];
      if (mode === BPF.MEM) return [`${reg}  M[${ins.k}]`, ''];
      if (mode === BPF.LEN) return [`${reg}  #len`, ''];
      return [`${reg}  ?`, 'invalid load mode'];
    }
    case BPF.ST: return [`st   M[${ins.k}]`, ''];
    case BPF.STX: return [`stx  M[${ins.k}]`, ''];
    case BPF.ALU: return [`${(ALU_NAMES[ins.code & 0xf0] ?? 'alu?').padEnd(4)} ${src}`, ''];
    case BPF.MISC: return [(ins.code & 0xf8) === BPF.TXA ? 'txa' : 'tax', ''];
    case BPF.RET: {
      if ((ins.code & 0x18) === BPF.A) return ['ret  a', ''];
      return [`ret  #${hex(ins.k, 8)}`, describeAction(actionFromRet(ins.k))];
    }
    case BPF.JMP: {
      const op = ins.code & 0xf0;
      if (op === BPF.JA) return [`ja   ${pad(pc + 1 + ins.k)}`, ''];
      const name = JUMP_NAMES[op] ?? 'j?';
      const text = `${name.padEnd(4)} ${src.padEnd(12)} jt ${pad(pc + 1 + ins.jt)}  jf ${pad(pc + 1 + ins.jf)}`;
      return [text, (ins.code & BPF.X) !== 0 ? '' : jumpNote(name, ins.k, k)];
    }
  }
  return ['?', 'invalid instruction class'];
}

function fieldName(offset: number): string {
  if (offset === SECCOMP_DATA.nr) return 'nr';
  if (offset === SECCOMP_DATA.arch) return 'arch';
  if (offset === SECCOMP_DATA.instructionPointer) return 'instruction_pointer (low)';
  if (offset === SECCOMP_DATA.instructionPointer + 4) return 'instruction_pointer (high)';
  if (offset >= SECCOMP_DATA.argLow(0) && offset < SECCOMP_DATA.size) {
    const i = Math.floor((offset - SECCOMP_DATA.argLow(0)) / 8);
    return `args[${i}] ${offset % 8 === 0 ? 'low' : 'high'} half`;
  }
  return '';
}

function jumpNote(op: string, value: number, k: Known): string {
  if (k.a === 'arch') return ARCH_NAMES[value] ?? '';
  if (k.a !== 'nr') return k.a === '' ? '' : `${k.a} ${op === 'jeq' ? '==' : op === 'jgt' ? '>' : op === 'jge' ? '>=' : '&'} ${value}`;
  if (k.abi === 'x86_64' && value === X32_SYSCALL_BIT) return 'x32 system call numbers from here';
  const name = k.abi === undefined ? undefined : syscallName(value, k.abi);
  const shown = k.abi === 'x32' ? `0x40000000|${(value & ~X32_SYSCALL_BIT) >>> 0}` : String(value);
  return `nr ${op === 'jeq' ? '==' : op === 'jgt' ? '>' : '>='} ${shown}${name === undefined ? '' : ` (${name})`}`;
}

/** What every path agrees A holds at each instruction (forward data flow; BPF only jumps forward). */
function track(code: readonly Instruction[]): (Known | undefined)[] {
  const at: (Known | undefined)[] = new Array(code.length).fill(undefined);
  at[0] = UNKNOWN;
  const reach = (pc: number, k: Known): void => {
    if (pc >= code.length) return;
    const old = at[pc];
    at[pc] = old === undefined ? k : { a: old.a === k.a ? k.a : '', abi: old.abi === k.abi ? k.abi : undefined };
  };
  code.forEach((ins, pc) => {
    const k = at[pc];
    if (k === undefined) return;
    const cls = ins.code & 0x07;
    if (cls === BPF.RET) return;
    if (cls === BPF.LD) {
      const field = (ins.code & 0xe0) === BPF.ABS ? fieldName(ins.k) : '';
      reach(pc + 1, { a: field.replace(/ half$/, '').replace(/^args\[(\d)\] (low|high)$/, 'args[$1].$2'), abi: k.abi });
      return;
    }
    if (cls === BPF.JMP) {
      const op = ins.code & 0xf0;
      if (op === BPF.JA) return reach(pc + 1 + ins.k, k);
      const viaTrue = { ...k };
      if (k.a === 'arch' && op === BPF.JEQ) viaTrue.abi = ins.k === AUDIT_ARCH_X86_64 ? 'x86_64' : ins.k === AUDIT_ARCH_I386 ? 'i386' : undefined;
      if (k.a === 'nr' && k.abi === 'x86_64' && op === BPF.JGE && ins.k === X32_SYSCALL_BIT) viaTrue.abi = 'x32';
      reach(pc + 1 + ins.jt, viaTrue);
      reach(pc + 1 + ins.jf, k);
      return;
    }
    reach(pc + 1, cls === BPF.ST || cls === BPF.STX || cls === BPF.LDX ? k : { a: '', abi: k.abi });
  });
  return at;
}
