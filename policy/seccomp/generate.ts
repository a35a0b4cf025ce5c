// Least-privilege profile from a trace: refuse everything with EPERM, allow exactly what was seen,
// plus what the runtime itself still calls once the filter is installed.
import type { SyscallCount } from './trace-check.js';
import type { SeccompPolicy } from './types.js';

/**
 * System calls nsrig's stage 2 (a Node process) makes between installing the filter and the
 * contained program's first instruction, when the filter goes in last (no_new_privs set):
 * execve itself; exit_group and write to report a failed execve; and what Node's main thread may
 * do at any moment while it runs JavaScript (memory management, futex wake-ups, signal masks).
 * A trace taken from the contained program does not show these, yet without them it never starts.
 */
export const RUNTIME_AFTER_FILTER: readonly string[] = [
  'brk', 'execve', 'exit_group', 'futex', 'madvise', 'mmap', 'mprotect', 'munmap',
  'rt_sigprocmask', 'rt_sigreturn', 'write',
];

/**
 * Added when the filter is installed before the credential switch (no_new_privs off: the kernel
 * then requires CAP_SYS_ADMIN for seccomp, so it must go in while the capabilities are held), so
 * the bounding-set drop, setresuid/setresgid/setgroups and capset still have to pass it.
 */
export const RUNTIME_EARLY_FILTER_EXTRA: readonly string[] = [
  'capget', 'capset', 'prctl', 'setgroups', 'setresgid', 'setresuid',
];

export interface GenerateOptions {
  /** errno for everything not allowed; EPERM (1) unless said. */
  errnoRet?: number;
  /** The filter goes in before the credential switch (see RUNTIME_EARLY_FILTER_EXTRA). */
  earlyFilter?: boolean;
  /** Leave out RUNTIME_AFTER_FILTER: for a trace that already covers the runtime's own calls. */
  withoutRuntime?: boolean;
  /** More names to allow (a program's rare paths the trace missed). */
  extra?: readonly string[];
}

export function generatePolicy(observed: readonly SyscallCount[], opts: GenerateOptions = {}): SeccompPolicy {
  const names = new Set<string>();
  for (const { name, count } of observed) if (count > 0) names.add(name);
  if (opts.withoutRuntime !== true) RUNTIME_AFTER_FILTER.forEach((n) => names.add(n));
  if (opts.earlyFilter === true) RUNTIME_EARLY_FILTER_EXTRA.forEach((n) => names.add(n));
  (opts.extra ?? []).forEach((n) => names.add(n));
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: opts.errnoRet ?? 1,
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
    syscalls: [{ names: [...names].sort(), action: 'SCMP_ACT_ALLOW' }],
  };
}
