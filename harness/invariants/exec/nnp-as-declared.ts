import { expectEqual, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { ociSpec } from '../references.js';

export const execNnpAsDeclared: ExecInvariant = {
  id: 'exec.nnp-as-declared',
  level: 'MUST',
  title: 'A process joined with exec has NoNewPrivs 1 exactly when the container declares noNewPrivileges, as its init has.',
  reference: ociSpec('config.md', 'linux-process', 'Linux process (noNewPrivileges)', 'setting noNewPrivileges to true prevents the process from gaining additional privileges.'),
  anchors: { crun: ['test_exec.py::test_exec_no_new_privs'] },
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (init, joined, _given, profile) => {
    const want = profile.process.noNewPrivileges ? 1 : 0;
    return expectEqual({ init: want, joined: want }, { init: init.self.noNewPrivs, joined: joined.self.noNewPrivs });
  },
};
