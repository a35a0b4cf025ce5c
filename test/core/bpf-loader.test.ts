// The eBPF loader against the running kernel: programs assembled by policy/ebpf load and run
// (BPF_PROG_TEST_RUN, a raw tracepoint, a perf tracepoint event), maps of every kind nsrig uses
// round-trip, a refused program brings the verifier's whole log, and no fd is left open.
import test from 'ava';
import fs from 'node:fs';
import { Assembler } from '../../policy/ebpf/assembler.js';
import { encode } from '../../policy/ebpf/isa.js';
import {
  BpfMap, ProgramRefusedError, UPDATE, attachRawTracepoint, attachTracepointEvent, loadProgram,
  possibleCpuCount, testRun,
} from '../../core/native/bpf.js';
import { closeFd } from '../../core/native/process.js';
import { mount, unmountDetached } from '../../core/native/mount.js';
import { rawSyscall } from '../../core/native/seccomp.js';

const GETPPID = 110;

function openFds(): string[] {
  return fs.readdirSync('/proc/self/fd').sort();
}

const fdsBefore = openFds();
test.after.always('every map, program and link fd was closed', (t) => {
  t.deepEqual(openFds(), fdsBefore);
});

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
};

test.serial('a socket filter adds each packet\'s length to an array map and returns twice the length', (t) => {
  const totals = BpfMap.create({ type: 'array', name: 'totals', keySize: 4, valueSize: 8, maxEntries: 1 });
  try {
    const a = new Assembler();
    const out = a.label('out');
    a.ldx('W', 'r7', 'r1', 0); // __sk_buff.len
    a.st('W', 'r10', -4, 0);
    a.lookup('totals', -4);
    a.jump('jeq', 'r0', 0, out);
    a.atomic('add', 'DW', 'r0', 0, 'r7');
    a.place(out);
    a.mov64('r0', 'r7');
    a.alu64('lsh', 'r0', 1);
    a.exit();
    const fd = loadProgram({ type: 'socket_filter', name: 'len_total', instructions: encode(a.assemble(), new Map([['totals', totals.fd]])) });
    try {
      // The test run hands the filter an skb whose Ethernet header (14 bytes) is already pulled.
      const packet = Buffer.alloc(60, 0xab);
      t.is(testRun(fd, packet).returnValue, 2 * 46);
      t.is(testRun(fd, packet).returnValue, 2 * 46);
      t.is(totals.lookup(u32(0))!.readBigUInt64LE(0), 2n * 46n);
    } finally {
      closeFd(fd);
    }
  } finally {
    totals.close();
  }
});

test.serial('hash and array maps, plain and per-CPU: update, lookup, next key, delete', (t) => {
  const cpus = possibleCpuCount();
  for (const type of ['hash', 'percpu_hash', 'array', 'percpu_array'] as const) {
    const m = BpfMap.create({ type, name: `t_${type}`, keySize: 4, valueSize: 8, maxEntries: 4 });
    try {
      const value = (n: bigint) => (m.perCpu ? Buffer.concat(Array.from({ length: cpus }, (_, i) => u64(n + BigInt(i)))) : u64(n));
      m.update(u32(2), value(40n));
      m.update(u32(3), value(7n), UPDATE.ANY);
      t.deepEqual(m.lookup(u32(2)), value(40n), type);
      if (m.perCpu) t.deepEqual(m.perCpuValues(m.lookup(u32(3))!).map((b) => b.readBigUInt64LE(0)), Array.from({ length: cpus }, (_, i) => 7n + BigInt(i)));
      if (type.endsWith('hash')) {
        t.throws(() => m.update(u32(2), value(1n), UPDATE.NOEXIST), { message: /EEXIST/ });
        t.deepEqual(m.keys().map((k) => k.readUInt32LE(0)).sort(), [2, 3]);
        t.true(m.delete(u32(2)));
        t.false(m.delete(u32(2)));
        t.is(m.lookup(u32(2)), undefined);
      } else {
        t.deepEqual(m.keys().map((k) => k.readUInt32LE(0)), [0, 1, 2, 3], 'an array has every index');
        t.throws(() => m.update(u32(4), value(1n)), { message: /E2BIG|EINVAL/ });
      }
    } finally {
      m.close();
    }
  }
  const ring = BpfMap.create({ type: 'ringbuf', name: 't_ring', keySize: 0, valueSize: 0, maxEntries: 4096 * 4 });
  ring.close();
  t.pass();
});

test.serial('a refused program: ProgramRefusedError carries the verifier\'s whole log', (t) => {
  const a = new Assembler();
  a.mov64('r0', 'r2'); // r2 was never written
  a.exit();
  const e = t.throws(() => loadProgram({ type: 'socket_filter', name: 'bad_read', instructions: encode(a.assemble()) }), { instanceOf: ProgramRefusedError });
  t.is(e!.code, 'EACCES');
  t.regex(e!.log, /R2 !read_ok/);
  t.regex(e!.log, /0: \(bf\) r0 = r2/, 'the log lists the instruction it stopped at');
  t.true(e!.message.includes(e!.log.trimEnd()), 'the message shows the log');
});

/** A program counting this process's getppid calls, reading the call number at `idOffset` of its context. */
function countGetppid(idOffset: number, mapFd: number) {
  const a = new Assembler();
  const out = a.label('out');
  a.ldx('DW', 'r7', 'r1', idOffset);
  a.call('get_current_pid_tgid');
  a.alu64('rsh', 'r0', 32);
  a.jump('jne', 'r0', process.pid, out);
  a.jump('jne', 'r7', GETPPID, out);
  a.st('W', 'r10', -4, 0);
  a.lookup('count', -4);
  a.jump('jeq', 'r0', 0, out);
  a.mov64('r1', 1);
  a.atomic('add', 'DW', 'r0', 0, 'r1');
  a.place(out);
  a.mov64('r0', 0);
  a.exit();
  return encode(a.assemble(), new Map([['count', mapFd]]));
}

function sumPerCpu(m: BpfMap): bigint {
  return m.perCpuValues(m.lookup(u32(0))!).reduce((n, b) => n + b.readBigUInt64LE(0), 0n);
}

test.serial('a raw tracepoint on sys_enter counts this process\'s getppid calls in a per-CPU array, until detached', (t) => {
  const count = BpfMap.create({ type: 'percpu_array', name: 'count', keySize: 4, valueSize: 8, maxEntries: 1 });
  try {
    // Raw sys_enter context: u64 args[2] = { struct pt_regs *, long id }.
    const fd = loadProgram({ type: 'raw_tracepoint', name: 'getppid_raw', instructions: countGetppid(8, count.fd) });
    try {
      const link = attachRawTracepoint(fd, 'sys_enter');
      for (let i = 0; i < 5; i++) rawSyscall(GETPPID);
      closeFd(link);
      rawSyscall(GETPPID);
      t.is(sumPerCpu(count), 5n);
    } finally {
      closeFd(fd);
    }
  } finally {
    count.close();
  }
});

const TRACEFS = '/sys/kernel/tracing';

test.serial('a tracepoint program attached with perf_event_open and PERF_EVENT_IOC_SET_BPF counts the same', (t) => {
  // tracefs gives the event's id and its record layout; mounted for this test when the host has not.
  const mounted = !fs.existsSync(`${TRACEFS}/events`);
  if (mounted) mount('tracefs', TRACEFS, 'tracefs', 0);
  try {
    const event = `${TRACEFS}/events/raw_syscalls/sys_enter`;
    const id = Number(fs.readFileSync(`${event}/id`, 'utf8'));
    const idOffset = Number(/field:long id;\s*offset:(\d+);/.exec(fs.readFileSync(`${event}/format`, 'utf8'))![1]);
    const count = BpfMap.create({ type: 'percpu_array', name: 'count', keySize: 4, valueSize: 8, maxEntries: 1 });
    try {
      const fd = loadProgram({ type: 'tracepoint', name: 'getppid_tp', instructions: countGetppid(idOffset, count.fd) });
      try {
        const link = attachTracepointEvent(fd, id);
        for (let i = 0; i < 3; i++) rawSyscall(GETPPID);
        closeFd(link);
        rawSyscall(GETPPID);
        t.is(sumPerCpu(count), 3n);
      } finally {
        closeFd(fd);
      }
    } finally {
      count.close();
    }
  } finally {
    if (mounted) unmountDetached(TRACEFS);
  }
});
