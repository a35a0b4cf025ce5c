// OCI hooks (runtime-spec config.md "POSIX-platform Hooks"): each hook is a program given the
// container's state JSON on stdin, killed when its timeout passes. The parent runs prestart,
// createRuntime (while stage 2 holds after the mounts, before pivot_root), poststart and poststop here, in the runtime's own namespaces (a failure of the
// first two stops the start, of the last two it is one warning line: runtime.md "Lifecycle" steps
// 3, 4, 9 and 13); stage 2 runs createContainer and startContainer inside the container's
// namespaces through runHookInside (a run_hook step, core/setup-steps.ts), where a failure stops
// the start too.
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import type { HookKind, Hooks } from '../policy/profile/types.js';

/** The runtime-spec version whose state the hooks are given (runtime.md "State"). */
export const STATE_OCI_VERSION = '1.0.2';

/** runtime.md "State", as a hook reads it on stdin. */
export interface ContainerState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped';
  /** The container's first process as the host sees it; absent once it is gone. */
  pid?: number;
  bundle: string;
  annotations: Record<string, string>;
}

/** A hook that did not exit 0: which one ("hooks.createRuntime[0]"), and what it said or why it was stopped. */
export class HookError extends Error {
  constructor(readonly what: string, readonly path: string, readonly reason: string) {
    super(`${what} (${path}) failed: ${reason}`);
    this.name = 'HookError';
  }

  /** The hook list it belongs to ("hooks.createRuntime"): the step a failed start names. */
  get list(): string {
    return this.what.replace(/\[\d+\]$/, '');
  }
}

/** A hook as stage 2 is given it: named for messages, argv complete, timeout in milliseconds. */
export interface PlannedHook {
  what: string;
  path: string;
  argv: string[];
  env: string[];
  timeoutMs: number | null;
}

export function plannedHooks(hooks: Hooks | undefined, kind: HookKind): PlannedHook[] {
  return (hooks?.[kind] ?? []).map((h, i) => ({
    what: `hooks.${kind}[${i}]`, path: h.path, argv: h.args.length > 0 ? h.args : [h.path], env: h.env,
    timeoutMs: h.timeoutSeconds === undefined ? null : h.timeoutSeconds * 1000,
  }));
}

function environment(env: readonly string[]): Record<string, string> {
  return Object.fromEntries(env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
}

function stderrEnd(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/**
 * Runs one hook to its end from stage 2, which has nothing else to do meanwhile: synchronously,
 * with the state's pid this process's own as the container sees it (runtime.md "State"). A
 * timeout kills the hook; whatever it left behind is in the container, and goes with it.
 */
export function runHookInside(hook: PlannedHook, state: Omit<ContainerState, 'pid'>, fd?: number): void {
  // Through this process's own descriptor, by its pid in the procfs mounted at /proc (the host's
  // until pivot_root): /proc/self would be the hook's, which has no such descriptor once it execs,
  // so a script's interpreter could not open it again.
  const executable = fd === undefined ? hook.path : `/proc/${fs.readlinkSync('/proc/self')}/fd/${fd}`;
  const r = spawnSync(executable, hook.argv.slice(1), {
    argv0: hook.argv[0], env: environment(hook.env), input: JSON.stringify({ ...state, pid: process.pid }),
    // Pipes, not /dev/null: before pivot_root or without a dev mount there may be none.
    stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024,
    ...(hook.timeoutMs === null ? {} : { timeout: hook.timeoutMs, killSignal: 'SIGKILL' as const }),
  });
  const said = stderrEnd(r.stderr?.toString('utf8') ?? '');
  const fail = (reason: string): never => {
    throw new HookError(hook.what, hook.path, said === '' ? reason : `${reason}; its stderr ended with: ${said}`);
  };
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ETIMEDOUT') fail(`still running after its timeout of ${hook.timeoutMs! / 1000} s; killed`);
  // EPIPE: it exited without reading its stdin, which is its business; it did run.
  if (r.error !== undefined && !(code === 'EPIPE' && r.status !== null)) fail(`cannot run it (${code ?? r.error.message})`);
  if (r.status !== 0) fail(r.signal === null ? `exit code ${r.status}` : `killed by ${r.signal}`);
}

const STDERR_KEPT_BYTES = 2048;

/**
 * Runs one hook to its end from nsrig, in its own namespaces. Its own process group, so a timeout kills whatever it started too
 * (a hook that exits 0 may leave a daemon behind, as runc lets it);
 * its stdout is dropped (the spec gives it no meaning), the end of its stderr goes into the error.
 */
export function runHookOutside(hook: PlannedHook, state: ContainerState): Promise<void> {
  const env = environment(hook.env);
  return new Promise((resolve, reject) => {
    let settled = false;
    const child = spawn(hook.path, hook.argv.slice(1), { argv0: hook.argv[0], env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    const timer = hook.timeoutMs === null ? undefined : setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, hook.timeoutMs);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT_BYTES);
    });
    // A hook that never reads its stdin closes the pipe early: that is its business, not a failure.
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify(state));
    const fail = (reason: string) => {
      if (timer) clearTimeout(timer);
      if (settled) return;
      settled = true;
      const said = stderrEnd(stderr);
      reject(new HookError(hook.what, hook.path, said === '' ? reason : `${reason}; its stderr ended with: ${said}`));
    };
    child.on('error', (e: NodeJS.ErrnoException) => fail(`cannot run it (${e.code ?? e.message})`));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) fail(`still running after its timeout of ${hook.timeoutMs! / 1000} s; killed`);
      else if (code !== 0) fail(signal === null ? `exit code ${code}` : `killed by ${signal}`);
      else if (!settled) {
        settled = true;
        resolve();
      }
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is empty already.
  }
}

/** The hooks of one kind in order; each failure is one warning and the rest still run. */
export async function runHooksWarning(hooks: Hooks | undefined, kind: HookKind, state: ContainerState,
  warn: (message: string) => void): Promise<void> {
  for (const hook of plannedHooks(hooks, kind)) {
    try {
      await runHookOutside(hook, state);
    } catch (e) {
      if (!(e instanceof HookError)) throw e;
      warn(e.message);
    }
  }
}
