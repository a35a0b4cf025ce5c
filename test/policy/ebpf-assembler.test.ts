// The eBPF assembler's encoding, label resolution and the text form: every 8-byte instruction
// (named or not) and every assembled program survives bytes → text → bytes unchanged. Whether the
// kernel agrees with the encoding is test/core/bpf-loader.test.ts's part.
import test from 'ava';
import fc from 'fast-check';
import { Assembler } from '../../policy/ebpf/assembler.js';
import { decode, encode, EncodingError, type Instruction } from '../../policy/ebpf/isa.js';
import { disassemble, instructionText, parse } from '../../policy/ebpf/disassemble.js';

function sample(): Instruction[] {
  const a = new Assembler();
  const done = a.label('done');
  const loop = a.label('loop');
  a.mov64('r6', 'r1');
  a.call('get_current_cgroup_id');
  a.ldImm64('r1', 0x1234_5678_9abcn);
  a.jump('jne', 'r0', 'r1', done);
  a.st('W', 'r10', -4, 7);
  a.mov64('r2', 'r10');
  a.add64('r2', -4);
  a.ldMap('r1', 'counts');
  a.call('map_lookup_elem');
  a.jump('jeq', 'r0', 0, done);
  a.mov64('r1', 1);
  a.atomic('add', 'DW', 'r0', 0, 'r1');
  a.place(loop);
  a.alu32('rsh', 'r1', 1);
  a.jump32('jgt', 'r1', 0, loop);
  a.endian('be', 16, 'r1');
  a.ldx('DW', 'r3', 'r6', 8);
  a.stx('B', 'r10', -16, 'r3');
  a.place(done);
  a.mov64('r0', 0);
  a.exit();
  return a.assemble();
}

test('labels resolve to slot offsets: a 64-bit load counts two slots, backward jumps are negative', (t) => {
  const p = sample();
  const text = disassemble(p);
  t.regex(text, /^0004: jne r0, r1, \+14 +; to 0019$/m);
  t.regex(text, /^0015: jgt32 r1, 0, -2 +; to 0014$/m);
  t.regex(text, /^0008: lddw r1, map:counts$/m);
  t.regex(text, /^0013: lock_add64 \[r0\+0\], r1$/m);
  t.regex(text, /^0019: mov64 r0, 0$/m);
  t.regex(text, /^0001: call get_current_cgroup_id$/m);
  t.is(encode(p, new Map([['counts', 5]])).length, (p.length + 2) * 8);
});

test('an assembled program: text parses back to the same instructions, bytes decode back to the same bytes', (t) => {
  const p = sample();
  t.deepEqual(parse(disassemble(p)), p);
  const bytes = encode(p, new Map([['counts', 7]]));
  const decoded = decode(bytes);
  t.is(decoded[7]!.imm64, 7n, 'the map reference carries the fd it was relocated to');
  t.regex(disassemble(decoded), /lddw r1, map_fd:7/);
  t.deepEqual(encode(parse(disassemble(decoded))), bytes);
});

test('a map reference without an fd is refused, not loaded half-relocated', (t) => {
  const e = t.throws(() => encode(sample()), { instanceOf: EncodingError });
  t.regex(e!.message, /map "counts" has no fd/);
});

test('a label never placed, or placed twice, is an error naming it', (t) => {
  const a = new Assembler();
  a.ja(a.label('nowhere'));
  t.throws(() => a.assemble(), { message: /label nowhere was never placed/ });
  const b = new Assembler();
  const l = b.label('twice');
  b.place(l);
  b.place(l);
  t.throws(() => b.assemble(), { message: /label twice placed twice/ });
});

test('an immediate wider than 32 bits is refused; an unsigned 32-bit one is kept as the kernel reads it', (t) => {
  t.throws(() => new Assembler().mov64('r0', 2 ** 32), { message: /does not fit 32 bits/ });
  const a = new Assembler();
  a.mov64('r0', 0xffffffff);
  t.is(a.assemble()[0]!.imm, -1);
});

test('any 8-byte instruction, named or raw, goes through text and back unchanged', (t) => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
    const buf = Buffer.from(bytes);
    if (buf[0] === 0x18) return; // the 64-bit load needs its second half: covered below
    const [ins] = decode(buf);
    const back = parse(instructionText(ins!));
    t.deepEqual(encode(back), buf, instructionText(ins!));
  }), { numRuns: 5000 });
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 15 }), (bytes, src) => {
    const buf = Buffer.from(bytes);
    buf[0] = 0x18;
    buf[1] = (src << 4) | (buf[1]! & 0x0f);
    buf.writeUInt16LE(0, 2);
    buf.fill(0, 8, 12);
    const [ins] = decode(buf);
    t.deepEqual(encode(parse(instructionText(ins!))), buf, instructionText(ins!));
  }), { numRuns: 1000 });
});
