// The probe as a hostile process of the container while a runtime joins another process to it
// (exec): every process that appears is reached for as soon as it is seen and again on every look
// until it is reached or gone, the way the CVE-2019-5736 exploit grabs /proc/PID/exe of a joining
// runc and CVE-2016-9962's container init reached a joining process's descriptors. It only opens,
// lists and closes: nothing is written, traced or kept past the report.
import fs from 'node:fs';
import { O } from '../../policy/kernel/process-control.js';
import { errnoNumber } from '../../policy/kernel/errno.js';
import type { JoinWindow, Outcome, ReachedProcess } from './protocol.js';

/** Watching stops by itself after this long, whatever the host does. */
const WATCH_LIMIT_MS = 60_000;

function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

/** Gone processes answer ENOENT (or ESRCH): nothing more to reach there. */
function isGone(code: string): boolean {
  return code === 'ENOENT' || code === 'ESRCH';
}

function numericEntries(dir: string): number[] {
  return fs.readdirSync(dir).filter((n) => /^\d+$/.test(n)).map(Number);
}

function cmdlineOf(pid: number): string[] | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.endsWith('\0') ? text.slice(0, -1).split('\0') : text.split('\0');
  } catch {
    return null;
  }
}

/**
 * A reach counts once the command line read right after it is a real one: a process caught in the
 * middle of execve is already reachable while its command line is still empty, and that reach
 * says nothing about which program it was. Those are kept but tried again, a few times at most.
 */
function conclusive(reached: ReachedProcess): boolean {
  return reached.cmdline !== null && reached.cmdline.join('') !== '';
}

const MOST_INCONCLUSIVE = 8;

interface Pending {
  tries: number;
  exe: boolean;
  memory: boolean;
  descriptors: boolean;
  gone: boolean;
}

export interface JoinWatch {
  /** Stops watching, tries each grabbed executable for writing, closes everything and says what was reached. */
  finish(): JoinWindow;
}

export function watchJoins(memory: boolean): JoinWatch {
  const known = new Set(numericEntries('/proc'));
  const pending = new Map<number, Pending>();
  const grabbed: { fd: number; reached: ReachedProcess; dev: number; ino: number }[] = [];
  const window: JoinWindow = { appeared: [], scans: 0, exe: [], memory: [], descriptors: [], refused: { exe: null, memory: null, descriptors: null } };
  const started = Date.now();
  let stopped = false;

  const tryExe = (pid: number, state: Pending) => {
    try {
      const fd = fs.openSync(`/proc/${pid}/exe`, O.PATH | O.CLOEXEC);
      const stat = fs.fstatSync(fd);
      const reached = { pid, cmdline: cmdlineOf(pid) };
      grabbed.push({ fd, reached, dev: stat.dev, ino: stat.ino });
      state.exe = !conclusive(reached) && ++state.tries < MOST_INCONCLUSIVE;
    } catch (e) {
      const code = errorCode(e);
      if (isGone(code)) state.gone = true;
      else window.refused.exe = code;
    }
  };
  const tryMemory = (pid: number, state: Pending) => {
    try {
      fs.closeSync(fs.openSync(`/proc/${pid}/mem`, 'r'));
      const reached = { pid, cmdline: cmdlineOf(pid) };
      window.memory.push(reached);
      state.memory = !conclusive(reached) && ++state.tries < MOST_INCONCLUSIVE;
    } catch (e) {
      const code = errorCode(e);
      if (isGone(code)) state.gone = true;
      else window.refused.memory = code;
    }
  };
  const tryDescriptors = (pid: number, state: Pending) => {
    try {
      const fds = numericEntries(`/proc/${pid}/fd`).map((fd) => {
        try {
          return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch (e) {
          return `(${errorCode(e)})`;
        }
      });
      const reached = { pid, cmdline: cmdlineOf(pid) };
      window.descriptors.push({ ...reached, fds });
      state.descriptors = !conclusive(reached) && ++state.tries < MOST_INCONCLUSIVE;
    } catch (e) {
      const code = errorCode(e);
      if (isGone(code)) state.gone = true;
      else window.refused.descriptors = code;
    }
  };

  const look = () => {
    if (stopped) return;
    window.scans++;
    for (const pid of numericEntries('/proc')) {
      if (known.has(pid)) continue;
      known.add(pid);
      window.appeared.push(pid);
      pending.set(pid, { tries: 0, exe: true, memory, descriptors: memory, gone: false });
    }
    for (const [pid, state] of pending) {
      if (state.exe) tryExe(pid, state);
      if (state.memory && !state.gone) tryMemory(pid, state);
      if (state.descriptors && !state.gone) tryDescriptors(pid, state);
      if (state.gone || (!state.exe && !state.memory && !state.descriptors)) pending.delete(pid);
    }
    // setImmediate, not a timer: the window is a few milliseconds wide, and stdin still gets its turn.
    if (Date.now() - started < WATCH_LIMIT_MS) setImmediate(look);
  };
  setImmediate(look);

  return {
    finish() {
      stopped = true;
      for (const g of grabbed) {
        let reopen: Outcome;
        try {
          // O_WRONLY alone: no O_TRUNC, nothing written; closed at once.
          fs.closeSync(fs.openSync(`/proc/self/fd/${g.fd}`, O.WRONLY));
          reopen = { errno: null, code: null };
        } catch (e) {
          const code = errorCode(e);
          reopen = { errno: errnoNumber(code) ?? -1, code };
        }
        fs.closeSync(g.fd);
        window.exe.push({ ...g.reached, dev: g.dev, ino: g.ino, reopenForWriting: reopen });
      }
      return window;
    },
  };
}
