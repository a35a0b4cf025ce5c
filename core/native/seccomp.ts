// seccomp(2) and the raw system call door, typed. A filter applies to the calling thread and to
// everything it starts afterwards, so callers install it last, in the process that is to be confined.
import { check, koffi, lastErrno, raw } from './libc.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { PR } from '../../policy/kernel/process-control.js';
import { SyscallError } from './syscall-error.js';

const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_GET_ACTION_AVAIL = 2;
const SOCK_FILTER_SIZE = 8;
/** The kernel's BPF_MAXINSNS: longer filters are refused with EINVAL. */
const MAX_INSTRUCTIONS = 4096;

const SockFprog = koffi.struct('nsrig_sock_fprog', { len: 'uint16_t', filter: 'void *' });

export interface InstallOptions {
  /** SECCOMP_FILTER_FLAG_* bits (TSYNC 1, LOG 2, SPEC_ALLOW 4, NEW_LISTENER 8, ...). */
  flags?: number;
}

/**
 * Installs a classic-BPF filter (struct sock_filter[], 8 bytes each) on the calling thread.
 * Without CAP_SYS_ADMIN the thread needs no_new_privs first (setNoNewPrivileges). Returns the
 * system call's result: 0, or the listener fd when flags ask for SECCOMP_FILTER_FLAG_NEW_LISTENER.
 */
export function installSeccompFilter(program: Buffer, opts: InstallOptions = {}): number {
  const count = program.length / SOCK_FILTER_SIZE;
  if (!Number.isInteger(count) || count === 0 || count > MAX_INSTRUCTIONS) {
    throw new SyscallError('seccomp(SECCOMP_SET_MODE_FILTER)', 22, `${program.length}-byte program`,
      `a filter is 1..${MAX_INSTRUCTIONS} whole 8-byte instructions`);
  }
  // The filter and its header live in libc memory for the call; the kernel copies both.
  const filter: unknown = raw.malloc(program.length);
  const fprog: unknown = raw.malloc(koffi.sizeof(SockFprog));
  if (filter === null || fprog === null) {
    raw.free(filter);
    raw.free(fprog);
    throw new SyscallError('malloc', 12, 'seccomp filter');
  }
  try {
    raw.memcpy(filter, program, program.length);
    koffi.encode(fprog, SockFprog, { len: count, filter });
    const flags = opts.flags ?? 0;
    const result = Number(raw.syscall(NR.seccomp, 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, 'void *', fprog));
    if (result === -1) throw new SyscallError('seccomp(SECCOMP_SET_MODE_FILTER)', lastErrno(), `${count} instructions, flags 0x${flags.toString(16)}`);
    return result;
  } finally {
    raw.free(filter);
    raw.free(fprog);
  }
}

/** Whether the running kernel knows a SECCOMP_RET_* action (SECCOMP_GET_ACTION_AVAIL). */
export function seccompActionAvailable(action: number): boolean {
  const value = Buffer.alloc(4);
  value.writeUInt32LE(action >>> 0);
  const result = Number(raw.syscall(NR.seccomp, 'unsigned int', SECCOMP_GET_ACTION_AVAIL, 'unsigned int', 0, 'void *', value));
  if (result === 0) return true;
  const errno = lastErrno();
  if (errno === 95) return false; // EOPNOTSUPP: the action is unknown to this kernel
  throw new SyscallError('seccomp(SECCOMP_GET_ACTION_AVAIL)', errno, `action 0x${(action >>> 0).toString(16)}`);
}

export function noNewPrivileges(): boolean {
  return check(raw.prctl(PR.GET_NO_NEW_PRIVS, 0, 0, 0, 0), 'prctl(PR_GET_NO_NEW_PRIVS)') === 1;
}

export interface RawSyscallResult {
  /** The return value; -1n on failure. */
  result: bigint;
  /** errno when result is -1n, else 0. */
  errno: number;
}

/**
 * syscall(2) with up to six arguments, for probes and tests. Numbers and bigints pass as 64-bit
 * registers (negative values two's-complement); a Buffer passes as a pointer to its bytes.
 * Failure is data here, not an exception: probes want the exact errno a policy produced.
 */
export function rawSyscall(nr: number, ...args: (number | bigint | Buffer)[]): RawSyscallResult {
  if (args.length > 6) throw new RangeError(`a system call takes at most 6 arguments; got ${args.length}`);
  const variadic: unknown[] = [];
  for (const arg of args) {
    if (Buffer.isBuffer(arg)) variadic.push('void *', arg);
    else variadic.push('uint64_t', BigInt.asUintN(64, BigInt(arg)));
  }
  const value: unknown = raw.syscall(nr, ...variadic);
  const result = BigInt(value as number | bigint);
  return { result, errno: result === -1n ? lastErrno() : 0 };
}
