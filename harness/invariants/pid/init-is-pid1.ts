import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const initIsPid1: SingleInvariant = {
  id: 'pid.init-is-pid1',
  level: 'MUST',
  title: 'The contained program is PID 1 of its PID namespace, with parent PID 0.',
  reference: manSection('pid_namespaces', 7, 'The namespace "init" process', 'The first process created in a new namespace [...] has the PID 1, and is the "init" process for the namespace'),
  anchors: { crun: ['test_pid.py::test_pid'], ltp: ['pidns01', 'pidns02'] },
  generate: requiresNamespaces('pid'),
  scenario: 'single',
  request: () => ({}),
  check: (o) => expectEqual({ pid: 1, ppid: 0 }, { pid: o.self.pid, ppid: o.self.ppid }),
};
