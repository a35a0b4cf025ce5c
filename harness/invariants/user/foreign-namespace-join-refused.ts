import path from 'node:path';
import type { Profile } from '../../../policy/profile/types.js';
import { capabilityMask } from '../../../policy/kernel/capabilities.js';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import type { HostFacts } from '../../host-facts.js';
import { USER_NAMESPACE_FILES } from '../../generators/mount-set.js';
import { manSection } from '../references.js';

/**
 * The two namespaces tried, as the probe sees their files: a sibling of the container's (made by
 * the harness for the run) and the one the container's was made from (nsrig's, the host's).
 */
function files(host: HostFacts): { which: 'sibling' | 'host'; file: string; inode: number }[] {
  if ('unavailable' in host.userNamespaceFiles) throw new Error(host.userNamespaceFiles.unavailable);
  const { dir, sibling, host: hostFile, inodes } = host.userNamespaceFiles;
  const inside = (name: string) => path.posix.join(USER_NAMESPACE_FILES, path.basename(dir), name);
  return [{ which: 'sibling', file: inside(sibling), inode: inodes.sibling }, { which: 'host', file: inside(hostFile), inode: inodes.host }];
}

const CAP_SYS_ADMIN = capabilityMask(['CAP_SYS_ADMIN']);

export const foreignNamespaceJoinRefused: SingleInvariant = {
  id: 'user.foreign-namespace-join-refused',
  level: 'MUST',
  title: "A process holding every capability in the container's user namespace opens the file of a user namespace that is not a descendant of its own, a sibling or the host's, and setns(2) into it fails with EPERM.",
  reference: manSection('setns', 2, 'DESCRIPTION (Details for specific namespace types: User namespaces)',
    'A process reassociating itself with a user namespace must have the CAP_SYS_ADMIN capability in the target user namespace. '
    + '(This necessarily implies that it is only possible to join a descendant user namespace.)'),
  anchors: { ltp: ['userns04'] },
  // Container root with every capability of its namespace: the refusal then comes from the target's place in the tree, nothing else.
  generate: { requireNamespaces: ['user'], root: true, allCapabilities: true, userNamespaceFiles: true },
  skipWhen: (host) => ('unavailable' in host.userNamespaceFiles ? host.userNamespaceFiles.unavailable : undefined),
  scenario: 'single',
  request: (_profile: Profile, host) => ({ joinUserNamespace: files(host).map((f) => f.file) }),
  check: (o, _profile, host) => {
    const tried = files(host);
    const joins = new Map(o.userNamespaceJoins.map((j) => [j.file, j]));
    return expectEqual(
      { capSysAdmin: true, joins: tried.map((f) => ({ namespace: f.which, open: 'opened', setns: 'EPERM' })) },
      {
        // Without CAP_SYS_ADMIN in its own namespace an EPERM would say nothing about the target.
        capSysAdmin: (BigInt(`0x${o.self.capabilities.effective}`) & CAP_SYS_ADMIN) !== 0n,
        joins: tried.map((f) => {
          const j = joins.get(f.file);
          if (!j) return { namespace: f.which, open: 'not tried', setns: 'not tried' };
          return {
            namespace: f.which,
            // A file that is not the namespace (a bind that lost its submounts shows the empty file below) would refuse the join for another reason.
            open: j.open.code !== null ? j.open.code : j.inode === f.inode ? 'opened' : `opened inode ${j.inode}, not the namespace (${f.inode})`,
            setns: j.setns === null ? 'not tried' : j.setns.code === null ? 'joined' : j.setns.code === 'ENSENTER' ? `nsenter: ${j.message}` : j.setns.code,
          };
        }),
      },
    );
  },
};
