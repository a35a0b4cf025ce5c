import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manPage } from '../references.js';

export const initIsPid1: SingleInvariant = {
  id: 'pid.init-is-pid1',
  level: 'MUST',
  title: 'The contained program is PID 1 of its PID namespace, with parent PID 0.',
  reference: manPage('pid_namespaces', 7),
  generate: requiresNamespaces('pid'),
  scenario: 'single',
  request: () => ({}),
  check: (o) => expectEqual({ pid: 1, ppid: 0 }, { pid: o.self.pid, ppid: o.self.ppid }),
};
