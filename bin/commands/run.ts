// nsrig run PROFILE [-- CMD ARGS...]: one container in the foreground, stdio passed through.
import { launchContainer, LaunchError } from '../../core/container.js';
import { killLiveContainersOnExit } from '../../core/live-containers.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { loadProfile } from '../../policy/load-profile.js';
import { UsageError } from '../usage.js';
import { warnOnStderr } from '../warnings.js';

/** Launch failures, as container runtimes report them: 127 when the program cannot be found or run. */
const EXIT_LAUNCH_FAILED = 125;
const EXIT_NOT_EXECUTABLE = 127;

/** 127 when the program cannot be found or run, else 125: the container could not be set up. */
export function exitCodeForLaunchError(e: LaunchError): number {
  return e.step === 'resolve-executable' ? EXIT_NOT_EXECUTABLE : EXIT_LAUNCH_FAILED;
}

export async function run(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const command = dash >= 0 ? args.slice(dash + 1) : undefined;
  if (own.length !== 1) throw new UsageError('usage: nsrig run PROFILE [-- CMD ARGS...]');
  if (command && command.length === 0) throw new UsageError('nothing to run after --');
  const profile = loadProfile(own[0], warnOnStderr);
  killLiveContainersOnExit();

  let container;
  try {
    container = await launchContainer(profile, { stdio: 'inherit', args: command, warn: warnOnStderr });
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    process.stderr.write(`nsrig run: ${e.message}\n`);
    return exitCodeForLaunchError(e);
  }
  for (const warning of container.warnings) process.stderr.write(`nsrig run: warning: ${warning}\n`);
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
  if (interrupted) return 128 + SIGNALS[interrupted];
  if (exit.timedOut) process.stderr.write(`nsrig run: killed after the profile's timeout of ${profile.process.timeoutMs / 1000} s\n`);
  return exit.code ?? 128 + (SIGNALS[exit.signal ?? 'SIGKILL'] ?? 9);
}
