// eBPF instructions as text, one per line, and back: `parse(disassemble(p))` gives p again, which
// the tests hold for assembled programs and for the bytes they encode to.
//
//   0000: mov64 r6, r1
//   0001: call get_current_cgroup_id
//   0002: lddw r1, 0x1f2e                 (a 64-bit immediate takes two slots)
//   0004: jne r0, r1, +12                 ; to 0017
//   0005: ldxw r2, [r6+8]
//   0006: lddw r1, map:counts
//   0008: lock_add64 [r0+0], r1
//
// An encoding this syntax has no name for prints as `.raw code dst src off imm`, which parses back.
import {
  ALU_OP, ATOMIC_OP, CLASS, END, EncodingError, JMP_OP, LD_IMM64, MODE, PSEUDO_MAP_FD, SIZE, SOURCE, slots,
  type Instruction, type Size,
} from './isa.js';
import { helperId, helperName } from './helpers.js';

const invert = <T extends Record<string, number>>(o: T): Map<number, string> => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const ALU_NAMES = invert(ALU_OP);
const JMP_NAMES = invert(JMP_OP);
const ATOMIC_NAMES = invert(ATOMIC_OP);
const SIZE_NAMES = new Map<number, string>([[SIZE.B, 'b'], [SIZE.H, 'h'], [SIZE.W, 'w'], [SIZE.DW, 'dw']]);
const SIZE_BY_NAME: Readonly<Record<string, number>> = { b: SIZE.B, h: SIZE.H, w: SIZE.W, dw: SIZE.DW };

function memory(reg: number, off: number): string {
  return `[r${reg}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;
}

function rawText(ins: Instruction): string {
  return `.raw 0x${ins.code.toString(16).padStart(2, '0')} ${ins.dst} ${ins.src} ${ins.off} ${ins.imm}`;
}

/** The text of one instruction, without its address. */
export function instructionText(ins: Instruction): string {
  const cls = ins.code & 0x07;
  const source = ins.code & 0x08;
  const op = ins.code & 0xf0;
  const size = ins.code & 0x18;
  const mode = ins.code & 0xe0;
  const operand = source === SOURCE.X ? `r${ins.src}` : String(ins.imm);
  switch (cls) {
    case CLASS.ALU:
    case CLASS.ALU64: {
      const bits = cls === CLASS.ALU64 ? '64' : '32';
      if (op === ALU_OP.end && cls === CLASS.ALU) {
        const plain = [16, 32, 64].includes(ins.imm) && ins.src === 0 && ins.off === 0;
        return plain ? `${source === END.be ? 'be' : 'le'}${ins.imm} r${ins.dst}` : rawText(ins);
      }
      const name = ALU_NAMES.get(op);
      if (name === undefined || name === 'end' || ins.off !== 0 || (source === SOURCE.K && ins.src !== 0) || (source === SOURCE.X && ins.imm !== 0)) return rawText(ins);
      if (name === 'neg') return ins.imm === 0 && ins.src === 0 && source === SOURCE.K ? `neg${bits} r${ins.dst}` : rawText(ins);
      return `${name}${bits} r${ins.dst}, ${operand}`;
    }
    case CLASS.LDX:
      return mode === MODE.MEM && ins.imm === 0 ? `ldx${SIZE_NAMES.get(size)} r${ins.dst}, ${memory(ins.src, ins.off)}` : rawText(ins);
    case CLASS.ST:
      return mode === MODE.MEM && ins.src === 0 ? `st${SIZE_NAMES.get(size)} ${memory(ins.dst, ins.off)}, ${ins.imm}` : rawText(ins);
    case CLASS.STX: {
      if (mode === MODE.MEM && ins.imm === 0) return `stx${SIZE_NAMES.get(size)} ${memory(ins.dst, ins.off)}, r${ins.src}`;
      const atomic = ATOMIC_NAMES.get(ins.imm);
      if (mode === MODE.ATOMIC && atomic !== undefined && (size === SIZE.W || size === SIZE.DW)) {
        return `lock_${atomic}${size === SIZE.DW ? '64' : '32'} ${memory(ins.dst, ins.off)}, r${ins.src}`;
      }
      return rawText(ins);
    }
    case CLASS.LD: {
      if (ins.code === LD_IMM64) {
        const value = ins.imm64 ?? 0n;
        if (ins.src === PSEUDO_MAP_FD) return `lddw r${ins.dst}, ${ins.map !== undefined ? `map:${ins.map}` : `map_fd:${value}`}`;
        const hex = `0x${BigInt.asUintN(64, value).toString(16)}`;
        return ins.src === 0 ? `lddw r${ins.dst}, ${hex}` : `lddw r${ins.dst}, src${ins.src}:${hex}`;
      }
      if (mode === MODE.ABS && ins.dst === 0 && ins.src === 0 && ins.off === 0) return `ldabs${SIZE_NAMES.get(size)} ${ins.imm}`;
      if (mode === MODE.IND && ins.dst === 0 && ins.off === 0) return `ldind${SIZE_NAMES.get(size)} r${ins.src}, ${ins.imm}`;
      return rawText(ins);
    }
    case CLASS.JMP:
    case CLASS.JMP32: {
      const name = JMP_NAMES.get(op);
      const bits = cls === CLASS.JMP32 ? '32' : '';
      if (name === undefined) return rawText(ins);
      if (name === 'exit') return ins.dst === 0 && ins.src === 0 && ins.off === 0 && ins.imm === 0 && cls === CLASS.JMP ? 'exit' : rawText(ins);
      if (name === 'call') {
        if (cls !== CLASS.JMP || ins.dst !== 0 || ins.src !== 0 || ins.off !== 0 || source !== SOURCE.K || ins.imm < 0) return rawText(ins);
        return `call ${helperName(ins.imm) ?? ins.imm}`;
      }
      const off = `${ins.off < 0 ? '-' : '+'}${Math.abs(ins.off)}`;
      if (name === 'ja') return cls === CLASS.JMP && ins.dst === 0 && ins.src === 0 && ins.imm === 0 && source === SOURCE.K ? `ja ${off}` : rawText(ins);
      if ((source === SOURCE.K && ins.src !== 0) || (source === SOURCE.X && ins.imm !== 0)) return rawText(ins);
      return `${name}${bits} r${ins.dst}, ${operand}, ${off}`;
    }
  }
  return rawText(ins);
}

/** The program with slot addresses, and where each jump lands. */
export function disassemble(program: readonly Instruction[]): string {
  let pc = 0;
  const lines: string[] = [];
  for (const ins of program) {
    let text = instructionText(ins);
    const cls = ins.code & 0x07;
    const op = ins.code & 0xf0;
    if ((cls === CLASS.JMP || cls === CLASS.JMP32) && op !== JMP_OP.call && op !== JMP_OP.exit && !text.startsWith('.raw')) {
      text = `${text.padEnd(36)}; to ${String(pc + 1 + ins.off).padStart(4, '0')}`;
    }
    lines.push(`${String(pc).padStart(4, '0')}: ${text}`);
    pc += slots(ins);
  }
  return lines.join('\n') + '\n';
}

const REG = 'r(\\d+)';
const MEM = '\\[r(\\d+)([+-]\\d+)\\]';
const NUM = '(-?(?:0x[0-9a-f]+|\\d+))';
const patterns: [RegExp, (m: string[]) => Instruction][] = [
  [new RegExp(`^\\.raw 0x([0-9a-f]+) (\\d+) (\\d+) (-?\\d+) (-?\\d+)$`), (m) => ({ code: parseInt(m[1]!, 16), dst: +m[2]!, src: +m[3]!, off: +m[4]!, imm: +m[5]! })],
  [new RegExp(`^(be|le)(16|32|64) ${REG}$`), (m) => ({ code: CLASS.ALU | ALU_OP.end | END[m[1] as 'be' | 'le'], dst: +m[3]!, src: 0, off: 0, imm: +m[2]! })],
  [new RegExp(`^neg(64|32) ${REG}$`), (m) => ({ code: (m[1] === '64' ? CLASS.ALU64 : CLASS.ALU) | ALU_OP.neg, dst: +m[2]!, src: 0, off: 0, imm: 0 })],
  [new RegExp(`^(\\w+?)(64|32) ${REG}, (?:${REG}|${NUM})$`), (m) => {
    const op = (ALU_OP as Readonly<Record<string, number>>)[m[1]!];
    if (op === undefined) throw new EncodingError(`unknown ALU operation ${m[1]}`);
    const cls = m[2] === '64' ? CLASS.ALU64 : CLASS.ALU;
    return m[4] !== undefined
      ? { code: cls | op | SOURCE.X, dst: +m[3]!, src: +m[4], off: 0, imm: 0 }
      : { code: cls | op | SOURCE.K, dst: +m[3]!, src: 0, off: 0, imm: Number(m[5]) };
  }],
  [new RegExp(`^ldx(b|h|w|dw) ${REG}, ${MEM}$`), (m) => ({ code: CLASS.LDX | SIZE_BY_NAME[m[1]!]! | MODE.MEM, dst: +m[2]!, src: +m[3]!, off: +m[4]!, imm: 0 })],
  [new RegExp(`^st(b|h|w|dw) ${MEM}, ${NUM}$`), (m) => ({ code: CLASS.ST | SIZE_BY_NAME[m[1]!]! | MODE.MEM, dst: +m[2]!, src: 0, off: +m[3]!, imm: Number(m[4]) })],
  [new RegExp(`^stx(b|h|w|dw) ${MEM}, ${REG}$`), (m) => ({ code: CLASS.STX | SIZE_BY_NAME[m[1]!]! | MODE.MEM, dst: +m[2]!, src: +m[4]!, off: +m[3]!, imm: 0 })],
  [new RegExp(`^lock_(\\w+?)(64|32) ${MEM}, ${REG}$`), (m) => {
    const op = (ATOMIC_OP as Readonly<Record<string, number>>)[m[1]!];
    if (op === undefined) throw new EncodingError(`unknown atomic operation ${m[1]}`);
    return { code: CLASS.STX | (m[2] === '64' ? SIZE.DW : SIZE.W) | MODE.ATOMIC, dst: +m[3]!, src: +m[5]!, off: +m[4]!, imm: op };
  }],
  [new RegExp(`^lddw ${REG}, map:(\\S+)$`), (m) => ({ code: LD_IMM64, dst: +m[1]!, src: PSEUDO_MAP_FD, off: 0, imm: 0, imm64: 0n, map: m[2]! })],
  [new RegExp(`^lddw ${REG}, (map_fd:|src\\d+:)?${NUM}$`), (m) => {
    const src = m[2] === undefined ? 0 : m[2] === 'map_fd:' ? PSEUDO_MAP_FD : Number(m[2].slice(3, -1));
    return { code: LD_IMM64, dst: +m[1]!, src, off: 0, imm: 0, imm64: BigInt.asIntN(64, BigInt(m[3]!)) };
  }],
  [new RegExp(`^ldabs(b|h|w|dw) ${NUM}$`), (m) => ({ code: CLASS.LD | SIZE_BY_NAME[m[1]!]! | MODE.ABS, dst: 0, src: 0, off: 0, imm: Number(m[2]) })],
  [new RegExp(`^ldind(b|h|w|dw) ${REG}, ${NUM}$`), (m) => ({ code: CLASS.LD | SIZE_BY_NAME[m[1]!]! | MODE.IND, dst: 0, src: +m[2]!, off: 0, imm: Number(m[3]) })],
  [/^exit$/, () => ({ code: CLASS.JMP | JMP_OP.exit, dst: 0, src: 0, off: 0, imm: 0 })],
  [/^call (\w+)$/, (m) => {
    const id = /^\d+$/.test(m[1]!) ? Number(m[1]) : helperId(m[1]!);
    if (id === undefined) throw new EncodingError(`unknown helper ${m[1]}`);
    return { code: CLASS.JMP | JMP_OP.call, dst: 0, src: 0, off: 0, imm: id };
  }],
  [/^ja ([+-]\d+)$/, (m) => ({ code: CLASS.JMP | JMP_OP.ja, dst: 0, src: 0, off: +m[1]!, imm: 0 })],
  [new RegExp(`^(\\w+?)(32)? ${REG}, (?:${REG}|${NUM}), ([+-]\\d+)$`), (m) => {
    const op = (JMP_OP as Readonly<Record<string, number>>)[m[1]!];
    if (op === undefined) throw new EncodingError(`unknown jump ${m[1]}`);
    const cls = m[2] ? CLASS.JMP32 : CLASS.JMP;
    return m[4] !== undefined
      ? { code: cls | op | SOURCE.X, dst: +m[3]!, src: +m[4], off: +m[6]!, imm: 0 }
      : { code: cls | op | SOURCE.K, dst: +m[3]!, src: 0, off: +m[6]!, imm: Number(m[5]) };
  }],
];

/** Instructions from disassembly text (addresses and `;` comments are ignored). */
export function parse(text: string): Instruction[] {
  const out: Instruction[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/;.*$/, '').replace(/^\s*\d+:/, '').trim();
    if (line === '') return;
    const hit = patterns.find(([re]) => re.test(line));
    if (!hit) throw new EncodingError(`line ${i + 1}: not an eBPF instruction: ${raw.trim()}`);
    const ins = hit[1](hit[0].exec(line)!.slice(0) as string[]);
    out.push(ins);
  });
  return out;
}

export type { Size };
