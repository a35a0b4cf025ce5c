import { expectEqual, violated, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';
import type { Outcome } from '../../probe/protocol.js';

/**
 * Which refusal a read-only cgroup mount gives. mkdir(2) checks the mount before the directory's
 * permissions, so it meets EROFS in any namespace. An open for writing meets permissions first: in
 * a user namespace the cgroup files belong to the unmapped host root, so EACCES comes whether the
 * mount is read-only or not, and only mkdir and the mount's flags tell; without one, the process is
 * the files' owner and only the read-only mount stands in its way (EROFS).
 */
function expectedOpen(userNamespace: boolean): string {
  return userNamespace ? 'refused: EROFS or EACCES' : 'refused: EROFS';
}

function describe(o: Outcome | null, userNamespace: boolean): string | undefined {
  if (o === null) return undefined;
  if (o.code === null) return 'opened for writing';
  if (userNamespace && o.code === 'EACCES') return expectedOpen(true);
  return o.code === 'EROFS' ? expectedOpen(userNamespace) : `refused: ${o.code}`;
}

export const cgroupFilesystemReadonly: SingleInvariant = {
  id: 'cgroup.filesystem-readonly',
  level: 'MUST',
  title: 'Every cgroup filesystem mounted read-only in the container refuses to open release_agent, notify_on_release and cgroup.procs for writing and to make a child cgroup (CVE-2022-0492), with or without user, cgroup and network namespaces.',
  reference: manSection('open', 2, 'ERRORS (EROFS)', 'pathname refers to a file on a read-only filesystem and write access was requested.'),
  anchors: { crun: ['test_mounts.py::test_ro_cgroup'] },
  // Without a user namespace the process is the host's root with no capabilities: the files are its own, so only the mount refuses.
  generate: { cgroupMount: true, root: true, userNamespace: 'optional' },
  scenario: 'single',
  request: () => ({ cgroupWrites: true }),
  check: (o, profile) => {
    if (o.cgroupWrites.length === 0) return violated('a cgroup filesystem at /sys/fs/cgroup', 'no cgroup or cgroup2 mount seen by the container');
    const userNamespace = profile.namespaces.includes('user');
    const view = (w: (typeof o.cgroupWrites)[number]) => ({
      mountPoint: w.mountPoint,
      readonly: w.readonly,
      ...(w.releaseAgent ? { release_agent: describe(w.releaseAgent, userNamespace) } : {}),
      ...(w.notifyOnRelease ? { notify_on_release: describe(w.notifyOnRelease, userNamespace) } : {}),
      'cgroup.procs': describe(w.procs, userNamespace) ?? 'absent',
      mkdir: w.mkdir.code === null ? 'made a child cgroup' : `refused: ${w.mkdir.code}`,
    });
    const expected = o.cgroupWrites.map((w) => ({
      mountPoint: w.mountPoint,
      readonly: true,
      ...(w.releaseAgent ? { release_agent: expectedOpen(userNamespace) } : {}),
      ...(w.notifyOnRelease ? { notify_on_release: expectedOpen(userNamespace) } : {}),
      'cgroup.procs': expectedOpen(userNamespace),
      mkdir: 'refused: EROFS',
    }));
    return expectEqual(expected, o.cgroupWrites.map(view));
  },
};
