import { expectEqual, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { runcManual } from '../references.js';

export const execUserAsGiven: ExecInvariant = {
  id: 'exec.user-as-given',
  level: 'MUST',
  title: 'A process joined with exec runs as the uid and gid it was given (real, effective, saved and filesystem), with exactly its additional gids.',
  reference: runcManual('runc-exec', '--user', 'Run the command as a user (and, optionally, group) specified by uid (and gid).'),
  anchors: { crun: ['test_exec.py::test_exec_set_user', 'test_exec.py::test_exec_additional_gids'] },
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (_init, joined, given, profile) => {
    const u = given.user ?? profile.process;
    const groups = [...new Set(u.additionalGids ?? [])].sort((a, b) => a - b);
    return expectEqual(
      { uids: [u.uid, u.uid, u.uid, u.uid], gids: [u.gid, u.gid, u.gid, u.gid], groups },
      { uids: joined.self.uids, gids: joined.self.gids, groups: [...joined.self.groups].sort((a, b) => a - b) },
    );
  },
};
