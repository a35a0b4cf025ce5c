import os from 'node:os';
import path from 'node:path';
import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { isHarnessMount, mountPointOf, snapshotHost } from '../../host-facts.js';
import type { Profile } from '../../../policy/profile/types.js';
import { ociSpec } from '../references.js';

/** The host's mount table just before each case's container started (check.ts's host.before is the whole run's). */
const before = new WeakMap<Profile, string[]>();

/**
 * Where a mount of this container could surface on the host if it leaked: the root, the temporary
 * directory runtimes stage a root under, and every path it mounts on, at any prefix (a staged
 * root puts /proc at <stage>/proc). Mounts elsewhere belong to other programs on a shared host.
 */
function footprint(profile: Profile): (mountPoint: string) => boolean {
  const devices = profile.mounts.flatMap((m) => (m.type === 'dev' ? m.devices.map((d) => path.join(m.destination, d)) : []));
  const paths = [...profile.mounts.map((m) => m.destination), ...devices, ...profile.maskedPaths, ...profile.readonlyPaths].filter((p) => p !== '/');
  const tmp = os.tmpdir();
  return (mountPoint) => mountPoint === '/' || mountPoint === tmp || mountPoint.startsWith(`${tmp}/`)
    || paths.some((p) => mountPoint === p || mountPoint.endsWith(p));
}

/** Multiset difference: a second identical mount stacked on the first counts too. */
function without(lines: string[], minus: string[]): string[] {
  const left = [...minus];
  return lines.filter((l) => {
    const i = left.indexOf(l);
    if (i < 0) return true;
    left.splice(i, 1);
    return false;
  });
}

export const noMountLeak: SingleInvariant = {
  id: 'mnt.no-mount-leak',
  level: 'MUST',
  title: "No mount the container makes, and no unmount, reaches the host's mount table.",
  reference: ociSpec('config-linux.md', 'namespaces', 'Namespaces (mount)', 'mount the container will have an isolated mount table.'),
  anchors: { crun: ['test_namespaces.py::test_mount_namespace'], ltp: ['mountns03'] },
  scenario: 'single',
  request: (profile) => {
    before.set(profile, snapshotHost().mountinfo);
    return {};
  },
  check: (_o, profile, host, after) => {
    const was = before.get(profile) ?? host.before.mountinfo;
    const touches = footprint(profile);
    // The harnesses' own host mounts (fixture directories, mnt.no-host-mount-after-start's tmpfs) are no container's.
    const relevant = (lines: string[]) => lines.filter((l) => {
      const mountPoint = mountPointOf(l);
      return touches(mountPoint) && !isHarnessMount(mountPoint);
    });
    const added = without(relevant(after.mountinfo), relevant(was));
    const removed = without(relevant(was), relevant(after.mountinfo));
    if (added.length === 0 && removed.length === 0) return HOLDS;
    return violated('the host mount table unchanged where the container mounts',
      [...added.map((l) => `added ${l}`), ...removed.map((l) => `removed ${l}`)].join('; '));
  },
};
