import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';
import { FLAGGED_TMPFS } from '../../generators/mount-set.js';

export const noexecRefusesExec: SingleInvariant = {
  id: 'mnt.noexec-refuses-exec',
  level: 'MUST',
  title: 'A program copied onto a mount declared noexec fails to execute with EACCES, and runs from the same mount declared without it.',
  reference: manSection('execve', 2, 'ERRORS (EACCES)', 'The filesystem is mounted noexec.'),
  anchors: { contest: ['rnoexec_test'], crun: ['test_mounts.py::test_mount_noexec'] },
  // As container root: runc before 1.1.8 leaves a tmpfs with its mount point's mode (runc#3911), which only its owner may write.
  generate: { flaggedTmpfs: true, root: true },
  scenario: 'single',
  request: () => ({ execCopy: [FLAGGED_TMPFS] }),
  check: (o, profile) => {
    const mount = profile.mounts.find((m) => m.destination === FLAGGED_TMPFS);
    const noexec = mount?.options.includes('noexec') ?? false;
    const tried = o.execCopy.find((e) => e.dir === FLAGGED_TMPFS);
    const describe = (e: typeof tried) => (e === undefined ? 'not tried'
      : e.copy.code !== null ? `copy failed: ${e.copy.code}`
        : e.run.code !== null ? `refused: ${e.run.code}` : `ran, exit ${e.exit}`);
    return expectEqual({ [FLAGGED_TMPFS]: noexec ? 'refused: EACCES' : 'ran, exit 0' }, { [FLAGGED_TMPFS]: describe(tried) });
  },
};
