import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { cve } from '../references.js';

export const onlyStdioInherited: SingleInvariant = {
  id: 'fd.only-stdio-inherited',
  level: 'MUST',
  title: 'The contained program inherits no open file descriptor beyond 0, 1 and 2.',
  reference: cve('CVE-2024-21626', 'due to an internal file descriptor leak, an attacker could cause a newly-spawned container process (from runc exec) to have a working directory in the host filesystem namespace'),
  anchors: {
    contest: ['closes_fd', 'pass_single_fd'],
    crun: ['test_preserve_fds.py::test_preserve_fds_0', 'test_preserve_fds.py::test_preserve_fds_some'],
  },
  scenario: 'single',
  request: () => ({}),
  check: (o) => {
    const leaked = o.self.fds.filter((f) => f.fd > 2 && f.inherited);
    return leaked.length === 0
      ? HOLDS
      : violated('no inherited descriptor above 2', leaked.map((f) => `fd ${f.fd} → ${f.target}`).join('; '));
  },
};
