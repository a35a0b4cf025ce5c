// The parent of a container made with `RUNTIME create`, as a container manager's shim is.
//
//   node create-start-shim.js PID_FILE RUNTIME ARGS...   (ARGS: global options, create, its options, ID)
//
// `create` exits once the container is created, leaving its init waiting for `start`; the init
// then belongs to whoever adopts orphans. This process becomes a child subreaper first, so the
// init is re-parented here, and it alone can reap it and learn how the program ended. The
// runtime gets this process's descriptors 0-2, which the container keeps (runc's "pass-through"
// stdio): the caller's pipes reach the program. Descriptor 3 tells the caller one JSON line,
// {"created":true,"pid":N} or {"created":false,...}; this process then exits as `RUNTIME run`
// would: with the program's code, or 128+N when signal N killed it.
//
// A create that fails may leave its init to us: crun 1.8.1, when a prestart hook fails, kills the
// init and exits without reaping it. As a manager's shim does, this one reaps what it adopted
// before it says the create failed; otherwise the zombie went to the host's pid 1 when the shim
// exited, and stayed in /proc for as long as that init took to reap it (seconds on this VM's),
// where hooks.failing-prestart-stops-start counted the pid named in the hook's state as alive.
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { becomeChildSubreaper, openPidfd, waitForExit } from '../../../core/host-kernel.js';

const REPORT_FD = 3;
/** The shim could not do its own part (no subreaper, no pidfd): no runtime reached that far. */
const SHIM_FAILED = 125;
/** How long an adopted process of a failed create may take to die; one still running past it is left for the caller to find. */
const ADOPTED_EXIT_WAIT_MS = 5_000;

/** This process's children, from every thread's list (proc(5) /proc/PID/task/TID/children). */
function children(): number[] {
  const pids = fs.readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      return fs.readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return [...new Set(pids)];
}

/** Waits for and reaps every child left here (the runtime itself is reaped already), each through a pidfd. */
async function reapAdopted(): Promise<void> {
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, ADOPTED_EXIT_WAIT_MS).unref());
  const exits = children().flatMap((pid) => {
    try {
      return [waitForExit(openPidfd(pid)).then(() => undefined, () => undefined)];
    } catch {
      return []; // reaped meanwhile
    }
  });
  await Promise.race([Promise.all(exits), deadline]);
}

function report(message: Record<string, unknown>): void {
  fs.writeSync(REPORT_FD, `${JSON.stringify(message)}\n`);
}

async function main(): Promise<number> {
  const [pidFile, runtime, ...args] = process.argv.slice(2);
  if (pidFile === undefined || runtime === undefined) {
    report({ created: false, why: 'usage: create-start-shim PID_FILE RUNTIME ARGS...' });
    return SHIM_FAILED;
  }
  becomeChildSubreaper();
  const create = spawn(runtime, args, { stdio: ['inherit', 'inherit', 'inherit'] });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => {
    create.on('error', (e) => {
      report({ created: false, why: `could not run ${runtime}: ${e.message}` });
      resolve([SHIM_FAILED, null]);
    });
    create.on('exit', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    await reapAdopted();
    report({ created: false, code, signal });
    return code ?? SHIM_FAILED;
  }
  const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  let pidfd: number;
  try {
    pidfd = openPidfd(pid);
  } catch (error) {
    report({ created: false, why: `create exited 0 but its pid file names ${pid}, which is gone: ${(error as Error).message}` });
    return SHIM_FAILED;
  }
  report({ created: true, pid });
  const exit = await waitForExit(pidfd);
  if (exit.signal !== null) return 128 + (os.constants.signals[exit.signal as NodeJS.Signals] ?? 0);
  return exit.code ?? SHIM_FAILED;
}

main().then((code) => process.exit(code), (error: Error) => {
  try {
    report({ created: false, why: `create-start shim failed: ${error.message}` });
  } finally {
    process.exit(SHIM_FAILED);
  }
});
