import fs from 'node:fs';
import path from 'node:path';
import { expectEqual, violated, type HostChangeInvariant } from '../../invariant.js';
import { fixtureDestination, makeHarnessMountDir } from '../../host-facts.js';
import { mount, unmountDetached } from '../../../core/host-kernel.js';
import { MS } from '../../../policy/kernel/mount-flags.js';
import type { Observations } from '../../probe/protocol.js';
import { manSection } from '../references.js';

// The host mounts a tmpfs, with a marker file in it, on a directory inside the fixture directory
// that the container has bound at /mnt. With private propagation the container keeps seeing the
// empty directory; a bind that stayed a peer of the host's mount (a runtime that left it shared
// or slave) receives the tmpfs and shows the marker.
export const noHostMountAfterStart: HostChangeInvariant = {
  id: 'mnt.no-host-mount-after-start',
  level: 'MUST',
  title: 'A mount the host makes after the container started, inside a directory the container has bound, never appears inside (propagation is private).',
  reference: manSection('mount_namespaces', 7, 'Shared subtrees', 'This mount is private; it does not have a peer group. mount(2) and umount(2) events do not propagate into or out of this mount.'),
  anchors: { runtimeTools: ['linux_rootfs_propagation'], contest: ['rootfs_propagation'], ltp: ['mountns02', 'mountns03'] },
  generate: { rwBind: true },
  scenario: 'host-change',
  prepare: (profile, host) => {
    const onHost = makeHarnessMountDir(host);
    const name = path.basename(onHost);
    const inside = path.join(fixtureDestination(profile, host) ?? '/nonexistent', name);
    let mounted = false;
    return {
      request: { stat: [inside, path.join(inside, 'marker')] },
      change: () => {
        mount('tmpfs', onHost, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=755');
        mounted = true;
        fs.writeFileSync(path.join(onHost, 'marker'), 'mounted on the host after the container started\n');
      },
      undo: () => {
        if (mounted) unmountDetached(onHost);
        fs.rmSync(onHost, { recursive: true, force: true });
      },
    };
  },
  check: (before, after, profile, host) => {
    const dest = fixtureDestination(profile, host);
    if (!dest) return violated(`a read-write bind of ${host.fixtureDir}`, 'the profile has none');
    const look = (o: Observations) => ({
      directory: o.stats[0]?.code ?? 'present',
      marker: o.stats[1]?.code ?? 'present',
      mountedThere: o.mounts.some((m) => m.mountPoint === o.stats[0]?.path),
    });
    return expectEqual(
      { before: { directory: 'present', marker: 'ENOENT', mountedThere: false }, after: { directory: 'present', marker: 'ENOENT', mountedThere: false } },
      { before: look(before), after: look(after) },
    );
  },
};
