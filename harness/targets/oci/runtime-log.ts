// The runtime's own account of what went wrong: runc and crun write one JSON object a line to the
// file named by --log when given --log-format json ({"level":"error","msg":"..."}).
import fs from 'node:fs';

export interface RuntimeLogEntry {
  level: string;
  msg: string;
}

export function readRuntimeLog(file: string): RuntimeLogEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const entries: RuntimeLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as { level?: unknown; msg?: unknown };
      entries.push({ level: String(value.level ?? 'unknown'), msg: String(value.msg ?? line) });
    } catch {
      // A runtime that ignores --log-format still says something worth showing.
      entries.push({ level: 'unknown', msg: line });
    }
  }
  return entries;
}

/**
 * What the runtime said went wrong: its last error-level message, which names the step that
 * failed. runc's C part (nsexec) logs the root cause earlier at level "fatal" and then only
 * "can't get final child's PID from pipe" as the error; the first fatal message leads then.
 */
export function lastRuntimeError(file: string): string | undefined {
  const entries = readRuntimeLog(file);
  const lastError = [...entries].reverse().find((e) => e.level === 'error')?.msg;
  const firstFatal = entries.find((e) => e.level === 'fatal')?.msg;
  if (firstFatal === undefined) return lastError;
  return lastError === undefined ? firstFatal : `${firstFatal} (${lastError})`;
}
