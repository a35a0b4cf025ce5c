import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

const sorted = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export const envExact: SingleInvariant = {
  id: 'env.exact',
  level: 'MUST',
  title: "The program's environment is exactly the profile's: every declared variable with its value, and nothing else but HOME when the profile sets none, which must then be the user's home in the container's /etc/passwd, or /.",
  reference: ociSpec('config.md', 'process', 'Process (env)', 'env (array of strings, OPTIONAL) with the same semantics as IEEE Std 1003.1-2008\'s environ.'),
  anchors: { runtimeTools: ['validateLinuxProcess'], crun: ['test_start.py::test_empty_home'] },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => {
    const expected = { ...profile.process.env };
    // runc, crun and youki give a process without HOME the one /etc/passwd names for its uid, or
    // "/" (as login(1) would); the runtime-spec leaves that open. Any other value is not allowed.
    if (!Object.hasOwn(expected, 'HOME') && Object.hasOwn(o.env, 'HOME')) expected.HOME = o.passwdHome ?? '/';
    return expectEqual(sorted(expected), sorted(o.env));
  },
};
