import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';
import { FLAGGED_TMPFS } from '../../generators/mount-set.js';

export const nodevRefusesDevices: SingleInvariant = {
  id: 'mnt.nodev-refuses-devices',
  level: 'MUST',
  title: 'A device node made on a mount declared nodev, by a process allowed to make it, cannot be opened (EACCES), and opens on the same mount declared without it.',
  reference: manSection('mount', 2, 'MS_NODEV', 'Do not allow access to devices (special files) on this filesystem.'),
  // Only the host's root may make a device node (mknod(2) EPERM in any user namespace, and a mount a user
  // namespace makes is nodev anyway): no user namespace, and CAP_MKNOD its only capability. The node is null (1:3).
  generate: { flaggedTmpfs: true, root: true, userNamespace: 'absent', hostRootCapabilities: ['CAP_MKNOD'] },
  scenario: 'single',
  request: () => ({ deviceNode: [FLAGGED_TMPFS] }),
  check: (o, profile) => {
    const mount = profile.mounts.find((m) => m.destination === FLAGGED_TMPFS);
    const nodev = mount?.options.includes('nodev') ?? false;
    const tried = o.deviceNode.find((e) => e.dir === FLAGGED_TMPFS);
    const describe = (e: typeof tried) => (e === undefined ? 'not tried'
      : e.mknod.code !== null ? `mknod failed: ${e.mknod.code}`
        : e.open?.code ? `open refused: ${e.open.code}` : 'opened');
    return expectEqual({ [FLAGGED_TMPFS]: nodev ? 'open refused: EACCES' : 'opened' }, { [FLAGGED_TMPFS]: describe(tried) });
  },
};
