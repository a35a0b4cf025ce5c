// nsrig plan PROFILE [--json] [-- CMD ARGS...]: the calls a launch of PROFILE will make, in order,
// without making any.
import { parseArgs } from 'node:util';
import { launchView, formatLaunchView } from '../../core/launch-view.js';
import { loadProfile } from '../../policy/load-profile.js';
import { UsageError } from '../usage.js';

export function plan(args: string[]): number {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  const command = dash >= 0 ? args.slice(dash + 1) : undefined;
  const { values, positionals } = parseArgs({ args: own, options: { json: { type: 'boolean' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UsageError('usage: nsrig plan PROFILE [--json] [-- CMD ARGS...]');
  if (command && command.length === 0) throw new UsageError('nothing to run after --');
  const view = launchView(loadProfile(positionals[0]!), { args: command });
  process.stdout.write(values.json ? `${JSON.stringify(view, null, 2)}\n` : formatLaunchView(view));
  return 0;
}
