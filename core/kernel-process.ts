// A second executor for the same step lists: stage 2's calls carried out by another process (a
// Node child on libc, core/kernel-process-main.ts) that this one asks call by call over its IPC
// channel, while the interpreter runs here (runStepsAsync). The list, its references, conditions
// and fallbacks are untouched; only where each call is made changes. The child inherits this
// process's namespaces, and whatever it unshares or joins is its own: it can act inside a
// container's namespaces (after a setns list) on this process's behalf.
import { fork, type ChildProcess } from 'node:child_process';
import type { Executor } from './launch-interpreter.js';
import { HandleStateError } from './native/syscall-error.js';

/** A call the other process refused: its message, and the errno name a list's orElse matches. */
export class RemoteCallError extends Error {
  constructor(readonly call: string, readonly remoteName: string, message: string, readonly code: string | undefined) {
    super(`${call} in the kernel process: ${message}`);
    this.name = 'RemoteCallError';
  }
}

interface Reply {
  id: number;
  result?: unknown;
  error?: { name: string; message: string; code: string | null };
}

const MAIN = new URL('./kernel-process-main.js', import.meta.url);

export class KernelProcess {
  private nextId = 0;
  private readonly pending = new Map<number, { call: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exited: string | undefined;
  private readonly ended: Promise<void>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (reply.error) waiting.reject(new RemoteCallError(waiting.call, reply.error.name, reply.error.message, reply.error.code ?? undefined));
      else waiting.resolve(reply.result === null ? undefined : reply.result);
    });
    this.ended = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = signal ?? `exit code ${code}`;
        for (const [, waiting] of this.pending) {
          waiting.reject(new HandleStateError(`the kernel process ended (${this.exited}) before ${waiting.call} answered`));
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Starts the other process; its stdout and stderr are this one's. */
  static start(): KernelProcess {
    return new KernelProcess(fork(MAIN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  private ask(call: string, args: unknown): Promise<unknown> {
    if (this.exited !== undefined) return Promise.reject(new HandleStateError(`the kernel process has ended (${this.exited})`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { call, resolve, reject });
      this.child.send({ id, call, args });
    });
  }

  /** An executor of every stage 2 call, each made in the other process; answers arrive later, so lists run with runStepsAsync. */
  get executor(): Executor {
    // Not "then": the executor itself is no promise.
    return new Proxy({}, {
      get: (_target, name) => (typeof name === 'string' && name !== 'then' ? (args: unknown) => this.ask(name, args) : undefined),
    }) as Executor;
  }

  /** Ends the other process (closing the channel is its signal to exit) and waits until it has. */
  async close(): Promise<void> {
    if (this.exited === undefined) this.child.disconnect();
    await this.ended;
  }
}
