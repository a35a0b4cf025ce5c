// Runs the real command line (node bin/nsrig.js ...) as a user would, and gives back what it did.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const NSRIG = fileURLToPath(new URL('../../../bin/nsrig.js', import.meta.url));

export interface CliRun {
  /** The pid it ran as (`through` commands that exec keep it): the owner its container ids name. */
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to its stdin, which is then closed; without it, stdin is /dev/null. */
  input?: string;
  /** Killed (SIGKILL) after this long; the test then sees the signal. Default 150 s (a loaded CI host is slow; ava stops a test at 3 min). */
  timeoutMs?: number;
  /** A command that runs nsrig, given its argv after these words (for example unshare(1) and its options). */
  through?: string[];
}

export function nsrig(args: string[], options: CliOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const [command, ...prefix] = [...(options.through ?? []), process.execPath];
    const child = spawn(command!, [...prefix, NSRIG, ...args], {
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: options.env ?? process.env, cwd: options.cwd, timeout: options.timeoutMs ?? 150_000, killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin?.end(options.input);
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ pid: child.pid, code, signal, stdout, stderr }));
  });
}

/**
 * `nsrig ARGS` as on a pure cgroup v2 host, on any host: in a private mount namespace whose
 * /sys/fs/cgroup is only a fresh cgroup2 mount (the kernel's one unified hierarchy, as a v2-only
 * host mounts it), so every v1 hierarchy is out of its sight.
 */
export function nsrigOnPureV2(args: string[], options: Omit<CliOptions, 'through'> = {}): Promise<CliRun> {
  const view = 'umount -R /sys/fs/cgroup 2>/dev/null; mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"';
  return nsrig(args, { ...options, through: ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', view, 'pure-cgroup-v2'] });
}

/** For assertion messages: everything the command printed. */
export function printed(run: CliRun): string {
  return `exit ${run.code ?? run.signal}\n--- stdout\n${run.stdout}--- stderr\n${run.stderr}`;
}
