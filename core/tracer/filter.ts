// The tracer's seccomp filter: SECCOMP_RET_TRACE makes the kernel stop the tracee once per system
// call (a seccomp stop), and only in the contained program: stage 2 installs it as its very last
// step, so none of stage 2's own Node start-up stops. With a subset, every other call runs without
// a stop, which is what makes tracing a few calls cheap.
import { BPF, OP, SECCOMP_DATA, encode, type Instruction } from '../../policy/seccomp/bpf.js';
import { SECCOMP_RET } from '../../policy/seccomp/actions.js';
import { AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, syscallNumber } from '../../policy/kernel/syscall-table.js';

/** The calls whose stop starts the count: stage 2 becoming the contained program. */
export const EXEC_SYSCALLS = ['execve', 'execveat'] as const;

export class UnknownSyscallError extends Error {
  readonly names: string[];
  constructor(names: string[]) {
    super(`not x86_64 system call names: ${names.join(', ')} (onlySyscalls takes names as in the kernel's syscall table, e.g. "openat")`);
    this.name = 'UnknownSyscallError';
    this.names = names;
  }
}

const ret = (k: number): Instruction => ({ code: OP.RET_K, jt: 0, jf: 0, k });
const load = (offset: number): Instruction => ({ code: OP.LD_ABS, jt: 0, jf: 0, k: offset });
/** Falls through to the next instruction when equal, skips it otherwise. */
const unlessEqualSkip = (k: number): Instruction => ({ code: OP.JEQ_K, jt: 0, jf: 1, k });
const JSET_K = BPF.JMP | BPF.JSET | BPF.K;

/**
 * A filter that stops every system call (no subset) or only `onlySyscalls` plus execve/execveat.
 * Calls of another ABI (i386 via int 0x80, x32) always stop when a subset is given: the tracer
 * names them by their own table and keeps or drops them, and nothing is killed or refused, so the
 * traced program runs exactly as it would untraced.
 */
export function traceFilter(onlySyscalls?: readonly string[]): Buffer {
  if (onlySyscalls === undefined) return encode([ret(SECCOMP_RET.TRACE)]);
  const unknown = onlySyscalls.filter((n) => syscallNumber(n, 'x86_64') === undefined);
  if (unknown.length > 0) throw new UnknownSyscallError(unknown);
  const numbers = [...new Set([...onlySyscalls, ...EXEC_SYSCALLS].map((n) => syscallNumber(n, 'x86_64')!))].sort((a, b) => a - b);
  // Each test sits right before its own RET_TRACE, so no jump is longer than one instruction
  // however long the list is.
  const program: Instruction[] = [
    load(SECCOMP_DATA.arch),
    { code: OP.JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH_X86_64 },
    ret(SECCOMP_RET.TRACE),
    load(SECCOMP_DATA.nr),
    { code: JSET_K, jt: 0, jf: 1, k: X32_SYSCALL_BIT },
    ret(SECCOMP_RET.TRACE),
  ];
  for (const nr of numbers) program.push(unlessEqualSkip(nr), ret(SECCOMP_RET.TRACE));
  program.push(ret(SECCOMP_RET.ALLOW));
  return encode(program);
}
