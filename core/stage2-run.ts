// Stage 2's work: read the plan the parent wrote once the id maps were in place, run the setup
// steps, and become the contained program with execve. Every failure goes to the parent as one
// JSON line on the report descriptor.
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchPlan } from './plan.js';
import { setupSteps, type SetupState } from './setup-steps.js';
import { accessExecutable, execve } from './native/system.js';
import { SyscallError } from './native/syscall-error.js';
import { rawSyscall } from './native/seccomp.js';
import { NR } from '../policy/kernel/syscall-table.js';
import { EXEC_FAILED_EXIT_CODE } from './native/process.js';
import { Stage2InputError } from './launch-error.js';

export interface Stage2Report {
  event: 'exec' | 'error';
  step?: string;
  message?: string;
  call?: string;
  errno?: number;
  code?: string;
  object?: string;
}

function readPlan(controlFd: number): LaunchPlan {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    const n = fs.readSync(controlFd, buf, 0, buf.length, null);
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  fs.closeSync(controlFd);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) throw new Stage2InputError('the launcher closed the control pipe without a plan');
  return JSON.parse(text) as LaunchPlan;
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

/** argv[0] as execve needs it: a path, found through the container's PATH when it has no slash. */
function resolveExecutable(plan: LaunchPlan): string {
  const name = plan.args[0];
  if (name.includes('/')) {
    const errno = accessExecutable(name);
    if (errno !== 0) throw new SyscallError('execve', errno, name, 'the program to run is missing or not executable in the container');
    return name;
  }
  const pathVar = plan.env.find((e) => e.startsWith('PATH='))?.slice(5) ?? '/usr/bin:/bin';
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const candidate = path.join(dir, name);
    if (accessExecutable(candidate) === 0) return candidate;
  }
  throw new Stage2InputError(`executable not found in the container: ${name} (searched PATH=${pathVar})`);
}

export function runStage2(controlFd: number, reportFd: number): void {
  let step = 'read-plan';
  try {
    const plan = readPlan(controlFd);
    const state: SetupState = { plan, bindTrees: new Map() };
    const steps = setupSteps(plan);
    // Everything from the first seccomp step on may run under a filter that forbids write(2),
    // so the executable is resolved and the parent told before it.
    const filtered = steps.findIndex((s) => s.name.startsWith('install-seccomp'));
    const split = filtered === -1 ? steps.length : filtered;
    for (const s of steps.slice(0, split)) {
      step = s.name;
      s.run(state);
    }
    step = 'resolve-executable';
    const executable = resolveExecutable(plan);
    report(reportFd, { event: 'exec' });
    // Before the seccomp steps, which may refuse close(2) and so hide the marker from the tracer.
    if (plan.traceStartMarker !== undefined) rawSyscall(NR.close, plan.traceStartMarker);
    for (const s of steps.slice(split)) {
      step = s.name;
      s.run(state);
    }
    step = 'execve';
    execve(executable, plan.args, plan.env);
  } catch (e) {
    try {
      report(reportFd, errorReport(step, e));
    } catch {
      // The policy may deny write(2) after seccomp; the exit code still tells the parent.
    }
    process.exit(EXEC_FAILED_EXIT_CODE);
  }
}
