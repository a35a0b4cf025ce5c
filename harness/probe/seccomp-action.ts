// What a seccomp action does to a process that makes the call, seen from its parent: each call is
// made in a child node process of its own, which a KILL action may end (or leave without its
// calling thread). The child says "calling" right before the call and reports after it.
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { trySyscall } from '../../core/host-kernel.js';
import { syscallNumber } from '../../policy/seccomp/index.js';
import { errnoName } from '../../policy/kernel/errno.js';
import { PR } from '../../policy/kernel/process-control.js';

export const SECCOMP_CALL_FLAG = '--seccomp-call';

/**
 * How the call went: 'returned' (it ran), 'errno:NAME', 'trapped' (SIGSYS delivered to a handler,
 * the process went on), 'killed:SIGNAL' (the whole process died of it), 'thread-killed' (the
 * calling thread ended and the process stayed), or what else happened ('exit N', 'no report').
 */
export type CallOutcome = string;

interface ChildReport {
  result: number;
  errno: string | null;
  trapped: boolean;
}

/**
 * How long the child may take after announcing the call before it counts as hung. A call that
 * returns reports within milliseconds; a KILL_THREAD is seen sooner, by polling (mainThreadGone).
 */
const SETTLE_MS = 5000;
const POLL_MS = 100;
/** How long the main thread must stay gone, the process alive, before the calling thread counts as killed. */
const GONE_FOR_MS = 1000;

/** The child's side: no core file from a kill (the host's core_pattern may be a plain file name), a SIGSYS handler, the call, a report. */
export function makeCallAsChild(nr: number): void {
  trySyscall(syscallNumber('prctl')!, [PR.SET_DUMPABLE, 0]);
  let trapped = false;
  process.on('SIGSYS', () => {
    trapped = true;
  });
  fs.writeSync(1, 'calling\n');
  const r = trySyscall(nr);
  // The handler runs from the event loop, after the signal's byte reached libuv's pipe.
  setTimeout(() => {
    const report: ChildReport = { result: Number(r.result), errno: r.errno === 0 ? null : errnoName(r.errno), trapped };
    fs.writeSync(1, JSON.stringify(report) + '\n');
    process.exit(0);
  }, 100);
}

/**
 * Whether the process's main thread has exited while other threads of it still run: the leader is a
 * zombie (state Z) yet the thread group counts more than that one thread. A process that exited as
 * a whole is a zombie with a count of one until it is reaped.
 */
function mainThreadGone(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return /^State:\s+Z/m.test(status) && Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 0) > 1;
  } catch {
    return false;
  }
}

/** Runs `self --seccomp-call nr` and says how the call went. */
export async function callInChild(self: string, nr: number): Promise<CallOutcome> {
  const child = spawn(process.execPath, [self, SECCOMP_CALL_FLAG, String(nr)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  let threadKilled = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  let poll: NodeJS.Timeout | undefined;
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (poll !== undefined || !out.includes('calling\n')) return;
    const announced = Date.now();
    let goneSince: number | undefined;
    poll = setInterval(() => {
      const now = Date.now();
      // An exiting process passes through the same state for a moment; one left without its main thread stays in it.
      goneSince = child.pid !== undefined && mainThreadGone(child.pid) ? (goneSince ?? now) : undefined;
      if (goneSince !== undefined && now - goneSince >= GONE_FOR_MS) threadKilled = true;
      if (threadKilled || now - announced > SETTLE_MS) child.kill('SIGKILL');
    }, POLL_MS);
  });
  const { code, signal } = await exited;
  clearInterval(poll);
  if (threadKilled) return 'thread-killed';
  if (signal !== null) return `killed:${signal}`;
  const line = out.split('\n').find((l) => l.startsWith('{'));
  if (!line) return code === 0 ? 'no report' : `exit ${code}`;
  const report = JSON.parse(line) as ChildReport;
  if (report.trapped) return 'trapped';
  return report.errno === null ? 'returned' : `errno:${report.errno}`;
}
