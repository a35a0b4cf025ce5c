import fs from 'node:fs';
import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import type { NamespaceType } from '../../../policy/profile/types.js';

/** The namespace file's inode number, which is the namespace's (nsfs); undefined once the file is gone. */
function inodeAt(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}

export const joinedAsDeclared: SingleInvariant = {
  id: 'ns.joined-as-declared',
  level: 'MUST',
  title: 'A namespace declared with a path is the namespace at that path, and every other declared namespace is a fresh one, neither the host\'s nor the joined holder\'s.',
  reference: ociSpec('config-linux.md', 'namespaces', 'Namespaces', 'The runtime MUST place the container process in the namespace associated with that `path`.'),
  anchors: {
    runtimeTools: ['linux_ns_path', 'linux_ns_path_type'],
    crun: ['test_namespaces.py::test_namespace_path_sharing'],
  },
  // With a user namespace, the holder's is joined too (the namespaces it creates belong to it); the probe only reads /proc.
  generate: { joinNamespaces: true, userNamespace: 'optional' },
  // A fixed config's own paths need no holder; generated profiles join the holder's.
  skipWhen: (host) => (host.namespaceHolder === undefined ? `no namespace holder to join: ${host.namespaceHolderProblem ?? 'none was made'}` : undefined),
  scenario: 'single',
  request: () => ({}),
  check: (o, profile, host) => {
    const wrong: string[] = [];
    for (const type of profile.namespaces) {
      const inside = o.self.namespaces[type];
      const file = profile.namespacePaths?.[type];
      if (file !== undefined) {
        const joined = inodeAt(file);
        if (joined === undefined) wrong.push(`${type}: ${file} is gone, so the join cannot be judged`);
        else if (inside !== joined) wrong.push(`${type} is ${inside}, not ${joined} of ${file}`);
        continue;
      }
      const held = host.namespaceHolder?.inodes[type as NamespaceType];
      if (inside === host.namespaces[type]) wrong.push(`${type}, declared without a path, is the host's (${inside})`);
      else if (held !== undefined && inside === held) wrong.push(`${type}, declared without a path, is the holder's (${inside})`);
    }
    const declared = profile.namespaces.map((ns) => (profile.namespacePaths?.[ns] ? `${ns} at ${profile.namespacePaths[ns]}` : `${ns} new`));
    return wrong.length ? violated(`namespaces as declared: ${declared.join(', ')}`, wrong.join('; ')) : HOLDS;
  },
};
