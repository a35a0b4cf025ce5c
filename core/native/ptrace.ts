// ptrace(2) and waiting for tracees, x86_64. Every request here must come from the thread that
// attached: the kernel ties a tracee to one tracer *thread*, so a koffi async call (which runs on a
// pool thread) gets ESRCH. Calls go through syscall(2) rather than glibc's ptrace(), whose PEEK
// requests return the word in-band and whose prototype is variadic.
import { raw, lastErrno } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { WAIT } from '../../policy/kernel/process-control.js';


export const PTRACE = {
  PEEKUSER: 3,
  CONT: 7,
  DETACH: 17,
  GETREGS: 12,
  SYSCALL: 24,
  SETOPTIONS: 0x4200,
  GETEVENTMSG: 0x4201,
  SEIZE: 0x4206,
  INTERRUPT: 0x4207,
  LISTEN: 0x4208,
  GET_SYSCALL_INFO: 0x420e,
} as const;

export const PTRACE_O = {
  TRACESYSGOOD: 0x1,
  TRACEFORK: 0x2,
  TRACEVFORK: 0x4,
  TRACECLONE: 0x8,
  TRACEEXEC: 0x10,
  TRACEVFORKDONE: 0x20,
  TRACEEXIT: 0x40,
  TRACESECCOMP: 0x80,
  EXITKILL: 0x100000,
} as const;

export const PTRACE_EVENT = {
  FORK: 1, VFORK: 2, CLONE: 3, EXEC: 4, VFORK_DONE: 5, EXIT: 6, SECCOMP: 7, STOP: 128,
} as const;

/** The stop signal of a syscall-stop when PTRACE_O_TRACESYSGOOD is set. */
export const SYSCALL_STOP_SIGNAL = 0x80 | 5;
export const SIGTRAP = 5;

/** Offsets in x86_64 struct user_regs_struct (sys/user.h); checked by test/core/tracer-native.test.ts. */
export const USER_REGS = {
  r15: 0, r14: 8, r13: 16, r12: 24, rbp: 32, rbx: 40, r11: 48, r10: 56, r9: 64, r8: 72,
  rax: 80, rcx: 88, rdx: 96, rsi: 104, rdi: 112, orig_rax: 120, rip: 128, cs: 136, eflags: 144,
  rsp: 152, ss: 160, fs_base: 168, gs_base: 176, ds: 184, es: 192, fs: 200, gs: 208,
} as const;
export const USER_REGS_SIZE = 216;
/** Registers holding system call arguments 1..6 on x86_64, in order. */
export const SYSCALL_ARG_REGISTERS = ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'] as const;



function request(name: string, req: number, tid: number, addr: number, data: number): void {
  if (Number(raw.ptraceValueSyscall(NR.ptrace, req, tid, addr, data)) === -1) {
    throw new SyscallError(`ptrace(${name})`, lastErrno(), `tid ${tid}`);
  }
}

/** Attaches without stopping the tracee; `options` are PTRACE_O_* bits. */
export function seize(pid: number, options: number): void {
  request('PTRACE_SEIZE', PTRACE.SEIZE, pid, 0, options);
}

export function setOptions(tid: number, options: number): void {
  request('PTRACE_SETOPTIONS', PTRACE.SETOPTIONS, tid, 0, options);
}

/** Restarts a stopped tracee, delivering `signal` (0 for none). */
export function cont(tid: number, signal = 0): void {
  request('PTRACE_CONT', PTRACE.CONT, tid, 0, signal);
}

/** Restarts a stopped tracee so that it stops again at the next syscall entry or exit. */
export function contToSyscall(tid: number, signal = 0): void {
  request('PTRACE_SYSCALL', PTRACE.SYSCALL, tid, 0, signal);
}

/** Leaves a group-stopped tracee stopped but lets the tracer hear of SIGCONT (PTRACE_SEIZE only). */
export function listen(tid: number): void {
  request('PTRACE_LISTEN', PTRACE.LISTEN, tid, 0, 0);
}

export function detach(tid: number, signal = 0): void {
  request('PTRACE_DETACH', PTRACE.DETACH, tid, 0, signal);
}

/** Makes a running tracee stop with PTRACE_EVENT_STOP (PTRACE_SEIZE only). */
export function interrupt(tid: number): void {
  request('PTRACE_INTERRUPT', PTRACE.INTERRUPT, tid, 0, 0);
}

const word = new BigUint64Array(1);

/** PTRACE_GETEVENTMSG: the new tid at a clone/fork event, the former tid at exec, the exit status at exit. */
export function eventMessage(tid: number): number {
  if (Number(raw.ptraceBufferSyscall(NR.ptrace, PTRACE.GETEVENTMSG, tid, 0, word)) === -1) {
    throw new SyscallError('ptrace(PTRACE_GETEVENTMSG)', lastErrno(), `tid ${tid}`);
  }
  return Number(word[0]);
}

/** One word of the tracee's struct user (PTRACE_PEEKUSER), e.g. USER_REGS.orig_rax. */
export function peekUser(tid: number, offset: number): bigint {
  if (Number(raw.ptraceBufferSyscall(NR.ptrace, PTRACE.PEEKUSER, tid, offset, word)) === -1) {
    throw new SyscallError('ptrace(PTRACE_PEEKUSER)', lastErrno(), `tid ${tid}, offset ${offset}`);
  }
  return word[0];
}

export type Registers = Record<keyof typeof USER_REGS, bigint>;

/** All general-purpose registers (PTRACE_GETREGS), unsigned 64-bit. */
export function getRegisters(tid: number): Registers {
  const buf = Buffer.alloc(USER_REGS_SIZE);
  if (Number(raw.ptraceBufferSyscall(NR.ptrace, PTRACE.GETREGS, tid, 0, buf)) === -1) {
    throw new SyscallError('ptrace(PTRACE_GETREGS)', lastErrno(), `tid ${tid}`);
  }
  const regs = {} as Registers;
  for (const [name, offset] of Object.entries(USER_REGS)) regs[name as keyof Registers] = buf.readBigUInt64LE(offset);
  return regs;
}

export const SYSCALL_INFO_OP = { NONE: 0, ENTRY: 1, EXIT: 2, SECCOMP: 3 } as const;

/** struct ptrace_syscall_info (linux/ptrace.h): 24-byte header, then the op's union member. */
const SYSCALL_INFO_SIZE = 88;

interface SyscallInfoHeader {
  /** AUDIT_ARCH_* of the call's ABI. */
  arch: number;
  instructionPointer: bigint;
  stackPointer: bigint;
}

export type SyscallInfo = SyscallInfoHeader & (
  | { op: 'entry' | 'seccomp'; nr: number; args: bigint[] }
  | { op: 'exit'; rval: bigint; isError: boolean }
  | { op: 'none' });

/**
 * Where a tracee is in a system call, from PTRACE_GET_SYSCALL_INFO (Linux 5.3): the kernel's own
 * view, so the ABI (arch) is known even for i386 calls from a 64-bit program, which registers
 * alone do not tell. Needs PTRACE_O_TRACESYSGOOD for syscall-stops to be recognised.
 */
export class SyscallInfoReader {
  private readonly buf = Buffer.alloc(SYSCALL_INFO_SIZE);

  private fetch(tid: number): number {
    if (Number(raw.ptraceBufferSyscall(NR.ptrace, PTRACE.GET_SYSCALL_INFO, tid, SYSCALL_INFO_SIZE, this.buf)) === -1) {
      throw new SyscallError('ptrace(PTRACE_GET_SYSCALL_INFO)', lastErrno(), `tid ${tid}`);
    }
    return this.buf[0];
  }

  /** The call a tracee is entering (at an entry or seccomp stop); undefined at any other stop. */
  call(tid: number): { nr: number; arch: number } | undefined {
    const op = this.fetch(tid);
    if (op !== SYSCALL_INFO_OP.ENTRY && op !== SYSCALL_INFO_OP.SECCOMP) return undefined;
    // Numbers are below 2^32 on every ABI (x32 sets bit 30), so the low half is the number.
    return { nr: this.buf.readUInt32LE(24), arch: this.buf.readUInt32LE(4) };
  }

  /** At a syscall-exit stop: did the call fail (a return value in -4095..-1)? Undefined at any other stop. */
  failed(tid: number): boolean | undefined {
    if (this.fetch(tid) !== SYSCALL_INFO_OP.EXIT) return undefined;
    return this.buf[32] !== 0;
  }

  read(tid: number): SyscallInfo {
    const op = this.fetch(tid);
    const header = { arch: this.buf.readUInt32LE(4), instructionPointer: this.buf.readBigUInt64LE(8), stackPointer: this.buf.readBigUInt64LE(16) };
    if (op === SYSCALL_INFO_OP.EXIT) return { ...header, op: 'exit', rval: this.buf.readBigInt64LE(24), isError: this.buf[32] !== 0 };
    if (op === SYSCALL_INFO_OP.ENTRY || op === SYSCALL_INFO_OP.SECCOMP) {
      const args = Array.from({ length: 6 }, (_, i) => this.buf.readBigUInt64LE(32 + 8 * i));
      return { ...header, op: op === SYSCALL_INFO_OP.ENTRY ? 'entry' : 'seccomp', nr: Number(this.buf.readBigUInt64LE(24)), args };
    }
    return { ...header, op: 'none' };
  }
}

/** What happened to a tracee. */
export type WaitStatus =
  | { kind: 'exited'; code: number }
  | { kind: 'killed'; signal: number; core: boolean }
  | { kind: 'stopped'; signal: number; event: number };

const P_ALL = 0;
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;

export type TraceeChange = WaitStatus & { tid: number };

/**
 * Waits for the calling thread's tracees only (__WALL | __WNOTHREAD), so children of other threads
 * (libuv's, the engine's pidfd-waited ones) are never consumed here.
 *
 * A change is looked at without consuming it (WNOWAIT). A ptrace-stop needs no consuming: the
 * restart request clears it (the kernel resets the stop code), which saves a wait per stop. Deaths,
 * group-stops (PTRACE_LISTEN keeps the stop code) and exec stops (see the tracer's stop loop) are
 * consumed with consume().
 */
export class TraceeWaiter {
  private readonly info = Buffer.alloc(128);
  private readonly status = new Int32Array(1);

  /**
   * The next tracee with something to report; undefined when `block` is false and nothing is
   * pending. Throws SyscallError ECHILD when no tracee is left.
   */
  next(block: boolean): TraceeChange | undefined {
    const flags = WAIT.WEXITED | WAIT.WSTOPPED | WAIT.WNOWAIT | WAIT.WALL | WAIT.WNOTHREAD | (block ? 0 : WAIT.WNOHANG);
    this.info.writeInt32LE(0, 16);
    for (;;) {
      if (raw.waitid(P_ALL, 0, this.info, flags) === 0) break;
      const errno = lastErrno();
      if (errno !== 4 /* EINTR */) throw new SyscallError('waitid', errno, 'tracees');
    }
    const tid = this.info.readInt32LE(16);
    if (tid === 0) return undefined;
    const code = this.info.readInt32LE(8);
    // si_status holds the whole stop code, as waitpid's status does in bits 8..23: the signal,
    // 0x80 for a syscall-stop, and the PTRACE_EVENT_* number above them.
    const status = this.info.readInt32LE(24);
    if (code === CLD_EXITED) return { tid, kind: 'exited', code: status };
    if (code === CLD_KILLED || code === CLD_DUMPED) return { tid, kind: 'killed', signal: status, core: code === CLD_DUMPED };
    return { tid, kind: 'stopped', signal: status & 0xff, event: (status >> 8) & 0xff };
  }

  /** Consumes the change of `tid` that next() reported. */
  consume(tid: number): void {
    for (;;) {
      const got = raw.waitpid(tid, this.status, WAIT.WALL | WAIT.WNOTHREAD);
      if (got === tid) return;
      const errno = lastErrno();
      if (got === -1 && errno !== 4) throw new SyscallError('waitpid', errno, `tid ${tid}`);
    }
  }
}

const SIGCHLD = 17;
const SIG_BLOCK = 0;

/**
 * Every tracee stop sends SIGCHLD to the tracer's process. Blocked in the tracer thread, it goes to
 * another thread (or is ignored) instead of interrupting the tracer's waits.
 */
export function blockChildSignalInThisThread(): void {
  const set = Buffer.alloc(128);
  set.writeUInt8(1 << ((SIGCHLD - 1) % 8), Math.floor((SIGCHLD - 1) / 8));
  const rc = raw.sigprocmask(SIG_BLOCK, set, null);
  if (rc !== 0) throw new SyscallError('pthread_sigmask', rc, 'SIG_BLOCK SIGCHLD');
}
