// When a process started, from /proc/PID/stat: with its pid, what names one process for good,
// since a pid is reused once its process is gone.
//
// The kernel shows field 22 shifted by the *reader's* time-namespace boot-time offset
// (do_task_stat, timens_add_boottime_ns), in unsigned 64-bit nanoseconds. A reader in a namespace
// whose clocks were set back (nsrig under `unshare --time --boottime=-N`, as the fresh-boot test
// runs it) sees a process that started before its namespace's zero wrapped past 2^64: about 1.8e12
// ticks, a start in the far future. Taken as it reads, every older nsrig looked dead to such a
// reader, whose first launch then killed their containers' cgroups (a launch elsewhere died with
// "stage 2 died before exec (signal SIGKILL)"). So every reading is brought back to the initial
// time namespace's count, where readers in any namespace agree.
import fs from 'node:fs';
import { ownOffsetNanos } from './time-offsets.js';

/** USER_HZ, the unit of field 22: 100 on x86_64 (proc(5), sysconf(_SC_CLK_TCK)). */
export const CLOCK_TICKS_PER_SECOND = 100;
const NANOS_PER_TICK = 10_000_000n;
const WRAP = 1n << 64n;

/**
 * Field 22 of /proc/PID/stat as a reader in the host's time namespace sees it (clock ticks since
 * boot), or undefined when no such process runs. Exact in the host's namespace, and wherever the
 * boot-time offset is whole ticks and the process started after the namespace's zero; otherwise
 * (2^64 ns is not whole ticks) one tick low at most: compare two readings with sameStart.
 */
export function startTicksOf(pid: number | 'self'): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Counted after the command name's closing parenthesis (which may hold spaces).
  const shown = BigInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  const offset = ownOffsetNanos().boottime;
  if (offset === 0n) return Number(shown);
  let nanos = shown * NANOS_PER_TICK;
  // No process started 292 years after boot: past 2^63 the kernel's sum went below zero.
  if (nanos >= WRAP / 2n) nanos -= WRAP;
  const host = nanos - offset;
  return host <= 0n ? 0 : Number(host / NANOS_PER_TICK);
}

/**
 * Do two start times read by startTicksOf name one start? They may differ by a tick when one was
 * read wrapped (see startTicksOf). A pid handed to another process within that 10 ms would need
 * the kernel to cycle through every other pid (pid_max, 32768 at the least) meanwhile.
 */
export function sameStart(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1;
}

/** Does `pid` still name the process that started at `startTicks` (a zombie included)? */
export function stillStartedAt(pid: number, startTicks: number): boolean {
  const now = startTicksOf(pid);
  return now !== undefined && sameStart(now, startTicks);
}
