// bpf(2) and perf_event_open(2), typed: maps, program loading with the verifier's log, and the
// ways nsrig attaches programs (raw tracepoint, perf tracepoint event, cgroup). Every object is a
// file descriptor; the kernel detaches a program and frees a map when the last fd to it closes, so
// closing is the whole cleanup, and a SIGKILLed nsrig leaves nothing attached.
import fs from 'node:fs';
import { raw, lastErrno } from './libc.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { SyscallError } from './syscall-error.js';
import { closeFd } from './process.js';

const CMD = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10, RAW_TRACEPOINT_OPEN: 17,
} as const;
const CMD_NAMES = new Map<number, string>(Object.entries(CMD).map(([k, v]) => [v, `BPF_${k}`]));

export const MAP_TYPE = { hash: 1, array: 2, perf_event_array: 4, percpu_hash: 5, percpu_array: 6, ringbuf: 27 } as const;
export type MapType = keyof typeof MAP_TYPE;
export const PROG_TYPE = { socket_filter: 1, kprobe: 2, tracepoint: 5, cgroup_device: 15, raw_tracepoint: 17 } as const;
export type ProgramType = keyof typeof PROG_TYPE;
export const ATTACH_TYPE = { cgroup_device: 6 } as const;
/** BPF_F_* flags of map updates. */
export const UPDATE = { ANY: 0, NOEXIST: 1, EXIST: 2 } as const;

const ENOENT = 2;
const ENOSPC = 28;
const PERF_TYPE_TRACEPOINT = 2;
const PERF_SAMPLE_RAW = 1 << 10;
const PERF_ATTR_SIZE = 136;
const PERF_FLAG_FD_CLOEXEC = 8;
const PERF_EVENT_IOC_ENABLE = 0x2400;
const PERF_EVENT_IOC_SET_BPF = 0x40042408;
/** The verifier's log grows to this before nsrig gives up on showing it whole. */
const MAX_LOG_BYTES = 1 << 28;

/** A program the verifier refused; `log` is its whole log, the reason in its last lines. */
export class ProgramRefusedError extends SyscallError {
  readonly log: string;
  readonly program: string;
  constructor(program: string, errno: number, log: string) {
    super('bpf(BPF_PROG_LOAD)', errno, program, 'the verifier refused the program');
    this.name = 'ProgramRefusedError';
    this.log = log;
    this.program = program;
    this.message = `${this.message}; verifier log:\n${log.trimEnd()}`;
  }
}

function address(buf: Buffer | null): bigint {
  return buf === null ? 0n : BigInt(raw.bufferAddress(buf, buf, 0) as number);
}

/** bpf(2) with an attr the caller filled; `keep` holds the buffers attr points into until it returns. */
function bpf(cmd: number, attr: Buffer, object: string, keep: unknown[] = []): number {
  const result = Number(raw.syscall(NR.bpf, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
  void keep;
  if (result < 0) throw new SyscallError(`bpf(${CMD_NAMES.get(cmd)})`, lastErrno(), object);
  return result;
}

function bpfErrno(cmd: number, attr: Buffer, keep: unknown[] = []): number {
  const result = Number(raw.syscall(NR.bpf, 'int', cmd, 'void *', attr, 'unsigned int', attr.length));
  void keep;
  return result < 0 ? lastErrno() : 0;
}

let possibleCpus: number | undefined;

/** CPUs the kernel may ever bring up: a per-CPU map holds one value for each. */
export function possibleCpuCount(): number {
  if (possibleCpus === undefined) {
    const text = fs.readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    possibleCpus = text.split(',').reduce((n, range) => {
      const [lo, hi] = range.split('-').map(Number);
      return n + (hi === undefined ? 1 : hi - lo! + 1);
    }, 0);
  }
  return possibleCpus;
}

export interface MapSpec {
  type: MapType;
  /** At most 15 characters, shown by bpftool. */
  name: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags?: number;
}

/** A map: its fd and the sizes its calls need. Per-CPU maps read and write one value per possible CPU. */
export class BpfMap {
  private constructor(readonly fd: number, readonly spec: MapSpec) {}

  static create(spec: MapSpec): BpfMap {
    const attr = Buffer.alloc(72);
    attr.writeUInt32LE(MAP_TYPE[spec.type], 0);
    attr.writeUInt32LE(spec.keySize, 4);
    attr.writeUInt32LE(spec.valueSize, 8);
    attr.writeUInt32LE(spec.maxEntries, 12);
    attr.writeUInt32LE(spec.flags ?? 0, 16);
    attr.write(spec.name.slice(0, 15), 28, 'latin1');
    return new BpfMap(bpf(CMD.MAP_CREATE, attr, `${spec.type} map ${spec.name}`), spec);
  }

  get perCpu(): boolean {
    return this.spec.type === 'percpu_array' || this.spec.type === 'percpu_hash';
  }

  /** Bytes of a value as lookup returns it: per-CPU values are 8-byte aligned, one per possible CPU. */
  get valueBytes(): number {
    return this.perCpu ? Math.ceil(this.spec.valueSize / 8) * 8 * possibleCpuCount() : this.spec.valueSize;
  }

  private elementAttr(key: Buffer, second: Buffer | null, flags = 0): Buffer {
    if (key.length !== this.spec.keySize) throw new RangeError(`map ${this.spec.name}: a key is ${this.spec.keySize} bytes; got ${key.length}`);
    const attr = Buffer.alloc(32);
    attr.writeUInt32LE(this.fd, 0);
    attr.writeBigUInt64LE(address(key), 8);
    attr.writeBigUInt64LE(address(second), 16);
    attr.writeBigUInt64LE(BigInt(flags), 24);
    return attr;
  }

  /** The value under `key`, or undefined when there is none. */
  lookup(key: Buffer): Buffer | undefined {
    const value = Buffer.alloc(this.valueBytes);
    const attr = this.elementAttr(key, value);
    const errno = bpfErrno(CMD.MAP_LOOKUP_ELEM, attr, [key, value]);
    if (errno === ENOENT) return undefined;
    if (errno !== 0) throw new SyscallError('bpf(BPF_MAP_LOOKUP_ELEM)', errno, `map ${this.spec.name}`);
    return value;
  }

  update(key: Buffer, value: Buffer, flags: number = UPDATE.ANY): void {
    if (value.length !== this.valueBytes) throw new RangeError(`map ${this.spec.name}: a value is ${this.valueBytes} bytes; got ${value.length}`);
    bpf(CMD.MAP_UPDATE_ELEM, this.elementAttr(key, value, flags), `map ${this.spec.name}`, [key, value]);
  }

  /** False when there was no such key. */
  delete(key: Buffer): boolean {
    const errno = bpfErrno(CMD.MAP_DELETE_ELEM, this.elementAttr(key, null), [key]);
    if (errno === ENOENT) return false;
    if (errno !== 0) throw new SyscallError('bpf(BPF_MAP_DELETE_ELEM)', errno, `map ${this.spec.name}`);
    return true;
  }

  /** The key after `key` (the first with undefined), or undefined at the end. */
  nextKey(key: Buffer | undefined): Buffer | undefined {
    const next = Buffer.alloc(this.spec.keySize);
    const attr = key === undefined ? this.elementAttr(Buffer.alloc(this.spec.keySize), next) : this.elementAttr(key, next);
    if (key === undefined) attr.writeBigUInt64LE(0n, 8);
    const errno = bpfErrno(CMD.MAP_GET_NEXT_KEY, attr, [key, next]);
    if (errno === ENOENT) return undefined;
    if (errno !== 0) throw new SyscallError('bpf(BPF_MAP_GET_NEXT_KEY)', errno, `map ${this.spec.name}`);
    return next;
  }

  /** Every key in the map's order. Keys deleted meanwhile may restart the walk (the kernel's rule). */
  keys(): Buffer[] {
    const out: Buffer[] = [];
    for (let k = this.nextKey(undefined); k !== undefined; k = this.nextKey(k)) out.push(k);
    return out;
  }

  /** Splits a per-CPU value into one buffer per CPU. */
  perCpuValues(value: Buffer): Buffer[] {
    const stride = Math.ceil(this.spec.valueSize / 8) * 8;
    const out: Buffer[] = [];
    for (let at = 0; at < value.length; at += stride) out.push(value.subarray(at, at + this.spec.valueSize));
    return out;
  }

  close(): void {
    closeFd(this.fd);
  }
}

export interface ProgramSpec {
  type: ProgramType;
  /** At most 15 characters, shown by bpftool and in errors. */
  name: string;
  /** Encoded instructions (policy/ebpf encode, maps relocated). */
  instructions: Buffer;
  /** GPL lets a program call the GPL-only helpers (probe_read_kernel, ...). */
  license?: string;
  expectedAttachType?: number;
}

/**
 * Loads a program and returns its fd. A refusal is retried with the verifier's log on, the buffer
 * growing until the log fits, and thrown as ProgramRefusedError carrying the whole log.
 */
export function loadProgram(spec: ProgramSpec): number {
  const license = Buffer.from(`${spec.license ?? 'GPL'}\0`, 'latin1');
  const attempt = (logLevel: number, log: Buffer | null): { fd: number; errno: number } => {
    const attr = Buffer.alloc(144);
    attr.writeUInt32LE(PROG_TYPE[spec.type], 0);
    attr.writeUInt32LE(spec.instructions.length / 8, 4);
    attr.writeBigUInt64LE(address(spec.instructions), 8);
    attr.writeBigUInt64LE(address(license), 16);
    attr.writeUInt32LE(logLevel, 24);
    attr.writeUInt32LE(log?.length ?? 0, 28);
    attr.writeBigUInt64LE(address(log), 32);
    attr.write(spec.name.slice(0, 15), 48, 'latin1');
    attr.writeUInt32LE(spec.expectedAttachType ?? 0, 68);
    const fd = Number(raw.syscall(NR.bpf, 'int', CMD.PROG_LOAD, 'void *', attr, 'unsigned int', attr.length));
    void [spec.instructions, license, log];
    return fd < 0 ? { fd, errno: lastErrno() } : { fd, errno: 0 };
  };
  const first = attempt(0, null);
  if (first.fd >= 0) return first.fd;
  for (let size = 1 << 20; ; size *= 2) {
    const log = Buffer.alloc(size);
    const again = attempt(1, log);
    if (again.fd >= 0) return again.fd; // accepted on the second try: nothing to show
    const text = log.subarray(0, Math.max(0, log.indexOf(0))).toString('utf8');
    if (again.errno !== ENOSPC || size >= MAX_LOG_BYTES) {
      throw new ProgramRefusedError(spec.name, first.errno, again.errno === ENOSPC ? `${text}\n(the log was cut at ${size} bytes)` : text);
    }
  }
}

/** Attaches a raw-tracepoint program by tracepoint name ("sys_enter"); closing the fd detaches it. */
export function attachRawTracepoint(programFd: number, tracepoint: string): number {
  const name = Buffer.from(`${tracepoint}\0`, 'latin1');
  const attr = Buffer.alloc(16);
  attr.writeBigUInt64LE(address(name), 0);
  attr.writeUInt32LE(programFd, 8);
  return bpf(CMD.RAW_TRACEPOINT_OPEN, attr, tracepoint, [name]);
}

/**
 * Attaches a tracepoint program to a tracefs event id (events/<group>/<name>/id) through a perf
 * event: perf_event_open, PERF_EVENT_IOC_SET_BPF, PERF_EVENT_IOC_ENABLE. Returns the perf event fd;
 * closing it detaches the program. One event on CPU 0 serves every CPU: the program hangs off the
 * tracepoint itself.
 */
export function attachTracepointEvent(programFd: number, eventId: number): number {
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  attr.writeUInt32LE(PERF_TYPE_TRACEPOINT, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(BigInt(eventId), 8);
  attr.writeBigUInt64LE(1n, 16); // sample_period
  attr.writeBigUInt64LE(BigInt(PERF_SAMPLE_RAW), 24);
  attr.writeUInt32LE(1, 48); // wakeup_events
  const fd = Number(raw.syscall(NR.perf_event_open, 'void *', attr, 'int', -1, 'int', 0, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
  if (fd < 0) throw new SyscallError('perf_event_open', lastErrno(), `tracepoint id ${eventId}`);
  try {
    if (raw.ioctl(fd, PERF_EVENT_IOC_SET_BPF, 'int', programFd) === -1) throw new SyscallError('ioctl(PERF_EVENT_IOC_SET_BPF)', lastErrno(), `tracepoint id ${eventId}`);
    if (raw.ioctl(fd, PERF_EVENT_IOC_ENABLE, 'int', 0) === -1) throw new SyscallError('ioctl(PERF_EVENT_IOC_ENABLE)', lastErrno(), `tracepoint id ${eventId}`);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return fd;
}

/** BPF_PROG_ATTACH of a program to a cgroup (an fd of its cgroup v2 directory). */
export function attachToCgroup(programFd: number, cgroupFd: number, attachType: number, flags = 0): void {
  const attr = Buffer.alloc(20);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(programFd, 4);
  attr.writeUInt32LE(attachType, 8);
  attr.writeUInt32LE(flags, 12);
  bpf(CMD.PROG_ATTACH, attr, `cgroup fd ${cgroupFd}`);
}

export function detachFromCgroup(programFd: number, cgroupFd: number, attachType: number): void {
  const attr = Buffer.alloc(20);
  attr.writeUInt32LE(cgroupFd, 0);
  attr.writeUInt32LE(programFd, 4);
  attr.writeUInt32LE(attachType, 8);
  bpf(CMD.PROG_DETACH, attr, `cgroup fd ${cgroupFd}`);
}

export interface TestRunResult {
  /** r0 when the program exited. */
  returnValue: number;
  /** The packet as the program left it. */
  dataOut: Buffer;
}

/** BPF_PROG_TEST_RUN: runs the program once in the kernel on `data` (a packet for socket filters). */
export function testRun(programFd: number, data: Buffer): TestRunResult {
  const out = Buffer.alloc(Math.max(data.length, 64) + 256);
  const attr = Buffer.alloc(80);
  attr.writeUInt32LE(programFd, 0);
  attr.writeUInt32LE(data.length, 8);
  attr.writeUInt32LE(out.length, 12);
  attr.writeBigUInt64LE(address(data), 16);
  attr.writeBigUInt64LE(address(out), 24);
  attr.writeUInt32LE(1, 32);
  bpf(CMD.PROG_TEST_RUN, attr, `program fd ${programFd}`, [data, out]);
  return { returnValue: attr.readUInt32LE(4), dataOut: out.subarray(0, attr.readUInt32LE(12)) };
}
