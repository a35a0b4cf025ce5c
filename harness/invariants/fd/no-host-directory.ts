import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { cve } from '../references.js';

export const noHostDirectory: SingleInvariant = {
  id: 'fd.no-host-directory',
  level: 'MUST',
  title: "No open descriptor names a directory or file on a mount outside the container's mount table, and the cwd and root lie on its mounts.",
  reference: cve('CVE-2024-21626', 'due to an internal file descriptor leak, an attacker could cause a newly-spawned container process (from runc exec) to have a working directory in the host filesystem namespace'),
  anchors: { contest: ['closes_fd'] },
  scenario: 'single',
  request: () => ({}),
  // A mount id missing from the container's own mountinfo belongs to another mount namespace:
  // from such a directory, openat(fd, "..") walks the host's tree. Character devices (stdio's
  // /dev/null opened by the launcher) cannot be walked from and are left out.
  check: (o) => {
    const ids = new Set(o.mounts.map((m) => m.id));
    const outside: string[] = [];
    if (o.self.cwdMountId === null || !ids.has(o.self.cwdMountId)) outside.push(`cwd ${o.self.cwd} (mount ${o.self.cwdMountId})`);
    if (o.self.rootMountId === null || !ids.has(o.self.rootMountId)) outside.push(`root ${o.self.root} (mount ${o.self.rootMountId})`);
    for (const f of o.self.fds) {
      if ((f.kind === 'dir' || f.kind === 'file') && (f.mountId === null || !ids.has(f.mountId))) outside.push(`fd ${f.fd} → ${f.target} (mount ${f.mountId})`);
    }
    return outside.length === 0 ? HOLDS : violated("descriptors, cwd and root on the container's own mounts", outside.join('; '));
  },
};
