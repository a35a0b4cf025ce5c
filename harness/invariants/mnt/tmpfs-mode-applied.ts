import type { Mount, Profile } from '../../../policy/profile/types.js';
import type { Outcome } from '../../probe/protocol.js';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { hasCapability, setsAfterExecve } from '../caps/post-exec-sets.js';
import { manSection } from '../references.js';

type TmpfsMount = Extract<Mount, { type: 'tmpfs' }>;

/**
 * Whether the process may create a file in a tmpfs the runtime mounted: its root directory
 * belongs to the namespace's root (0:0) with the declared mode, so the owner, group or other
 * bits apply by the process's ids, unless CAP_DAC_OVERRIDE is effective (path_resolution(7)).
 */
function createAllowed(mode: number, profile: Profile): 'created' | 'EACCES' {
  const p = profile.process;
  if (hasCapability(setsAfterExecve(p).effective, 'CAP_DAC_OVERRIDE')) return 'created';
  const bits = p.uid === 0 ? mode >> 6 : p.gid === 0 || p.additionalGids.includes(0) ? mode >> 3 : mode;
  return (bits & 0o3) === 0o3 ? 'created' : 'EACCES';
}

function writableTmpfs(profile: Profile): TmpfsMount[] {
  return profile.mounts.filter((m): m is TmpfsMount => m.type === 'tmpfs' && !m.readonly);
}

const octal = (mode: number | null) => (mode === null ? null : (mode & 0o7777).toString(8));
const outcome = (o: Outcome | undefined) => (o === undefined ? 'not tried' : o.errno === null ? 'created' : o.code ?? String(o.errno));

// runc before 1.1.8 chmods a tmpfs root back to the mode of the directory it covers, so a declared
// 1777 /tmp over a 755 mount point refuses every non-root user (opencontainers/runc#3911).
export const tmpfsModeApplied: SingleInvariant = {
  id: 'mnt.tmpfs-mode-applied',
  level: 'MUST',
  title: "Each writable tmpfs mount's root has the profile's mode, so creating a file there succeeds or fails as that mode allows.",
  reference: manSection('tmpfs', 5, 'Mount options (mode)', 'Set initial permissions of the root directory.'),
  anchors: { crun: ['test_mounts.py::test_mount_tmpfs_permissions', 'test_mounts.py::test_mount_tmpfs_explicit_mode'] },
  scenario: 'single',
  request: (profile) => {
    const dirs = writableTmpfs(profile).map((m) => m.destination);
    return { stat: dirs, writeInto: dirs };
  },
  check: (o, profile) => {
    const mounts = writableTmpfs(profile);
    return expectEqual(
      Object.fromEntries(mounts.map((m) => [m.destination, { mode: octal(m.mode), create: createAllowed(m.mode, profile) }])),
      Object.fromEntries(mounts.map((m) => [m.destination, {
        mode: octal(o.stats.find((s) => s.path === m.destination)?.mode ?? null),
        create: outcome(o.writeInto.find((w) => w.path === m.destination)),
      }])),
    );
  },
};
