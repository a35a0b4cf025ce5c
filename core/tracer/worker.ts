// The tracer thread. It attaches (PTRACE_SEIZE) when told the pid, then runs the stop loop until
// every tracee is gone; the kernel binds the tracees to this thread, so it alone may touch them.
// If this thread dies, PTRACE_O_EXITKILL has the kernel SIGKILL every tracee.
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { blockChildSignalInThisThread, seize } from '../native/ptrace.js';
import { SyscallError } from '../native/syscall-error.js';
import { SEIZE_OPTIONS, TraceSession, type SessionOptions } from './stop-loop.js';
import type { FromTracer, ToTracer } from './messages.js';

const port = parentPort!;
const options = workerData as SessionOptions;

function parentOf(pid: number): number | undefined {
  const m = /^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : undefined;
}

port.once('message', (request: ToTracer) => {
  let session: TraceSession;
  try {
    blockChildSignalInThisThread();
    seize(request.pid, SEIZE_OPTIONS);
    session = new TraceSession(request.pid, options, parentOf(request.pid) === process.pid);
  } catch (e) {
    const reply: FromTracer = { kind: 'attach-failed', message: (e as Error).message, errno: e instanceof SyscallError ? e.errno : undefined };
    port.postMessage(reply);
    return;
  }
  port.postMessage({ kind: 'attached' } satisfies FromTracer);
  session.run();
  port.postMessage({ kind: 'done', summary: session.summary() } satisfies FromTracer);
});

port.postMessage({ kind: 'ready' } satisfies FromTracer);
