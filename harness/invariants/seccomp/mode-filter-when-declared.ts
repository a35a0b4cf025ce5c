import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const modeFilterWhenDeclared: SingleInvariant = {
  id: 'seccomp.mode-filter-when-declared',
  level: 'MUST',
  title: 'With a seccomp policy, the program and its descendants run in seccomp filter mode (Seccomp: 2).',
  reference: manSection('proc_pid_status', 5, 'Seccomp', '0 means SECCOMP_MODE_DISABLED; 1 means SECCOMP_MODE_STRICT; 2 means SECCOMP_MODE_FILTER.'),
  anchors: { runtimeTools: ['linux_seccomp'], contest: ['seccomp_test'] },
  generate: { seccomp: true },
  // Holds for every profile: filter mode with a policy, none without.
  appliesTo: () => undefined,
  scenario: 'single',
  request: () => ({ children: true }),
  check: (o, profile) => {
    const want = profile.seccomp ? 2 : 0;
    return expectEqual([want, want, want], [o.self, ...o.children].map((p) => p.seccomp));
  },
};
