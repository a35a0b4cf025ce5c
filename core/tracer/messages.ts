// What the main thread and the tracer thread say to each other.
import type { TraceSummary } from './stop-loop.js';

export type ToTracer = { kind: 'attach'; pid: number };

export type FromTracer =
  | { kind: 'ready' }
  | { kind: 'attached' }
  | { kind: 'attach-failed'; message: string; errno: number | undefined }
  | { kind: 'done'; summary: TraceSummary };
