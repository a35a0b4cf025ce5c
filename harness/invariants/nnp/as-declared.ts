import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const nnpAsDeclared: SingleInvariant = {
  id: 'nnp.as-declared',
  level: 'MUST',
  title: 'NoNewPrivs in /proc/self/status is 1 exactly when the profile sets noNewPrivileges, for the program and its descendants.',
  reference: ociSpec('config.md', 'linux-process', 'Linux process (noNewPrivileges)', 'setting noNewPrivileges to true prevents the process from gaining additional privileges.'),
  anchors: { crun: ['test_capabilities.py::test_new_privs'] },
  scenario: 'single',
  request: () => ({ children: true }),
  check: (o, profile) => {
    const want = profile.process.noNewPrivileges ? 1 : 0;
    return expectEqual([want, want, want], [o.self, ...o.children].map((p) => p.noNewPrivs));
  },
};
