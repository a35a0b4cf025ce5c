// One runtime invocation with a deadline. Every runtime command runs in its own process group, so
// a runtime that hangs is SIGKILLed together with anything it forked, and the caller always gets
// an answer.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The command outlived its deadline and was killed. */
  timedOut: boolean;
  /** The command could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

/**
 * Variables runtimes turn into the container's environment or its setup: runc and crun add
 * LISTEN_FDS/LISTEN_PID (socket activation) to the program's environment, and with NOTIFY_SOCKET
 * they bind that socket into the container, set it there, and wait for the program's READY=1.
 */
const WITHHELD_FROM_RUNTIME = ['NOTIFY_SOCKET', 'LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES'];

/**
 * The runtime gets the caller's environment, so a wrapper script's or a rootless runtime's own
 * settings (XDG_RUNTIME_DIR, a wrapper's NSRIG_* knobs) reach it; the container's environment
 * still comes from config.json alone, so the few variables a runtime would pass into it are withheld.
 */
export function runtimeEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of WITHHELD_FROM_RUNTIME) delete env[name];
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return env;
}

/**
 * Starts a runtime in a process group of its own. Its stdin is always a pipe, never the host's
 * /dev/null: crun 1.8.1 fchowns a container's standard streams to the container's user before it
 * joins the user namespace, so a /dev/null stdin would hand the host's /dev/null to that user
 * (containers/crun#1845, fixed by containers/crun#1847). "empty" closes the pipe at once, which
 * reads as end-of-file just as /dev/null does. `fd3`, when given, is the runtime's fd 3: a
 * descriptor (for --preserve-fds), or "pipe", a fourth pipe for a wrapper of the runtime to report on.
 */
export function spawnInGroup(file: string, args: string[], stdin: 'pipe' | 'empty', fd3?: number | 'pipe'): ChildProcess {
  const stdio: StdioOptions = fd3 === undefined ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', fd3];
  const child: ChildProcess = spawn(file, args, { stdio, detached: true, env: runtimeEnvironment() });
  if (stdin === 'empty') {
    child.stdin!.on('error', () => undefined);
    child.stdin!.end();
  }
  return child;
}

/** SIGKILL to a process group; false when it is already gone. */
export function killGroup(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 'SIGKILL');
    return true;
  } catch {
    return false;
  }
}

export function runCommand(file: string, args: string[], timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawnInGroup(file, args, 'empty');
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let settled = false;
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const finish = (result: Omit<CommandResult, 'stdout' | 'stderr' | 'timedOut'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, stdout, stderr, timedOut });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on('error', (e) => finish({ code: null, signal: null, spawnError: e.message }));
    // After a kill the group's pipes may stay open in a straggler we cannot see; the exit is enough.
    child.on('exit', (code, signal) => {
      if (!timedOut) return;
      child.stdout!.destroy();
      child.stderr!.destroy();
      finish({ code, signal });
    });
    child.on('close', (code, signal) => finish({ code, signal }));
  });
}

/** "exit 1: <stderr's last line>" or "killed after 10000 ms": what a failed command did, for messages. */
export function describeFailure(result: CommandResult, timeoutMs: number): string {
  if (result.spawnError !== undefined) return `could not run it: ${result.spawnError}`;
  if (result.timedOut) return `hung and was killed after ${timeoutMs} ms`;
  const said = result.stderr.trim().split('\n').filter(Boolean).pop();
  const how = result.signal === null ? `exit ${result.code}` : `killed by ${result.signal}`;
  return said === undefined ? how : `${how}: ${said}`;
}
