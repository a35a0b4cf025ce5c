import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const cgroupNamespaceRoot: SingleInvariant = {
  id: 'cgroup.namespace-root',
  level: 'MUST',
  title: 'With a cgroup namespace, every hierarchy in /proc/self/cgroup shows the container at its root ("/").',
  reference: manSection('cgroup_namespaces', 7, 'DESCRIPTION', 'Cgroup namespaces virtualize the view of a process\'s cgroups (see cgroups(7)) as seen via /proc/pid/cgroup and /proc/pid/mountinfo.'),
  anchors: { crun: ['test_namespaces.py::test_cgroup_namespace'] },
  generate: requiresNamespaces('cgroup'),
  scenario: 'single',
  request: () => ({}),
  check: (o) => {
    const lines = o.cgroup.split('\n').filter(Boolean);
    // "hierarchy-id:controllers:path"; the path may itself hold colons.
    const paths = lines.map((l) => l.split(':').slice(2).join(':'));
    return expectEqual(lines.length > 0 ? lines.map(() => '/') : ['/'], paths);
  },
};
