// The ptrace layer under the tracer, against the kernel and glibc's headers: the user_regs_struct
// offsets agree with sys/user.h and with the kernel's own PTRACE_GET_SYSCALL_INFO view of the same
// stop; and the tracer's seccomp filter has the shape its comments promise.
import test from 'ava';
import fs from 'node:fs';
import {
  SYSCALL_ARG_REGISTERS, SyscallInfoReader, TraceeWaiter, USER_REGS, USER_REGS_SIZE, PTRACE_O,
  contToSyscall, getRegisters, interrupt, peekUser, seize, type SyscallInfo, type TraceeChange,
} from '../../core/native/ptrace.js';
import { cloneExec, closeFd, makePipe, waitForExit, writeAll } from '../../core/native/process.js';
import { SyscallError } from '../../core/native/syscall-error.js';
import { traceFilter, UnknownSyscallError } from '../../core/tracer/filter.js';
import { decode } from '../../policy/seccomp/bpf.js';
import { SECCOMP_RET } from '../../policy/seccomp/actions.js';
import { syscallNumber } from '../../policy/kernel/syscall-table.js';
import { CStructLayouts } from './c-struct-layout.js';
import { childrenOf } from '../../harness/host-leftovers.js';

test.afterEach.always((t) => {
  t.deepEqual(childrenOf(), [], 'a traced child was left behind');
});

const USER_H = '/usr/include/x86_64-linux-gnu/sys/user.h';

(fs.existsSync(USER_H) ? test : test.skip)('USER_REGS is struct user_regs_struct as glibc\'s sys/user.h declares it', (t) => {
  const text = fs.readFileSync(USER_H, 'utf8');
  const struct = /struct user_regs_struct\s*\{[^}]*\};/.exec(text.slice(text.indexOf('#ifdef __x86_64__')));
  if (!struct) return t.fail(`${USER_H} has no x86_64 struct user_regs_struct`);
  const h = new CStructLayouts([struct[0]]);
  t.is(h.sizeOf('struct user_regs_struct'), USER_REGS_SIZE);
  for (const [name, offset] of Object.entries(USER_REGS)) t.is(h.field('struct user_regs_struct', name).offset, offset, name);
});

/** Steps `tid` from stop to stop with PTRACE_SYSCALL until `want` accepts one; returns what it saw there. */
function stepUntil(waiter: TraceeWaiter, info: SyscallInfoReader, tid: number, want: (i: SyscallInfo) => boolean): SyscallInfo {
  for (let stops = 0; stops < 100_000; stops++) {
    const change: TraceeChange = waiter.next(true)!;
    if (change.tid !== tid || change.kind !== 'stopped') throw new Error(`unexpected change ${JSON.stringify(change)}`);
    const i = info.read(tid);
    if (want(i)) return i;
    contToSyscall(tid, change.event === 0 && change.signal !== 0x85 ? change.signal : 0);
  }
  throw new Error('the awaited system call never came');
}

test.serial('at a syscall stop the registers hold what PTRACE_GET_SYSCALL_INFO reports', async (t) => {
  // getppid ignores its arguments, so six distinct values reach the registers unchanged.
  const script = 'import ctypes; ctypes.CDLL(None).syscall(110, 11, 22, 33, 44, 55, 66)';
  const [r, w] = makePipe();
  const child = cloneExec({ path: '/usr/bin/python3', argv: ['python3', '-S', '-c', script], envp: [], namespaceFlags: 0, inheritFds: [], waitFd: r });
  closeFd(r);
  const exited = waitForExit(child.pidfd);
  const waiter = new TraceeWaiter();
  const info = new SyscallInfoReader();
  try {
    seize(child.pid, PTRACE_O.TRACESYSGOOD | PTRACE_O.EXITKILL);
    // It waits in read() for the byte; stopping it there lets us single-step its system calls.
    interrupt(child.pid);
    writeAll(w, Buffer.from('G'));
    const entry = stepUntil(waiter, info, child.pid, (i) => i.op === 'entry' && i.nr === 110 && i.args[0] === 11n);
    const regs = getRegisters(child.pid);
    t.is(regs.orig_rax, 110n);
    t.is(peekUser(child.pid, USER_REGS.orig_rax), 110n);
    t.deepEqual(SYSCALL_ARG_REGISTERS.map((name) => regs[name]), [11n, 22n, 33n, 44n, 55n, 66n]);
    t.deepEqual(entry.op === 'entry' ? entry.args : [], [11n, 22n, 33n, 44n, 55n, 66n]);
    t.is(regs.rip, entry.instructionPointer);
    t.is(regs.rsp, entry.stackPointer);
    contToSyscall(child.pid);
    const exit = stepUntil(waiter, info, child.pid, (i) => i.op === 'exit');
    // Its parent is this process: the return value is our pid, in rax and in the kernel's report.
    t.like(exit, { op: 'exit', arch: 0xc000003e, rval: BigInt(process.pid), isError: false });
    t.is(getRegisters(child.pid).rax, BigInt(process.pid));
    t.is(peekUser(child.pid, USER_REGS.rax), BigInt(process.pid));
    contToSyscall(child.pid);
  } finally {
    closeFd(w);
    process.kill(child.pid, 'SIGKILL');
    await exited;
    closeFd(child.pidfd);
  }
});

test('ptrace requests name the request and the tid when they fail', (t) => {
  // A process that is not our tracee: the kernel answers ESRCH.
  const e = t.throws(() => contToSyscall(1), { instanceOf: SyscallError });
  t.is(e.message, 'ptrace(PTRACE_SYSCALL) tid 1: ESRCH (No such process)');
});

test('the whole-trace filter is one instruction: SECCOMP_RET_TRACE for every call', (t) => {
  t.deepEqual(decode(traceFilter()), [{ code: 0x06, jt: 0, jf: 0, k: SECCOMP_RET.TRACE }]);
});

test('a subset filter traces the named calls, execve and execveat, and every foreign-ABI call; it allows the rest', (t) => {
  const program = decode(traceFilter(['openat', 'wait4']));
  const traced = program.filter((ins, i) => ins.code === 0x15 && ins.jt === 0 && ins.jf === 1
    && program[i + 1]?.code === 0x06 && program[i + 1]?.k === SECCOMP_RET.TRACE).map((ins) => ins.k);
  t.deepEqual(traced, ['wait4', 'execve', 'openat', 'execveat'].map((n) => syscallNumber(n)!).sort((a, b) => a - b));
  t.is(program.at(-1)!.k, SECCOMP_RET.ALLOW);
  // Not x86_64 (arch check falls through to TRACE), and x32 (bit 30 set: TRACE).
  t.deepEqual(program.slice(0, 6).map((i) => i.k), [4, 0xc000003e, SECCOMP_RET.TRACE, 0, 0x40000000, SECCOMP_RET.TRACE]);
});

test('a subset naming a call x86_64 does not have is refused with the names', (t) => {
  const e = t.throws(() => traceFilter(['openat', 'open_sesame', 'socketcall']), { instanceOf: UnknownSyscallError });
  t.deepEqual(e.names, ['open_sesame', 'socketcall']);
});
