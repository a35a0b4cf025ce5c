import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manPage } from '../references.js';

export const cgroupNamespaceRoot: SingleInvariant = {
  id: 'cgroup.namespace-root',
  level: 'MUST',
  title: 'With a cgroup namespace, every hierarchy in /proc/self/cgroup shows the container at its root ("/").',
  reference: manPage('cgroup_namespaces', 7),
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
