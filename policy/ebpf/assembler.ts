// An eBPF assembler with labels, so a program reads as a list of named instructions:
//
//   const a = new Assembler();
//   const out = a.label('out');
//   a.call('get_current_cgroup_id');
//   a.ldImm64('r1', cgroupId);
//   a.jump('jne', 'r0', 'r1', out);      // not our cgroup: done
//   ...
//   a.place(out);
//   a.mov64('r0', 0);
//   a.exit();
//   const program = a.assemble();        // Instruction[], jumps resolved
//
// Registers are written 'r0'..'r10'; a number where a register may stand is an immediate.
import {
  ALU_OP, ATOMIC_OP, CLASS, END, EncodingError, JMP_OP, LD_IMM64, MODE, PSEUDO_MAP_FD, SIZE, SOURCE, slots,
  type AluOp, type AtomicOp, type Instruction, type JumpOp, type Size,
} from './isa.js';
import { HELPERS, type HelperName } from './helpers.js';

export type Reg = 'r0' | 'r1' | 'r2' | 'r3' | 'r4' | 'r5' | 'r6' | 'r7' | 'r8' | 'r9' | 'r10';
export type Operand = Reg | number;

export interface Label {
  readonly name: string;
  readonly id: number;
}

type Item = { kind: 'ins'; ins: Instruction } | { kind: 'jump'; ins: Instruction; target: Label } | { kind: 'place'; label: Label };

export function regNumber(r: Reg): number {
  return Number(r.slice(1));
}

/** A 32-bit immediate as the kernel reads it back (signed), from either signed or unsigned notation. */
function imm32(n: number): number {
  if (!Number.isInteger(n) || n < -0x80000000 || n > 0xffffffff) throw new EncodingError(`eBPF assembler: immediate ${n} does not fit 32 bits`);
  return n | 0;
}

export class Assembler {
  private readonly items: Item[] = [];
  private labels = 0;

  label(name = `L${this.labels}`): Label {
    return { name, id: this.labels++ };
  }

  place(label: Label): void {
    this.items.push({ kind: 'place', label });
  }

  alu64(op: AluOp, dst: Reg, src: Operand): void {
    this.emit(this.alu(CLASS.ALU64, op, dst, src));
  }

  alu32(op: AluOp, dst: Reg, src: Operand): void {
    this.emit(this.alu(CLASS.ALU, op, dst, src));
  }

  mov64(dst: Reg, src: Operand): void {
    this.alu64('mov', dst, src);
  }

  add64(dst: Reg, src: Operand): void {
    this.alu64('add', dst, src);
  }

  /** Byte order conversion of the low `bits` of dst to little or big endian. */
  endian(order: keyof typeof END, bits: 16 | 32 | 64, dst: Reg): void {
    this.emit({ code: CLASS.ALU | ALU_OP.end | END[order], dst: regNumber(dst), src: 0, off: 0, imm: bits });
  }

  /** dst = *(size *)(src + off) */
  ldx(size: Size, dst: Reg, src: Reg, off: number): void {
    this.emit({ code: CLASS.LDX | SIZE[size] | MODE.MEM, dst: regNumber(dst), src: regNumber(src), off, imm: 0 });
  }

  /** *(size *)(dst + off) = src */
  stx(size: Size, dst: Reg, off: number, src: Reg): void {
    this.emit({ code: CLASS.STX | SIZE[size] | MODE.MEM, dst: regNumber(dst), src: regNumber(src), off, imm: 0 });
  }

  /** *(size *)(dst + off) = imm */
  st(size: Size, dst: Reg, off: number, imm: number): void {
    this.emit({ code: CLASS.ST | SIZE[size] | MODE.MEM, dst: regNumber(dst), src: 0, off, imm: imm32(imm) });
  }

  /** An atomic read-modify-write of *(size *)(dst + off) with src (lock-prefixed on x86). */
  atomic(op: AtomicOp, size: 'W' | 'DW', dst: Reg, off: number, src: Reg): void {
    this.emit({ code: CLASS.STX | SIZE[size] | MODE.ATOMIC, dst: regNumber(dst), src: regNumber(src), off, imm: ATOMIC_OP[op] });
  }

  ldImm64(dst: Reg, value: bigint | number): void {
    this.emit({ code: LD_IMM64, dst: regNumber(dst), src: 0, off: 0, imm: 0, imm64: BigInt.asIntN(64, BigInt(value)) });
  }

  /** dst = the map named `map`; its fd is filled in when the program is encoded for loading. */
  ldMap(dst: Reg, map: string): void {
    this.emit({ code: LD_IMM64, dst: regNumber(dst), src: PSEUDO_MAP_FD, off: 0, imm: 0, imm64: 0n, map });
  }

  call(helper: HelperName | number): void {
    const id = typeof helper === 'number' ? helper : HELPERS[helper];
    this.emit({ code: CLASS.JMP | JMP_OP.call, dst: 0, src: 0, off: 0, imm: id });
  }

  /** r0 = map_lookup_elem(map, r10 + keyAt): the key is on the stack at keyAt (negative). */
  lookup(map: string, keyAt: number): void {
    this.mov64('r2', 'r10');
    this.add64('r2', keyAt);
    this.ldMap('r1', map);
    this.call('map_lookup_elem');
  }

  exit(): void {
    this.emit({ code: CLASS.JMP | JMP_OP.exit, dst: 0, src: 0, off: 0, imm: 0 });
  }

  /** if (dst op src) goto target, comparing 64 bits. */
  jump(op: JumpOp, dst: Reg, src: Operand, target: Label): void {
    this.items.push({ kind: 'jump', ins: this.compare(CLASS.JMP, op, dst, src), target });
  }

  /** The same comparing the low 32 bits. */
  jump32(op: JumpOp, dst: Reg, src: Operand, target: Label): void {
    this.items.push({ kind: 'jump', ins: this.compare(CLASS.JMP32, op, dst, src), target });
  }

  ja(target: Label): void {
    this.items.push({ kind: 'jump', ins: { code: CLASS.JMP | JMP_OP.ja, dst: 0, src: 0, off: 0, imm: 0 }, target });
  }

  /** The instructions with every jump's offset set (in slots, from the instruction after it). */
  assemble(): Instruction[] {
    const at = new Map<number, number>();
    let pc = 0;
    for (const item of this.items) {
      if (item.kind === 'place') {
        if (at.has(item.label.id)) throw new EncodingError(`eBPF assembler: label ${item.label.name} placed twice`);
        at.set(item.label.id, pc);
      } else pc += slots(item.ins);
    }
    const out: Instruction[] = [];
    pc = 0;
    for (const item of this.items) {
      if (item.kind === 'place') continue;
      if (item.kind === 'jump') {
        const to = at.get(item.target.id);
        if (to === undefined) throw new EncodingError(`eBPF assembler: label ${item.target.name} was never placed`);
        out.push({ ...item.ins, off: to - pc - 1 });
      } else out.push(item.ins);
      pc += slots(item.ins);
    }
    return out;
  }

  private emit(ins: Instruction): void {
    this.items.push({ kind: 'ins', ins });
  }

  private alu(cls: number, op: AluOp, dst: Reg, src: Operand): Instruction {
    if (typeof src === 'number') return { code: cls | ALU_OP[op] | SOURCE.K, dst: regNumber(dst), src: 0, off: 0, imm: imm32(src) };
    return { code: cls | ALU_OP[op] | SOURCE.X, dst: regNumber(dst), src: regNumber(src), off: 0, imm: 0 };
  }

  private compare(cls: number, op: JumpOp, dst: Reg, src: Operand): Instruction {
    if (typeof src === 'number') return { code: cls | JMP_OP[op] | SOURCE.K, dst: regNumber(dst), src: 0, off: 0, imm: imm32(src) };
    return { code: cls | JMP_OP[op] | SOURCE.X, dst: regNumber(dst), src: regNumber(src), off: 0, imm: 0 };
  }
}
