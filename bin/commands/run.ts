// nsrig run PROFILE [-- CMD ARGS...]: one container in the foreground, stdio passed through.
import { bundleOf, launchContainer, LaunchError } from '../../core/container.js';
import { claimId, recordRunning, releaseId, RegistryError, validateId, type ContainerRecord } from '../../core/container-registry.js';
import { relayConsole, sendConsoleToSocket, type ConsoleRelay } from '../../core/container-console.js';
import { killLiveContainersOnExit } from '../../core/live-containers.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { loadProfile } from '../../policy/load-profile.js';
import type { Profile } from '../../policy/profile/types.js';
import { UsageError } from '../usage.js';
import { warnOnStderr } from '../warnings.js';

/** Launch failures, as container runtimes report them: 127 when the program cannot be found or run. */
const EXIT_LAUNCH_FAILED = 125;
const EXIT_NOT_EXECUTABLE = 127;
/** Past the container's end, how long its last output may take to come out of the pty. */
const RELAY_DRAIN_MS = 2000;

/** 127 when the program cannot be found or run, else 125: the container could not be set up (or joined, for exec). */
export function exitCodeForLaunchError(e: Pick<LaunchError, 'step'>): number {
  return e.step === 'resolve-executable' ? EXIT_NOT_EXECUTABLE : EXIT_LAUNCH_FAILED;
}

export async function run(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : [...args];
  const command = dash >= 0 ? args.slice(dash + 1) : undefined;
  const socketAt = own.indexOf('--console-socket');
  const consoleSocket = socketAt >= 0 ? own.splice(socketAt, 2)[1] : undefined;
  if (socketAt >= 0 && !consoleSocket) throw new UsageError('--console-socket needs the path of a listening unix socket');
  const nameAt = own.indexOf('--name');
  const name = nameAt >= 0 ? own.splice(nameAt, 2)[1] : undefined;
  if (nameAt >= 0 && !name) throw new UsageError('--name needs the id other nsrig commands (exec, state, kill) will know the container by');
  if (own.length !== 1) throw new UsageError('usage: nsrig run [--name ID] [--console-socket PATH] PROFILE [-- CMD ARGS...]');
  if (command && command.length === 0) throw new UsageError('nothing to run after --');
  const profile = loadProfile(own[0], warnOnStderr);
  if (consoleSocket !== undefined && profile.process.terminal !== true) {
    throw new UsageError(`--console-socket: ${own[0]} asks for no terminal (process.terminal is not true), so there is no pty master to send`);
  }
  if (name !== undefined) {
    try {
      validateId(name);
    } catch (e) {
      throw new UsageError(`--name: ${(e as Error).message}`);
    }
  }
  killLiveContainersOnExit();

  // The id is taken before anything exists, so two runs never launch under one name.
  let named: ContainerRecord | undefined;
  if (name !== undefined) {
    try {
      named = claimId({ id: name, source: profile.source, profile, noNewKeyring: false, bundle: bundleOf(profile, {}), rootfs: profile.rootfs?.path });
    } catch (e) {
      if (!(e instanceof RegistryError)) throw e;
      process.stderr.write(`nsrig run: ${e.message}\n`);
      return EXIT_LAUNCH_FAILED;
    }
  }
  try {
    return await runContainer(profile, command, consoleSocket, named);
  } finally {
    if (name !== undefined) releaseId(name);
  }
}

async function runContainer(profile: Profile, command: string[] | undefined, consoleSocket: string | undefined, named: ContainerRecord | undefined): Promise<number> {
  let container;
  try {
    // The pty starts at the size of the user's terminal, as the program may read it first thing.
    const consoleSize = process.stdout.isTTY && consoleSocket === undefined ? { height: process.stdout.rows, width: process.stdout.columns } : undefined;
    container = await launchContainer(profile, { stdio: 'inherit', args: command, warn: warnOnStderr, consoleSize });
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    process.stderr.write(`nsrig run: ${e.message}\n`);
    return exitCodeForLaunchError(e);
  }
  if (named !== undefined) recordRunning(named, container);
  for (const warning of container.warnings) process.stderr.write(`nsrig run: warning: ${warning}\n`);
  let relay: ConsoleRelay | undefined;
  const master = container.takeConsole();
  if (master !== undefined) {
    if (consoleSocket === undefined) relay = relayConsole(master);
    else {
      try {
        sendConsoleToSocket(consoleSocket, master);
      } catch (e) {
        process.stderr.write(`nsrig run: --console-socket ${consoleSocket}: ${(e as Error).message}\n`);
        await container.destroy();
        return EXIT_LAUNCH_FAILED;
      }
    }
  }
  // The container has its own session, so Ctrl-C reaches only us: tear it down, then leave as killed.
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted ??= signal;
    void container.destroy();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const exit = await container.wait();
  // What the program wrote last may still sit in the pty: it is read to its end.
  await relay?.finish(RELAY_DRAIN_MS);
  relay?.restore();
  if (interrupted) return 128 + SIGNALS[interrupted];
  if (exit.timedOut) process.stderr.write(`nsrig run: killed after the profile's timeout of ${profile.process.timeoutMs / 1000} s\n`);
  return exit.code ?? 128 + (SIGNALS[exit.signal ?? 'SIGKILL'] ?? 9);
}
