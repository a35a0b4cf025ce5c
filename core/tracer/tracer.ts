// The main thread's handle on a tracer thread: the filter to install, attach(pid), and the summary
// once every tracee is gone. The ptrace relation lives entirely in the worker (see worker.ts).
import { Worker } from 'node:worker_threads';
import { SyscallError } from '../native/syscall-error.js';
import { traceFilter } from './filter.js';
import type { FromTracer, ToTracer } from './messages.js';
import type { SessionOptions, TraceSummary } from './stop-loop.js';

const WORKER = new URL('./worker.js', import.meta.url);

export class TracerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TracerError';
  }
}

export class Tracer {
  /** The seccomp program that makes the traced program stop; install it last (see filter.ts). */
  readonly filter: Buffer;
  private readonly worker: Worker;
  private readonly done: Promise<TraceSummary>;
  private readonly ready: Promise<void>;
  private attachReply: ((m: FromTracer) => void) | undefined;
  private attached = false;

  /**
   * Starts the tracer thread and resolves once it runs, its modules loaded: a thread that cannot
   * start fails here rather than in the middle of a launch, and no thread of ours is half-created
   * when the engine clones (a clone made then inherits glibc's mark of a thread being created).
   */
  static async start(options: SessionOptions): Promise<Tracer> {
    const tracer = new Tracer(options);
    // A thread that fails to start rejects `done` instead.
    await Promise.race([tracer.ready, tracer.done]);
    return tracer;
  }

  private constructor(options: SessionOptions) {
    this.filter = traceFilter(options.onlySyscalls);
    this.worker = new Worker(WORKER, { workerData: options });
    let ready: () => void;
    this.ready = new Promise((resolve) => (ready = resolve));
    this.done = new Promise((resolve, reject) => {
      this.worker.on('message', (m: FromTracer) => {
        if (m.kind === 'done') resolve(m.summary);
        else if (m.kind === 'ready') ready();
        else this.attachReply?.(m);
      });
      this.worker.on('error', (e) => reject(new TracerError(`the tracer thread failed: ${e.message}`)));
      this.worker.on('exit', (code) => reject(new TracerError(`the tracer thread ended (exit code ${code}) before every tracee was gone`)));
    });
    // Awaited by finished(); an early failure must not surface as an unhandled rejection meanwhile.
    this.done.catch(() => undefined);
  }

  /**
   * Seizes `pid` from the tracer thread. Call it while the process cannot yet have run anything to
   * be traced, e.g. from launchContainer's beforeSetup. Rejects with SyscallError when the seize fails.
   */
  attach(pid: number): Promise<void> {
    if (this.attached) return Promise.reject(new TracerError(`this tracer is already attached; it traces one process tree`));
    this.attached = true;
    return new Promise((resolve, reject) => {
      this.attachReply = (m) => {
        this.attachReply = undefined;
        if (m.kind === 'attached') resolve();
        else if (m.kind === 'attach-failed') reject(m.errno !== undefined ? new SyscallError('ptrace(PTRACE_SEIZE)', m.errno, `pid ${pid}`) : new TracerError(m.message));
      };
      this.worker.postMessage({ kind: 'attach', pid } satisfies ToTracer);
    });
  }

  /**
   * The counts, once every traced thread and process is gone. When the seized process is a child of
   * this process, whoever started it must reap it (Container.wait does) for this to resolve.
   */
  finished(): Promise<TraceSummary> {
    return this.done;
  }

  /**
   * Ends the tracer thread. A thread waiting for its tracees ends at their next stop; the kernel
   * then kills every tracee (PTRACE_O_EXITKILL). A tracer that never attached just goes away.
   */
  async abandon(): Promise<void> {
    await this.worker.terminate();
  }

  get isAttached(): boolean {
    return this.attached;
  }
}
