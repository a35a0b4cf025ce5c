// The eBPF instruction set as the kernel's Documentation/bpf/standardization/instruction-set.rst
// defines it: 8-byte instructions (opcode, dst and src registers in one byte, a signed 16-bit
// offset, a signed 32-bit immediate); a 64-bit immediate load takes two slots, the second holding
// the upper half. A map is referred to by loading its fd with src = BPF_PSEUDO_MAP_FD; the loader
// fills the fd in (relocation) just before BPF_PROG_LOAD.

export const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;
export const SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;
export const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, ATOMIC: 0xc0 } as const;
export const SOURCE = { K: 0x00, X: 0x08 } as const;

export const ALU_OP = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70,
  neg: 0x80, mod: 0x90, xor: 0xa0, mov: 0xb0, arsh: 0xc0, end: 0xd0,
} as const;
export type AluOp = Exclude<keyof typeof ALU_OP, 'end'>;

export const JMP_OP = {
  ja: 0x00, jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70,
  call: 0x80, exit: 0x90, jlt: 0xa0, jle: 0xb0, jslt: 0xc0, jsle: 0xd0,
} as const;
export type JumpOp = Exclude<keyof typeof JMP_OP, 'ja' | 'call' | 'exit'>;

/** BPF_ATOMIC operations, in the immediate; FETCH (0x01) returns the old value in src. */
export const ATOMIC_OP = {
  add: 0x00, or: 0x40, and: 0x50, xor: 0xa0,
  fetch_add: 0x01, fetch_or: 0x41, fetch_and: 0x51, fetch_xor: 0xa1, xchg: 0xe1, cmpxchg: 0xf1,
} as const;
export type AtomicOp = keyof typeof ATOMIC_OP;

/** Byte-swap direction of BPF_END (in the source bit). */
export const END = { le: 0x00, be: 0x08 } as const;

export const PSEUDO_MAP_FD = 1;
export const PSEUDO_CALL = 1;
export const INSTRUCTION_SIZE = 8;
export const LD_IMM64 = CLASS.LD | SIZE.DW | MODE.IMM;

export type Size = keyof typeof SIZE;
export const SIZE_BYTES: Readonly<Record<Size, number>> = { B: 1, H: 2, W: 4, DW: 8 };

/** r0 return value and helper result, r1-r5 arguments (clobbered by calls), r6-r9 kept, r10 frame pointer (read-only). */
export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/**
 * One instruction, as encoded. A 64-bit immediate load is one Instruction here (imm64) and two
 * slots once encoded; `map` names the map whose fd it loads when src is PSEUDO_MAP_FD.
 */
export interface Instruction {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
  imm64?: bigint;
  map?: string;
}

export class EncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodingError';
  }
}

/** Slots an instruction takes once encoded (jump offsets count slots). */
export function slots(ins: Instruction): number {
  return ins.code === LD_IMM64 ? 2 : 1;
}

function checkField(value: number, min: number, max: number, what: string, at: number): void {
  if (!Number.isInteger(value) || value < min || value > max) throw new EncodingError(`instruction ${at}: ${what} ${value} is outside ${min}..${max}`);
}

/**
 * The bytes the kernel loads. `mapFds` gives the fd of every map an instruction names; a map
 * reference without one is an error, so no program reaches the kernel half-relocated.
 */
export function encode(program: readonly Instruction[], mapFds: ReadonlyMap<string, number> = new Map()): Buffer {
  const total = program.reduce((n, ins) => n + slots(ins), 0);
  const buf = Buffer.alloc(total * INSTRUCTION_SIZE);
  let at = 0;
  program.forEach((ins, i) => {
    checkField(ins.code, 0, 0xff, 'opcode', i);
    checkField(ins.dst, 0, 15, 'dst register', i);
    checkField(ins.src, 0, 15, 'src register', i);
    checkField(ins.off, -0x8000, 0x7fff, 'offset', i);
    buf.writeUInt8(ins.code, at);
    buf.writeUInt8((ins.src << 4) | ins.dst, at + 1);
    buf.writeInt16LE(ins.off, at + 2);
    if (ins.code === LD_IMM64) {
      let value = ins.imm64 ?? 0n;
      if (ins.map !== undefined) {
        const fd = mapFds.get(ins.map);
        if (fd === undefined) throw new EncodingError(`instruction ${i}: map "${ins.map}" has no fd to relocate to`);
        value = BigInt(fd);
      }
      const bits = BigInt.asUintN(64, value);
      buf.writeUInt32LE(Number(bits & 0xffffffffn), at + 4);
      buf.writeUInt32LE(Number(bits >> 32n), at + 12);
      at += 16;
    } else {
      checkField(ins.imm, -0x80000000, 0xffffffff, 'immediate', i);
      buf.writeInt32LE(ins.imm | 0, at + 4);
      at += 8;
    }
  });
  return buf;
}

/** Instructions from bytes; the inverse of encode (map names, which bytes do not carry, aside). */
export function decode(bytes: Buffer): Instruction[] {
  if (bytes.length % INSTRUCTION_SIZE !== 0) throw new EncodingError(`an eBPF program is whole 8-byte instructions; got ${bytes.length} bytes`);
  const out: Instruction[] = [];
  for (let at = 0; at < bytes.length; at += INSTRUCTION_SIZE) {
    const code = bytes.readUInt8(at);
    const regs = bytes.readUInt8(at + 1);
    const ins: Instruction = { code, dst: regs & 0x0f, src: regs >> 4, off: bytes.readInt16LE(at + 2), imm: bytes.readInt32LE(at + 4) };
    if (code === LD_IMM64) {
      if (at + 16 > bytes.length) throw new EncodingError(`instruction at slot ${at / 8}: a 64-bit immediate load is missing its second half`);
      ins.imm64 = BigInt.asIntN(64, (BigInt(bytes.readUInt32LE(at + 12)) << 32n) | BigInt(bytes.readUInt32LE(at + 4)));
      ins.imm = 0;
      at += INSTRUCTION_SIZE;
    }
    out.push(ins);
  }
  return out;
}
