import { expectEqual, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { manSection } from '../references.js';

export const execSeccompOfInit: ExecInvariant = {
  id: 'exec.seccomp-of-init',
  level: 'MUST',
  title: 'A process joined with exec runs in seccomp filter mode (Seccomp: 2) exactly when the container has a seccomp policy, as its init does.',
  reference: manSection('proc_pid_status', 5, 'Seccomp', '0 means SECCOMP_MODE_DISABLED; 1 means SECCOMP_MODE_STRICT; 2 means SECCOMP_MODE_FILTER.'),
  generate: { seccomp: true },
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (init, joined, _given, profile) => {
    const want = profile.seccomp ? 2 : 0;
    return expectEqual({ init: want, joined: want }, { init: init.self.seccomp, joined: joined.self.seccomp });
  },
};
