// Counting system calls per process while the tracer runs, keyed by number for speed, and turning
// the counts into named, plain-data results at the end.
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT, syscallName, syscallNumber, type Abi } from '../../policy/kernel/syscall-table.js';

export interface SyscallCount {
  name: string;
  /** Times the call was made (counted at entry, so exit and exit_group count too). */
  count: number;
  /** Returns in -4095..-1 (failures); 0 when the trace did not count errors. */
  errors: number;
  /** Present only for calls made through another ABI than x86_64 (int 0x80, x32). */
  abi?: Exclude<Abi, 'x86_64'> | 'unknown';
}

export interface TracedProcess {
  /** Host pid (the thread group id). */
  pid: number;
  /** Host pid of the traced process that created it; absent for the first one. */
  parent?: number;
  /** Its comm (program name, at most 15 characters) after its last exec. */
  command?: string;
  syscalls: SyscallCount[];
}

/** One counter, as kept during the trace. */
export interface Counter {
  count: number;
  errors: number;
}

// Keys: x86_64 and x32 numbers as they are (x32's carry bit 30), i386 and unknown ABIs above 2^32.
const I386_BASE = 2 ** 32;
const UNKNOWN_BASE = 2 ** 33;

export function syscallKey(arch: number, nr: number): number {
  if (arch === AUDIT_ARCH_X86_64) return nr;
  if (arch === AUDIT_ARCH_I386) return I386_BASE + nr;
  return UNKNOWN_BASE + nr;
}

function describeKey(key: number): { name: string; abi?: SyscallCount['abi'] } {
  if (key >= UNKNOWN_BASE) return { name: `syscall_${key - UNKNOWN_BASE}`, abi: 'unknown' };
  const abi: Abi = key >= I386_BASE ? 'i386' : key & X32_SYSCALL_BIT ? 'x32' : 'x86_64';
  const nr = key >= I386_BASE ? key - I386_BASE : key;
  const name = syscallName(nr, abi) ?? `syscall_${abi === 'x32' ? nr - X32_SYSCALL_BIT : nr}`;
  return abi === 'x86_64' ? { name } : { name, abi };
}

/** exit and exit_group on every ABI: they never return, so no exit stop is awaited for them. */
export const NON_RETURNING_KEYS: ReadonlySet<number> = new Set(
  (['exit', 'exit_group'] as const).flatMap((name) => [
    syscallNumber(name, 'x86_64')!,
    syscallNumber(name, 'x32')!,
    I386_BASE + syscallNumber(name, 'i386')!,
  ]),
);

export class ProcessTally {
  parent: number | undefined;
  command: string | undefined;
  readonly counters = new Map<number, Counter>();

  constructor(readonly pid: number) {}

  counter(key: number): Counter {
    let c = this.counters.get(key);
    if (c === undefined) {
      c = { count: 0, errors: 0 };
      this.counters.set(key, c);
    }
    return c;
  }
}

function byCountThenName(a: SyscallCount, b: SyscallCount): number {
  return b.count - a.count || a.name.localeCompare(b.name) || (a.abi ?? '').localeCompare(b.abi ?? '');
}

function named(counters: Iterable<[number, Counter]>): SyscallCount[] {
  const out: SyscallCount[] = [];
  for (const [key, c] of counters) if (c.count > 0) out.push({ ...describeKey(key), count: c.count, errors: c.errors });
  return out.sort(byCountThenName);
}

/** Decides, once per key, whether a call belongs in the counts (all of them without a subset). */
export class SyscallSelection {
  private readonly decided = new Map<number, boolean>();
  constructor(private readonly only: ReadonlySet<string> | undefined) {}

  wanted(key: number): boolean {
    if (this.only === undefined) return true;
    let w = this.decided.get(key);
    if (w === undefined) {
      w = this.only.has(describeKey(key).name);
      this.decided.set(key, w);
    }
    return w;
  }
}

/** Processes in the order the trace first saw them; totals over all of them. */
export function summarize(processes: Iterable<ProcessTally>): { processes: TracedProcess[]; totals: SyscallCount[] } {
  const out: TracedProcess[] = [];
  const totals = new Map<number, Counter>();
  for (const p of processes) {
    for (const [key, c] of p.counters) {
      const t = totals.get(key) ?? { count: 0, errors: 0 };
      t.count += c.count;
      t.errors += c.errors;
      totals.set(key, t);
    }
    const entry: TracedProcess = { pid: p.pid, syscalls: named(p.counters) };
    if (p.parent !== undefined) entry.parent = p.parent;
    if (p.command !== undefined) entry.command = p.command;
    out.push(entry);
  }
  return { processes: out, totals: named(totals) };
}
