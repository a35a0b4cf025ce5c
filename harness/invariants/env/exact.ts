import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

const sorted = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export const envExact: SingleInvariant = {
  id: 'env.exact',
  level: 'MUST',
  title: "The program's environment is exactly the profile's: every declared variable with its value, and nothing else.",
  reference: ociSpec('config.md', 'process', 'Process (env)'),
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => expectEqual(sorted(profile.process.env), sorted(o.env)),
};
