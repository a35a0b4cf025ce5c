import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const idsEqualProfile: SingleInvariant = {
  id: 'user.ids-equal-profile',
  level: 'MUST',
  title: "The real, effective, saved and filesystem uid and gid are the profile's, and the supplementary groups are exactly its additionalGids.",
  reference: ociSpec('config.md', 'posix-platform-user', 'User (POSIX platforms)', 'uid (int, REQUIRED) specifies the user ID in the container namespace.'),
  anchors: {
    runtimeTools: ['validateLinuxProcess'],
    contest: ['process_user'],
    crun: ['test_uid_gid.py::test_uid', 'test_uid_gid.py::test_gid', 'test_uid_gid.py::test_additional_gids'],
  },
  scenario: 'single',
  request: () => ({}),
  // Also with setgroups denied: then the groups cannot be set, and any inherited from the
  // launcher would keep their host meaning for permission checks (shown as the overflow gid).
  check: (o, profile) => {
    const p = profile.process;
    return expectEqual(
      { uids: [p.uid, p.uid, p.uid, p.uid], gids: [p.gid, p.gid, p.gid, p.gid], groups: [...new Set(p.additionalGids)].sort((a, b) => a - b) },
      { uids: o.self.uids, gids: o.self.gids, groups: [...o.self.groups].sort((a, b) => a - b) },
    );
  },
};
