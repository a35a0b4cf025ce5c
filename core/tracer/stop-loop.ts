// The tracer's loop, run in the one thread that attached: wait for a tracee to stop, count what
// the stop says, restart it. One seccomp stop per system call (SECCOMP_RET_TRACE); when errors are
// counted, PTRACE_SYSCALL from that stop adds a syscall-exit stop to read the return value.
import fs from 'node:fs';
import {
  PTRACE_EVENT, PTRACE_O, SYSCALL_STOP_SIGNAL, SyscallInfoReader, TraceeWaiter, cont, contToSyscall,
  eventMessage, listen, setOptions, type TraceeChange,
} from '../native/ptrace.js';
import { KernelAnswerError, SyscallError } from '../native/syscall-error.js';
import { AUDIT_ARCH_X86_64, syscallNumber } from '../../policy/kernel/syscall-table.js';
import { EXEC_SYSCALLS } from './filter.js';
import {
  NON_RETURNING_KEYS, ProcessTally, SyscallSelection, summarize, syscallKey, type Counter, type SyscallCount, type TracedProcess,
} from './syscall-tally.js';

/** At the seize: enough for seccomp stops, and EXITKILL so a dead tracer leaves no tracee behind. */
export const SEIZE_OPTIONS = PTRACE_O.EXITKILL | PTRACE_O.TRACESECCOMP | PTRACE_O.TRACESYSGOOD;
/**
 * From the first seccomp stop on, i.e. once stage 2 has installed the filter: follow every new
 * thread and process. Set later rather than at the seize so that stage 2's own Node threads, made
 * before the filter, are never traced.
 */
export const FOLLOW_OPTIONS = SEIZE_OPTIONS | PTRACE_O.TRACECLONE | PTRACE_O.TRACEFORK | PTRACE_O.TRACEVFORK | PTRACE_O.TRACEEXEC;

const ESRCH = 3;
const ECHILD = 10;
/** ESRCH in a row for one stopped tracee; a dying one gets through its exit well before this. */
const MAX_REFUSALS = 100_000;
/** Signals whose stop under PTRACE_SEIZE is a group-stop, reported as PTRACE_EVENT_STOP. */
const GROUP_STOP_SIGNALS: ReadonlySet<number> = new Set([19, 20, 21, 22]);
const EXEC_KEYS: ReadonlySet<number> = new Set(EXEC_SYSCALLS.map((n) => syscallNumber(n, 'x86_64')!));

export interface SessionOptions {
  countErrors: boolean;
  onlySyscalls?: readonly string[];
}

export interface TraceSummary {
  processes: TracedProcess[];
  totals: SyscallCount[];
  /** False when the contained program never started (stage 2 failed before its execve). */
  started: boolean;
}

interface ThreadState {
  tgid: number;
  /** The counter of the call this thread is in while its syscall-exit stop is awaited. */
  inCall: Counter | undefined;
}

function threadGroupOf(tid: number): number {
  try {
    const m = /^Tgid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${tid}/status`, 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // Gone already (killed): its death is reported next and it makes no more calls to count.
  }
  return tid;
}

function commandOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return undefined;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class TraceSession {
  private readonly threads = new Map<number, ThreadState>();
  private readonly processes = new Map<number, ProcessTally>();
  private readonly waiter = new TraceeWaiter();
  private readonly info = new SyscallInfoReader();
  private readonly selection: SyscallSelection;
  private following = false;
  private started = false;

  /**
   * `root` is the seized process. When it is a child of this very process (`rootReapedElsewhere`),
   * its zombie is left alone: a tracer in the parent's own thread group would reap it for good,
   * and the engine waits for it through a pidfd.
   */
  constructor(private readonly root: number, private readonly options: SessionOptions, private readonly rootReapedElsewhere: boolean) {
    this.selection = new SyscallSelection(options.onlySyscalls ? new Set(options.onlySyscalls) : undefined);
  }

  /** Runs until no tracee is left. */
  run(): void {
    let refused = 0;
    let refusedTid = 0;
    for (;;) {
      let change: TraceeChange;
      try {
        change = this.waiter.next(true)!;
      } catch (e) {
        if (e instanceof SyscallError && e.errno === ECHILD) return;
        throw e;
      }
      try {
        if (change.kind === 'stopped') this.onStop(change.tid, change.signal, change.event);
        else this.onDeath(change.tid);
        refused = 0;
      } catch (e) {
        // Killed (SIGKILL) between its stop and our request: its death is reported next. A stop
        // the kernel keeps refusing would be reported again forever: better to end the tracer
        // (its tracees die with it) than to spin.
        if (!(e instanceof SyscallError && e.errno === ESRCH)) throw e;
        refused = change.tid === refusedTid ? refused + 1 : 1;
        refusedTid = change.tid;
        if (refused > MAX_REFUSALS) throw new KernelAnswerError(`the kernel keeps refusing requests for tid ${change.tid} at ${JSON.stringify(change)}: ${e.message}`);
      }
    }
  }

  summary(): TraceSummary {
    return { ...summarize(this.processes.values()), started: this.started };
  }

  private onDeath(tid: number): void {
    if (tid === this.root && this.rootReapedElsewhere) {
      // The engine reaps it through its pidfd; until it has, waitid keeps showing the zombie
      // (mostly after every other change, as the first tracee is looked at last): wait a moment.
      Atomics.wait(sleeper, 0, 0, 1);
      return;
    }
    this.waiter.consume(tid);
    this.threads.delete(tid);
  }

  private onStop(tid: number, signal: number, event: number): void {
    const t = this.thread(tid);
    if (signal === SYSCALL_STOP_SIGNAL) return this.onSyscallExit(tid, t);
    switch (event) {
      case 0:
        // A signal-delivery-stop: deliver the signal as the kernel would have.
        return this.resume(tid, t, signal);
      case PTRACE_EVENT.SECCOMP:
        return this.onSeccompStop(tid, t);
      case PTRACE_EVENT.FORK:
      case PTRACE_EVENT.VFORK:
      case PTRACE_EVENT.CLONE:
        this.onNewTask(eventMessage(tid), t);
        return this.resume(tid, t);
      case PTRACE_EVENT.EXEC:
        // After an exec by another thread than the leader, the kernel refuses requests (ESRCH)
        // until this stop has been waited for: it could be meant for the leader that exec removed.
        this.waiter.consume(tid);
        this.onExec(tid, eventMessage(tid));
        return this.resume(tid, this.thread(tid));
      case PTRACE_EVENT.STOP:
        if (GROUP_STOP_SIGNALS.has(signal)) {
          // Group-stop: stay stopped, but hear of SIGCONT. LISTEN leaves the stop pending, so it
          // is consumed first or it would be reported again at once.
          this.waiter.consume(tid);
          return listen(tid);
        }
        // A new task's first stop.
        return this.resume(tid, t);
      default:
        return this.resume(tid, t);
    }
  }

  private resume(tid: number, t: ThreadState, signal = 0): void {
    if (t.inCall !== undefined) contToSyscall(tid, signal);
    else cont(tid, signal);
  }

  private onSeccompStop(tid: number, t: ThreadState): void {
    const call = this.info.call(tid);
    if (call === undefined) return cont(tid);
    const key = syscallKey(call.arch, call.nr);
    if (!this.following) {
      setOptions(tid, FOLLOW_OPTIONS);
      this.following = true;
    }
    if (!this.started) {
      // Stage 2 may still make calls between installing the filter and its execve; the count
      // starts with that execve, as strace's starts with the one it runs the program with.
      if (t.tgid !== this.root || call.arch !== AUDIT_ARCH_X86_64 || !EXEC_KEYS.has(key)) return cont(tid);
      this.started = true;
    }
    if (!this.selection.wanted(key)) return cont(tid);
    const counter = this.process(t.tgid).counter(key);
    counter.count += 1;
    if (this.options.countErrors && !NON_RETURNING_KEYS.has(key)) {
      t.inCall = counter;
      contToSyscall(tid);
    } else {
      cont(tid);
    }
  }

  private onSyscallExit(tid: number, t: ThreadState): void {
    if (t.inCall !== undefined) {
      if (this.info.failed(tid) === true) t.inCall.errors += 1;
      t.inCall = undefined;
    }
    cont(tid);
  }

  private onNewTask(child: number, creator: ThreadState): void {
    const c = this.thread(child);
    if (c.tgid !== creator.tgid) this.process(c.tgid).parent ??= creator.tgid;
  }

  /** After an exec by a thread other than the leader, that thread carries on under the leader's tid. */
  private onExec(tid: number, formerTid: number): void {
    if (formerTid !== tid) {
      const moved = this.threads.get(formerTid);
      this.threads.delete(formerTid);
      if (moved) this.threads.set(tid, { ...moved, tgid: tid });
    }
    const p = this.process(this.thread(tid).tgid);
    p.command = commandOf(p.pid) ?? p.command;
  }

  private thread(tid: number): ThreadState {
    let t = this.threads.get(tid);
    if (t === undefined) {
      t = { tgid: threadGroupOf(tid), inCall: undefined };
      this.threads.set(tid, t);
    }
    return t;
  }

  private process(tgid: number): ProcessTally {
    let p = this.processes.get(tgid);
    if (p === undefined) {
      p = new ProcessTally(tgid);
      p.command = commandOf(tgid);
      this.processes.set(tgid, p);
    }
    return p;
  }
}
