// When a process started, from /proc/PID/stat: with its pid, what names one process for good,
// since a pid is reused once its process is gone.
import fs from 'node:fs';

/** Field 22 of /proc/PID/stat (clock ticks since boot), or undefined when no such process runs. */
export function startTicksOf(pid: number | 'self'): number | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // Counted after the command name's closing parenthesis (which may hold spaces).
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}
