import { expectEqual, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { runcManual } from '../references.js';

const sorted = (env: Record<string, string>) => Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export const execEnvAsGiven: ExecInvariant = {
  id: 'exec.env-as-given',
  level: 'MUST',
  title: "A process joined with exec has exactly the environment it was given, not the init's, and nothing else but HOME when it was given none (its user's home, or /).",
  reference: runcManual('runc-exec', '--process', 'Instead of specifying all the exec parameters directly on the command line, get them from a process.json, a JSON file containing the process specification as defined by the OCI runtime spec.'),
  anchors: { crun: ['test_exec.py::test_exec_add_env', 'test_exec.py::test_exec_populate_home_env_from_process_uid'] },
  scenario: 'exec',
  skipWhen: execUnsupported,
  // As env.exact: runc, crun and youki add HOME from /etc/passwd, or "/", when the process has none.
  check: (_init, joined, given, profile) => {
    const expected = { ...(given.env ?? profile.process.env) };
    if (!Object.hasOwn(expected, 'HOME') && Object.hasOwn(joined.env, 'HOME')) expected.HOME = joined.passwdHome ?? '/';
    return expectEqual(sorted(expected), sorted(joined.env));
  },
};
