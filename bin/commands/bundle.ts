// nsrig bundle PROFILE DIR: an OCI bundle a person can inspect or run by hand (runc run -b DIR ID).
import { loadProfile } from '../../policy/load-profile.js';
import { writeBundle } from '../../harness/targets/oci/bundle-writer.js';
import { UsageError } from '../usage.js';
import { warnOnStderr } from '../warnings.js';

export function bundle(args: string[]): number {
  const dash = args.indexOf('--');
  const own = dash >= 0 ? args.slice(0, dash) : args;
  if (own.length !== 2) throw new UsageError('usage: nsrig bundle PROFILE DIR [-- CMD ARGS...]');
  const profile = loadProfile(own[0], warnOnStderr);
  const written = writeBundle(profile, own[1], dash >= 0 ? { args: args.slice(dash + 1) } : {});
  process.stdout.write(`${written.configPath}\n`);
  return 0;
}
