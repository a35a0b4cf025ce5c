import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const childrenShareNamespaces: SingleInvariant = {
  id: 'ns.children-share-namespaces',
  level: 'MUST',
  title: "A child and a grandchild of the contained program are in exactly the namespaces it is in.",
  reference: manSection('namespaces', 7, 'The /proc/[pid]/ns/ directory', 'If two processes are in the same namespace, then the device IDs and inode numbers of their /proc/pid/ns/xxx symbolic links will be the same'),
  anchors: { runtimeTools: ['linux_ns_itype'], contest: ['ns_itype'] },
  scenario: 'single',
  request: () => ({ children: true }),
  check: (o) => {
    if (o.children.length !== 2) return violated('a child and a grandchild reporting', `${o.children.length} descendants reported`);
    const own = JSON.stringify(o.self.namespaces);
    const wrong = o.children.flatMap((c, depth) => Object.entries(o.self.namespaces)
      .filter(([type, inode]) => c.namespaces[type] !== inode)
      .map(([type, inode]) => `${depth === 0 ? 'child' : 'grandchild'} ${type} ${c.namespaces[type]} (PID 1: ${inode})`));
    return wrong.length === 0 ? HOLDS : violated(`every descendant in ${own}`, wrong.join('; '));
  },
};
