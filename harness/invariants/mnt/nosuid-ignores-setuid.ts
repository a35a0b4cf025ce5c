import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';
import { FLAGGED_TMPFS } from '../../generators/mount-set.js';
import type { IdMapping } from '../../../policy/profile/types.js';

/** The lowest id besides 0 the mappings give the namespace (generation makes sure there is one). */
function firstNonRoot(mappings: IdMapping[]): number {
  const ids = mappings.map((m) => (m.containerId === 0 ? (m.size > 1 ? 1 : Infinity) : m.containerId));
  return Math.min(...ids);
}

export const nosuidIgnoresSetuid: SingleInvariant = {
  id: 'mnt.nosuid-ignores-setuid',
  level: 'MUST',
  title: 'A set-user-ID root program copied onto a mount declared nosuid runs with the effective uid of the user who ran it, and with euid 0 from the same mount declared without it.',
  reference: manSection('mount', 2, 'MS_NOSUID', 'Do not honor set-user-ID and set-group-ID bits or file capabilities when executing programs from this filesystem.'),
  anchors: { crun: ['test_mounts.py::test_mount_nosuid'] },
  // Root makes the copy and runs it as another mapped uid (CAP_SETUID); no_new_privs would ignore the bit whatever the mount says.
  generate: { flaggedTmpfs: true, flaggedTmpfsExec: true, root: true, setuidTrial: true, ownUserMappings: true },
  scenario: 'single',
  request: (profile) => ({ setuidCopy: { dirs: [FLAGGED_TMPFS], uid: firstNonRoot(profile.user.uidMappings), gid: firstNonRoot(profile.user.gidMappings) } }),
  check: (o, profile) => {
    const mount = profile.mounts.find((m) => m.destination === FLAGGED_TMPFS);
    const nosuid = mount?.options.includes('nosuid') ?? false;
    const uid = firstNonRoot(profile.user.uidMappings);
    const tried = o.setuidCopy.find((e) => e.dir === FLAGGED_TMPFS);
    const describe = (e: typeof tried) => (e === undefined ? 'not tried'
      : e.copy.code !== null ? `copy failed: ${e.copy.code}`
        : e.run.code !== null ? `did not run: ${e.run.code}` : e.euid === null ? 'ran, printed no uid' : `run by ${uid}: euid ${e.euid}`);
    return expectEqual({ [FLAGGED_TMPFS]: `run by ${uid}: euid ${nosuid ? uid : 0}` }, { [FLAGGED_TMPFS]: describe(tried) });
  },
};
