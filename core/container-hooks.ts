// OCI hooks (runtime-spec config.md "POSIX-platform Hooks") run from the host: each hook is a
// program given the container's state JSON on stdin, killed when its timeout passes. Those the
// parent runs (prestart, createRuntime, poststart, poststop) run here, in the runtime's own
// namespaces; a failure of the first two stops the start, of the last two it is one warning line
// (runtime.md "Lifecycle" steps 3, 4, 9 and 13).
import { spawn } from 'node:child_process';
import type { Hook, HookKind, Hooks } from '../policy/profile/types.js';

/**
 * Hook kinds the engine does not run yet, and why: they run in the container's namespaces, from
 * stage 2. A profile with any of them is refused before anything is created.
 */
export const UNSUPPORTED_HOOKS: readonly { kind: HookKind; reason: string }[] = [
  { kind: 'createContainer', reason: 'the built-in engine does not run createContainer hooks yet (they run in the container\'s namespaces, from stage 2)' },
  { kind: 'startContainer', reason: 'the built-in engine does not run startContainer hooks yet (they run in the container\'s namespaces, from stage 2)' },
];

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

/** A hook that did not exit 0: which one, and what it said or why it was stopped. */
export class HookError extends Error {
  constructor(readonly kind: HookKind, readonly index: number, readonly hook: Hook, readonly reason: string) {
    super(`hooks.${kind}[${index}] (${hook.path}) failed: ${reason}`);
    this.name = 'HookError';
  }
}

const STDERR_KEPT_BYTES = 2048;

/**
 * Runs one hook to its end. Its own process group, so a timeout kills whatever it started too
 * (a hook that exits 0 may leave a daemon behind, as runc lets it);
 * its stdout is dropped (the spec gives it no meaning), the end of its stderr goes into the error.
 */
export function runHook(kind: HookKind, index: number, hook: Hook, state: ContainerState): Promise<void> {
  const argv = hook.args.length > 0 ? hook.args : [hook.path];
  const env = Object.fromEntries(hook.env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]));
  return new Promise((resolve, reject) => {
    let settled = false;
    const child = spawn(hook.path, argv.slice(1), { argv0: argv[0], env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    let timedOut = false;
    const timer = hook.timeoutSeconds === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, hook.timeoutSeconds * 1000);
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
      const said = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new HookError(kind, index, hook, said === '' ? reason : `${reason}; its stderr ended with: ${said}`));
    };
    child.on('error', (e: NodeJS.ErrnoException) => fail(`cannot run it (${e.code ?? e.message})`));
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) fail(`still running after its timeout of ${hook.timeoutSeconds} s; killed`);
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

/** The hooks of one kind in order; the first failure stops the rest and is thrown. */
export async function runHooksOrFail(hooks: Hooks | undefined, kind: HookKind, state: ContainerState): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (const [i, hook] of list.entries()) await runHook(kind, i, hook, state);
}

/** The hooks of one kind in order; each failure is one warning and the rest still run. */
export async function runHooksWarning(hooks: Hooks | undefined, kind: HookKind, state: ContainerState,
  warn: (message: string) => void): Promise<void> {
  const list = hooks?.[kind] ?? [];
  for (const [i, hook] of list.entries()) {
    try {
      await runHook(kind, i, hook, state);
    } catch (e) {
      if (!(e instanceof HookError)) throw e;
      warn(e.message);
    }
  }
}
