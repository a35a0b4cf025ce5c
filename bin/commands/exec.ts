// nsrig exec ID [--env K=V]... [--cwd DIR] [--user UID[:GID]] -- PROGRAM ARGS...: a process joined
// to a running engine container that another `nsrig run --name ID` launched.
import { parseArgs } from 'node:util';
import { ExecError, execInContainer, type ExecProcess } from '../../core/container-exec.js';
import { openRegistered } from '../../core/registered-container.js';
import { RegistryError } from '../../core/container-registry.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { exitCodeForLaunchError } from './run.js';
import { UsageError } from '../usage.js';

/** As nsrig run: the container could not be joined (or is not there). */
const EXIT_CANNOT_JOIN = 125;
const USAGE = 'usage: nsrig exec ID [--env K=V]... [--cwd DIR] [--user UID[:GID]] -- PROGRAM ARGS...';

function parseUser(text: string): { uid: number; gid: number } {
  const match = /^(\d{1,10})(?::(\d{1,10}))?$/.exec(text);
  const [uid, gid] = match ? [Number(match[1]), Number(match[2] ?? match[1])] : [NaN, NaN];
  // (uid_t)-1 means "unchanged" to the kernel, never an id.
  if (!(uid < 0xffffffff && gid < 0xffffffff)) throw new UsageError(`--user ${text}: expected UID or UID:GID, numbers below 4294967295`);
  return { uid, gid };
}

function parseEnv(entries: string[]): Record<string, string> {
  return Object.fromEntries(entries.map((entry) => {
    const eq = entry.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env ${entry}: expected NAME=VALUE`);
    return [entry.slice(0, eq), entry.slice(eq + 1)];
  }));
}

export async function exec(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  if (dash < 0 || dash === args.length - 1) throw new UsageError(`${USAGE}\n(the program comes after --)`);
  const { values, positionals } = parseArgs({
    args: args.slice(0, dash), allowPositionals: true, strict: true,
    options: { env: { type: 'string', multiple: true }, cwd: { type: 'string' }, user: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new UsageError(USAGE);
  const id = positionals[0]!;
  const given = parseEnv(values.env ?? []);
  const user = values.user === undefined ? undefined : parseUser(values.user);

  let opened: ReturnType<typeof openRegistered>;
  try {
    opened = openRegistered(id);
  } catch (e) {
    if (!(e instanceof RegistryError)) throw e;
    if (e.reason === 'invalid-id') throw new UsageError(e.message);
    process.stderr.write(`nsrig exec: ${e.message}\n`);
    return EXIT_CANNOT_JOIN;
  }
  const { container } = opened;
  // As runc exec: the launch's environment, with what --env names set over it.
  const request: ExecProcess = {
    args: args.slice(dash + 1), cwd: values.cwd, user, stdin: 0,
    ...(values.env === undefined ? {} : { env: { ...container.launchedFrom!.profile.process.env, ...given } }),
  };
  let joined;
  try {
    joined = await execInContainer(container, request);
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
    process.stderr.write(`nsrig exec: ${e.message}\n`);
    return exitCodeForLaunchError(e);
  } finally {
    opened.release();
  }
  // The program has its own session: Ctrl-C reaches only us, and is passed on to it, not to the container.
  let exited = false;
  const forward = (signal: NodeJS.Signals) => {
    if (!exited) process.kill(joined.pid, signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  joined.stdout.pipe(process.stdout, { end: false });
  joined.stderr.pipe(process.stderr, { end: false });
  const ends = [joined.stdout, joined.stderr].map((s) => new Promise((resolve) => s.on('close', resolve)));
  const exit = await joined.wait();
  exited = true;
  await Promise.all(ends);
  return exit.code ?? 128 + (SIGNALS[exit.signal as NodeJS.Signals] ?? 9);
}
