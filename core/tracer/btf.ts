// Where a field sits in a kernel struct, read from the kernel's own BTF (/sys/kernel/btf/vmlinux,
// format in Documentation/bpf/btf.rst). The tracer's fork program reads the new task's tgid from
// its task_struct, whose layout differs from build to build; libbpf would relocate the access
// (CO-RE), nsrig looks the offset up once and assembles it in.
import fs from 'node:fs';

const MAGIC = 0xeb9f;
const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11,
  FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 } as const;

export class BtfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BtfError';
  }
}

interface Member {
  name: string;
  type: number;
  /** Bits from the start of the struct. */
  bitOffset: number;
}

interface Composite {
  name: string;
  members: Member[];
}

/** The structs and unions of a BTF blob, by type id (1-based as in BTF). */
export function parseComposites(btf: Buffer): Map<number, Composite> {
  if (btf.length < 24 || btf.readUInt16LE(0) !== MAGIC) throw new BtfError('not a little-endian BTF blob (magic 0xeb9f)');
  const hdrLen = btf.readUInt32LE(4);
  const typeStart = hdrLen + btf.readUInt32LE(8);
  const typeEnd = typeStart + btf.readUInt32LE(12);
  const strStart = hdrLen + btf.readUInt32LE(16);
  const str = (off: number): string => {
    const at = strStart + off;
    return btf.toString('latin1', at, btf.indexOf(0, at));
  };
  const out = new Map<number, Composite>();
  let id = 1;
  for (let at = typeStart; at < typeEnd; id++) {
    const nameOff = btf.readUInt32LE(at);
    const info = btf.readUInt32LE(at + 4);
    const vlen = info & 0xffff;
    const kind = (info >>> 24) & 0x1f;
    const kindFlag = info >>> 31;
    at += 12;
    switch (kind) {
      case KIND.INT: case KIND.VAR: case KIND.DECL_TAG: at += 4; break;
      case KIND.ARRAY: at += 12; break;
      case KIND.STRUCT: case KIND.UNION: {
        const members: Member[] = [];
        for (let i = 0; i < vlen; i++, at += 12) {
          const raw = btf.readUInt32LE(at + 8);
          members.push({ name: str(btf.readUInt32LE(at)), type: btf.readUInt32LE(at + 4), bitOffset: kindFlag ? raw & 0xffffff : raw });
        }
        out.set(id, { name: str(nameOff), members });
        break;
      }
      case KIND.ENUM: case KIND.FUNC_PROTO: at += 8 * vlen; break;
      case KIND.DATASEC: case KIND.ENUM64: at += 12 * vlen; break;
      case KIND.PTR: case KIND.FWD: case KIND.TYPEDEF: case KIND.VOLATILE: case KIND.CONST: case KIND.RESTRICT:
      case KIND.FUNC: case KIND.FLOAT: case KIND.TYPE_TAG: break;
      default: throw new BtfError(`BTF type ${id} has kind ${kind}, which this reader does not know`);
    }
  }
  return out;
}

/** Byte offset of `field` in `struct name`, looking into anonymous struct and union members. */
export function fieldOffset(composites: Map<number, Composite>, struct: string, field: string): number {
  const candidates = [...composites.values()].filter((c) => c.name === struct);
  const search = (c: Composite, base: number): number | undefined => {
    for (const m of c.members) {
      if (m.name === field) return base + m.bitOffset;
      const inner = m.name === '' ? composites.get(m.type) : undefined;
      const found = inner && search(inner, base + m.bitOffset);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  for (const c of candidates) {
    const bits = search(c, 0);
    if (bits !== undefined) {
      if (bits % 8 !== 0) throw new BtfError(`${struct}.${field} is a bit field`);
      return bits / 8;
    }
  }
  throw new BtfError(`the kernel's BTF has no ${struct}.${field}`);
}

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
let taskTgid: number | undefined;

/** offsetof(struct task_struct, tgid) in the running kernel. */
export function taskTgidOffset(): number {
  if (taskTgid === undefined) {
    let btf: Buffer;
    try {
      btf = fs.readFileSync(VMLINUX_BTF);
    } catch (e) {
      throw new BtfError(`cannot read ${VMLINUX_BTF} (a kernel built with CONFIG_DEBUG_INFO_BTF has it): ${(e as Error).message}`);
    }
    taskTgid = fieldOffset(parseComposites(btf), 'task_struct', 'tgid');
  }
  return taskTgid;
}
