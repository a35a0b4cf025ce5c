// Stage 2's work: read the step list the parent wrote once the id maps were in place, run it
// (it ends in execve, which becomes the contained program). Every failure goes to the parent as one
// JSON line on the report descriptor.
import fs from 'node:fs';
import type { SetupStep } from './setup-steps.js';
import { runSteps } from './launch-interpreter.js';
import { Stage2InputError } from './launch-error.js';
import { nativeKernel } from './native/native-kernel.js';
import { SyscallError } from './native/syscall-error.js';
import { EXEC_FAILED_EXIT_CODE } from './native/process.js';

export interface Stage2Report {
  /** paused: held at point (pause_for_parent) until the parent writes a byte on the control pipe. */
  event: 'exec' | 'error' | 'paused';
  point?: string;
  step?: string;
  message?: string;
  call?: string;
  errno?: number;
  code?: string;
  object?: string;
}

/**
 * The list ends at a newline or at end of file: a launcher that holds stage 2 at a pause keeps the
 * pipe open for the byte that resumes it (pause_for_parent reads it then), so the descriptor stays
 * open here; it is close-on-exec from prepare-stdio on. It writes nothing more before a pause.
 */
function readSteps(controlFd: number): SetupStep[] {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = fs.readSync(controlFd, buf, 0, buf.length, null);
    if (n === 0) {
      // Nothing more will come: no pause in this list.
      fs.closeSync(controlFd);
      break;
    }
    chunks.push(Buffer.from(buf.subarray(0, n)));
    if (buf[n - 1] === 0x0a) break;
  }
  const text = Buffer.concat(chunks).toString('utf8').trimEnd();
  if (!text) throw new Stage2InputError('the launcher closed the control pipe without a step list');
  return JSON.parse(text) as SetupStep[];
}

function report(fd: number, r: Stage2Report): void {
  fs.writeSync(fd, JSON.stringify(r) + '\n');
}

function errorReport(step: string, e: unknown): Stage2Report {
  if (e instanceof SyscallError) {
    return { event: 'error', step, message: e.message, call: e.call, errno: e.errno, code: e.code, object: e.object };
  }
  return { event: 'error', step, message: e instanceof Error ? e.message : String(e) };
}

export function runStage2(controlFd: number, reportFd: number): void {
  let step = 'read-plan';
  try {
    // The list already places finding the program and telling the parent before any seccomp step.
    runSteps(readSteps(controlFd), nativeKernel, (name) => {
      step = name;
    });
  } catch (e) {
    try {
      report(reportFd, errorReport(step, e));
    } catch {
      // The policy may deny write(2) after seccomp; the exit code still tells the parent.
    }
    process.exit(EXEC_FAILED_EXIT_CODE);
  }
}
