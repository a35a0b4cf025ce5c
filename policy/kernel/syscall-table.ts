// System call names and numbers for the three ABIs an x86_64 kernel runs: x86_64 itself, x32
// (x86_64's audit arch, numbers with bit 30 set) and i386 (AUDIT_ARCH_I386). Unknown names are
// not errors: like libseccomp, callers skip a name an ABI lacks and report it.
import { I386_NAMES, X32_ONLY_NAMES, X86_64_NAMES, X86_64_ONLY_NAMES } from './syscall-numbers.js';

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const X32_SYSCALL_BIT = 0x40000000;
/** x32's own entry points start here (before the x32 bit is added). */
const X32_ONLY_BASE = 512;

export type Abi = 'x86_64' | 'x32' | 'i386';

export interface SyscallTable {
  abi: Abi;
  /** The AUDIT_ARCH_* value the kernel reports in seccomp_data.arch for this ABI. */
  auditArch: number;
  byName: ReadonlyMap<string, number>;
  byNumber: ReadonlyMap<number, string>;
}

function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

function indexed(names: string[], offset: number, into: Map<string, number>): void {
  names.forEach((name, i) => {
    if (name !== '-') into.set(name, offset + i);
  });
}

function makeTable(abi: Abi, auditArch: number, byName: Map<string, number>): SyscallTable {
  const byNumber = new Map<number, string>();
  for (const [name, nr] of byName) byNumber.set(nr, name);
  return { abi, auditArch, byName, byNumber };
}

const TABLES: Readonly<Record<Abi, SyscallTable>> = (() => {
  const x86_64 = new Map<string, number>();
  indexed(words(X86_64_NAMES), 0, x86_64);
  const i386 = new Map<string, number>();
  indexed(words(I386_NAMES), 0, i386);
  const x32 = new Map<string, number>();
  const sixtyFourOnly = new Set(words(X86_64_ONLY_NAMES));
  for (const [name, nr] of x86_64) if (!sixtyFourOnly.has(name)) x32.set(name, (nr | X32_SYSCALL_BIT) >>> 0);
  indexed(words(X32_ONLY_NAMES), (X32_ONLY_BASE | X32_SYSCALL_BIT) >>> 0, x32);
  return {
    x86_64: makeTable('x86_64', AUDIT_ARCH_X86_64, x86_64),
    x32: makeTable('x32', AUDIT_ARCH_X86_64, x32),
    i386: makeTable('i386', AUDIT_ARCH_I386, i386),
  };
})();

export function syscallTable(abi: Abi): SyscallTable {
  return TABLES[abi];
}

/** The number of `name` on `abi` (x86_64 unless said), or undefined when that ABI lacks it. */
export function syscallNumber(name: string, abi: Abi = 'x86_64'): number | undefined {
  return TABLES[abi].byName.get(name);
}

/** The name of system call `nr` on `abi` (x86_64 unless said); x32 numbers include the x32 bit. */
export function syscallName(nr: number, abi: Abi = 'x86_64'): string | undefined {
  return TABLES[abi].byNumber.get(nr >>> 0);
}

/** The x86_64 number of a system call core makes through syscall(2); a missing name is a bug here. */
function x86_64(name: string): number {
  const nr = TABLES.x86_64.byName.get(name);
  if (nr === undefined) throw new RangeError(`no x86_64 system call named ${name} in the table`);
  return nr;
}

/** The x86_64 numbers core passes to syscall(2) itself, read from the one table above. */
export const NR = Object.freeze({
  read: x86_64('read'),
  write: x86_64('write'),
  close: x86_64('close'),
  dup3: x86_64('dup3'),
  prctl: x86_64('prctl'),
  rt_sigaction: x86_64('rt_sigaction'),
  setresuid: x86_64('setresuid'),
  setresgid: x86_64('setresgid'),
  ptrace: x86_64('ptrace'),
  capget: x86_64('capget'),
  capset: x86_64('capset'),
  pivot_root: x86_64('pivot_root'),
  seccomp: x86_64('seccomp'),
  bpf: x86_64('bpf'),
  perf_event_open: x86_64('perf_event_open'),
  pidfd_send_signal: x86_64('pidfd_send_signal'),
  open_tree: x86_64('open_tree'),
  move_mount: x86_64('move_mount'),
  fsopen: x86_64('fsopen'),
  fsconfig: x86_64('fsconfig'),
  fsmount: x86_64('fsmount'),
  pidfd_open: x86_64('pidfd_open'),
  close_range: x86_64('close_range'),
  mount_setattr: x86_64('mount_setattr'),
  add_key: x86_64('add_key'),
  keyctl: x86_64('keyctl'),
  setns: x86_64('setns'),
  execveat: x86_64('execveat'),
  memfd_create: x86_64('memfd_create'),
});
