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
 * middle of execve is already reachable while its command line is still empty (the kernel sets it
 * up after the new program is mapped), and such a reach says nothing about which program it was.
 * Until a conclusive reach, the latest inconclusive one is kept and the process is tried again.
 */
function conclusive(reached: ReachedProcess): boolean {
  return reached.cmdline !== null && reached.cmdline.join('') !== '';
}

type Grab = { fd: number; reached: ReachedProcess; dev: number; ino: number };
type Listing = ReachedProcess & { fds: string[] };

/** Per process and kind: still to try (with the latest inconclusive reach), or done. */
interface Pending {
  exe: { done: boolean; last?: Grab };
  memory: { done: boolean; last?: ReachedProcess };
  descriptors: { done: boolean; last?: Listing };
  gone: boolean;
}

export interface JoinWatch {
  /** Stops watching, tries each grabbed executable for writing, closes everything and says what was reached. */
  finish(): JoinWindow;
}

export function watchJoins(memory: boolean): JoinWatch {
  const known = new Set(numericEntries('/proc'));
  const pending = new Map<number, Pending>();
  const grabbed: Grab[] = [];
  const window: JoinWindow = { appeared: [], scans: 0, exe: [], memory: [], descriptors: [], refused: { exe: null, memory: null, descriptors: null } };
  const started = Date.now();
  let stopped = false;

  const refused = (state: Pending, kind: keyof JoinWindow['refused'], e: unknown) => {
    const code = errorCode(e);
    if (isGone(code)) state.gone = true;
    else window.refused[kind] = code;
  };
  const tryExe = (pid: number, state: Pending) => {
    try {
      const fd = fs.openSync(`/proc/${pid}/exe`, O.PATH | O.CLOEXEC);
      const stat = fs.fstatSync(fd);
      if (state.exe.last) fs.closeSync(state.exe.last.fd);
      state.exe.last = { fd, reached: { pid, cmdline: cmdlineOf(pid) }, dev: stat.dev, ino: stat.ino };
      state.exe.done = conclusive(state.exe.last.reached);
    } catch (e) {
      refused(state, 'exe', e);
    }
  };
  const tryMemory = (pid: number, state: Pending) => {
    try {
      fs.closeSync(fs.openSync(`/proc/${pid}/mem`, 'r'));
      state.memory.last = { pid, cmdline: cmdlineOf(pid) };
      state.memory.done = conclusive(state.memory.last);
    } catch (e) {
      refused(state, 'memory', e);
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
      state.descriptors.last = { pid, cmdline: cmdlineOf(pid), fds };
      state.descriptors.done = conclusive(state.descriptors.last);
    } catch (e) {
      refused(state, 'descriptors', e);
    }
  };
  /** What a process's watch reached, into the report; its grabbed executable kept for finish. */
  const settle = (state: Pending) => {
    if (state.exe.last) grabbed.push(state.exe.last);
    if (state.memory.last) window.memory.push(state.memory.last);
    if (state.descriptors.last) window.descriptors.push(state.descriptors.last);
    state.exe.last = undefined;
    state.memory.last = undefined;
    state.descriptors.last = undefined;
  };

  const look = () => {
    if (stopped) return;
    window.scans++;
    for (const pid of numericEntries('/proc')) {
      if (known.has(pid)) continue;
      known.add(pid);
      window.appeared.push(pid);
      pending.set(pid, { exe: { done: false }, memory: { done: !memory }, descriptors: { done: !memory }, gone: false });
    }
    for (const [pid, state] of pending) {
      if (!state.exe.done) tryExe(pid, state);
      if (!state.memory.done && !state.gone) tryMemory(pid, state);
      if (!state.descriptors.done && !state.gone) tryDescriptors(pid, state);
      if (state.gone || (state.exe.done && state.memory.done && state.descriptors.done)) {
        settle(state);
        pending.delete(pid);
      }
    }
    // setImmediate, not a timer: the window is a few milliseconds wide, and stdin still gets its turn.
    if (Date.now() - started < WATCH_LIMIT_MS) setImmediate(look);
  };
  setImmediate(look);

  return {
    finish() {
      stopped = true;
      for (const state of pending.values()) settle(state);
      pending.clear();
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
