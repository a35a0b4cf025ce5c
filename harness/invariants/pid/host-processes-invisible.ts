import { HOLDS, requiresNamespaces, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const hostProcessesInvisible: SingleInvariant = {
  id: 'pid.host-processes-invisible',
  level: 'MUST',
  title: "No host process is visible in the container's /proc: it lists only the container's own PID 1.",
  reference: ociSpec('config-linux.md', 'namespaces', 'Namespaces (pid)', 'pid processes inside the container will only be able to see other processes inside the same container or inside the same pid namespace.'),
  anchors: { runtimeTools: ['linux_ns_nopath'], crun: ['test_namespaces.py::test_pid_namespace'], ltp: ['pidns03'] },
  generate: requiresNamespaces('pid'),
  scenario: 'single',
  request: () => ({}),
  // The probe runs alone; Node starts no other process, so /proc must list exactly PID 1.
  check: (o) => (o.procPids.length === 1 && o.procPids[0] === 1 ? HOLDS : violated('/proc lists only [1]', `/proc lists [${o.procPids.slice(0, 20).join(', ')}${o.procPids.length > 20 ? ', …' : ''}]`)),
};
