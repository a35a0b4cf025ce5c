// Classic BPF as seccomp runs it: the instruction encoding, and an assembler with labels. BPF jumps
// only forward, and a conditional jump reaches at most 255 instructions; the assembler lays the
// program out and, where a target is farther, routes that branch through a BPF_JA (32-bit offset)
// placed right after the jump, repeating until every offset fits.

export const BPF = {
  LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, RET: 0x06, MISC: 0x07,
  W: 0x00, ABS: 0x20, IMM: 0x00, MEM: 0x60, LEN: 0x80,
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70, NEG: 0x80, MOD: 0x90, XOR: 0xa0,
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40,
  K: 0x00, X: 0x08, A: 0x10,
  TAX: 0x00, TXA: 0x80,
} as const;

export const OP = {
  LD_ABS: BPF.LD | BPF.W | BPF.ABS,
  AND_K: BPF.ALU | BPF.AND | BPF.K,
  JA: BPF.JMP | BPF.JA,
  JEQ_K: BPF.JMP | BPF.JEQ | BPF.K,
  JGT_K: BPF.JMP | BPF.JGT | BPF.K,
  JGE_K: BPF.JMP | BPF.JGE | BPF.K,
  RET_K: BPF.RET | BPF.K,
} as const;

/** The kernel refuses longer filters (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;
export const SOCK_FILTER_SIZE = 8;

/** Offsets into struct seccomp_data. */
export const SECCOMP_DATA = {
  nr: 0,
  arch: 4,
  instructionPointer: 8,
  /** args[i] low 32 bits on little-endian x86; the high half is 4 bytes further. */
  argLow: (i: number): number => 16 + 8 * i,
  argHigh: (i: number): number => 20 + 8 * i,
  size: 64,
} as const;

export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export function encode(program: readonly Instruction[]): Buffer {
  const buf = Buffer.alloc(program.length * SOCK_FILTER_SIZE);
  program.forEach((ins, i) => {
    const at = i * SOCK_FILTER_SIZE;
    buf.writeUInt16LE(ins.code, at);
    buf.writeUInt8(ins.jt, at + 2);
    buf.writeUInt8(ins.jf, at + 3);
    buf.writeUInt32LE(ins.k >>> 0, at + 4);
  });
  return buf;
}

export function decode(program: Buffer): Instruction[] {
  if (program.length % SOCK_FILTER_SIZE !== 0) {
    throw new RangeError(`a seccomp program is a whole number of 8-byte instructions; got ${program.length} bytes`);
  }
  const out: Instruction[] = [];
  for (let at = 0; at < program.length; at += SOCK_FILTER_SIZE) {
    out.push({ code: program.readUInt16LE(at), jt: program.readUInt8(at + 2), jf: program.readUInt8(at + 3), k: program.readUInt32LE(at + 4) });
  }
  return out;
}

export type Label = number & { readonly __label: unique symbol };

type Item =
  | { kind: 'plain'; code: number; k: number }
  | { kind: 'jump'; code: number; k: number; jt: Label; jf: Label; farT: boolean; farF: boolean }
  | { kind: 'ja'; target: Label }
  | { kind: 'label'; label: Label };

export class Assembler {
  private readonly items: Item[] = [];
  private labels = 0;

  label(): Label {
    return this.labels++ as Label;
  }

  place(label: Label): void {
    this.items.push({ kind: 'label', label });
  }

  emit(code: number, k = 0): void {
    this.items.push({ kind: 'plain', code, k: k >>> 0 });
  }

  jump(code: number, k: number, jt: Label, jf: Label): void {
    this.items.push({ kind: 'jump', code, k: k >>> 0, jt, jf, farT: false, farF: false });
  }

  ja(target: Label): void {
    this.items.push({ kind: 'ja', target });
  }

  assemble(): Instruction[] {
    let addresses = this.layout();
    for (;;) {
      let grew = false;
      for (const [i, item] of this.items.entries()) {
        if (item.kind !== 'jump') continue;
        const at = addresses.items[i]!;
        if (!item.farT && this.distance(addresses, at, item.jt) > 255) item.farT = grew = true;
        if (!item.farF && this.distance(addresses, at, item.jf) > 255) item.farF = grew = true;
      }
      if (!grew) break;
      addresses = this.layout();
    }
    return this.emitAll(addresses);
  }

  private layout(): { items: number[]; labels: Map<Label, number> } {
    const items: number[] = [];
    const labels = new Map<Label, number>();
    let pc = 0;
    for (const item of this.items) {
      items.push(pc);
      if (item.kind === 'label') labels.set(item.label, pc);
      else if (item.kind === 'jump') pc += 1 + (item.farT ? 1 : 0) + (item.farF ? 1 : 0);
      else pc += 1;
    }
    return { items, labels };
  }

  private distance(addresses: { labels: Map<Label, number> }, from: number, target: Label): number {
    const to = addresses.labels.get(target);
    if (to === undefined) throw new Error(`BPF assembler: label ${target} was never placed`);
    const d = to - from - 1;
    if (d < 0) throw new Error(`BPF assembler: backward jump from ${from} to ${to}`);
    return d;
  }

  private emitAll(addresses: { items: number[]; labels: Map<Label, number> }): Instruction[] {
    const out: Instruction[] = [];
    for (const [i, item] of this.items.entries()) {
      const at = addresses.items[i]!;
      if (item.kind === 'plain') out.push({ code: item.code, jt: 0, jf: 0, k: item.k });
      else if (item.kind === 'ja') out.push({ code: OP.JA, jt: 0, jf: 0, k: this.distance(addresses, at, item.target) });
      else if (item.kind === 'jump') {
        // Trampolines sit right after the jump: the true one first, then the false one.
        const tAt = at + 1;
        const fAt = at + 1 + (item.farT ? 1 : 0);
        const jt = item.farT ? tAt - at - 1 : this.distance(addresses, at, item.jt);
        const jf = item.farF ? fAt - at - 1 : this.distance(addresses, at, item.jf);
        out.push({ code: item.code, jt, jf, k: item.k });
        if (item.farT) out.push({ code: OP.JA, jt: 0, jf: 0, k: this.distance(addresses, tAt, item.jt) });
        if (item.farF) out.push({ code: OP.JA, jt: 0, jf: 0, k: this.distance(addresses, fAt, item.jf) });
      }
    }
    return out;
  }
}
