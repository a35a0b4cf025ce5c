// nsrig validate PROFILE...: OK, or every error with its field path.
import { validateProfile } from '../../policy/load-profile.js';
import { UsageError } from '../usage.js';
import { warnOnStderr } from '../warnings.js';

export function validate(args: string[]): number {
  if (args.length === 0) throw new UsageError('usage: nsrig validate PROFILE...');
  let failed = 0;
  for (const file of args) {
    const errors = validateProfile(file, warnOnStderr);
    if (errors.length === 0) {
      process.stdout.write(`${file}: OK\n`);
      continue;
    }
    failed++;
    for (const e of errors) process.stdout.write(`${e.message}\n`);
  }
  return failed ? 1 : 0;
}
