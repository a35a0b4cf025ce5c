import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import type { RootfsConfig } from '../../../policy/profile/types.js';
import type { MountEntry } from '../../probe/protocol.js';
import { ociSpec } from '../references.js';

/** mountinfo's optional fields reduced to a propagation type (proc_pid_mountinfo(5)). */
function propagationOf(m: MountEntry): RootfsConfig['propagation'] {
  if (m.optional.some((f) => f.startsWith('shared:'))) return 'shared';
  if (m.optional.some((f) => f.startsWith('master:'))) return 'slave';
  if (m.optional.includes('unbindable')) return 'unbindable';
  return 'private';
}

export const rootNotShared: SingleInvariant = {
  id: 'mnt.root-not-shared',
  level: 'MUST',
  title: "The container's root mount has the declared propagation (private unless the profile says otherwise): never a peer of the host's mounts.",
  reference: ociSpec('config-linux.md', 'rootfs-mount-propagation', 'Rootfs Mount Propagation', 'private: the rootfs mount doesn\'t receive mount propagation events from the host'),
  anchors: {
    runtimeTools: ['linux_rootfs_propagation', 'linux_rootfs_propagation_unbindable', 'linux_rootfs_propagation_shared'],
    contest: ['rootfs_propagation'],
    ltp: ['mountns04'],
  },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => {
    // The visible root is the last mount on "/": anything stacked under it is hidden.
    const root = o.mounts.filter((m) => m.mountPoint === '/').at(-1);
    if (!root) return violated('a root mount in mountinfo', 'none');
    const seen = propagationOf(root);
    return seen === profile.rootfs.propagation
      ? HOLDS
      : violated(`/ is ${profile.rootfs.propagation}`, `/ is ${seen} (optional fields: ${root.optional.join(' ') || 'none'})`);
  },
};
