import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { expectEqual, type RefusalInvariant } from '../../invariant.js';
import { parseMountinfo } from '../../../core/mountinfo.js';
import { unmountDetached } from '../../../core/host-kernel.js';
import type { Profile } from '../../../policy/profile/types.js';
import { cve } from '../references.js';

// The generated profile gets a writable rootfs directory of the harness's own, in which one mount
// destination is a symlink to a path outside it that does not exist: below the fixture directory,
// a shared mount of the harness's (host-facts.ts), so a mount made through the link in a
// namespace that kept it a peer shows on the host too. Which destination: /proc where the profile
// mounts proc, else /dev, or /tmp (a tmpfs), by the generated working directory. A target may
// refuse the container or start it with the mount inside the rootfs; either holds, and then
// nothing exists at the link's target on the host and no host mount lies below it. runc through
// 1.1.4 had regressed on this (CVE-2023-27561, GHSA-vpvm-3wq2-2wvm: "this issue exists because of a
// CVE-2019-19921 regression"); 1.1.5, the version tried here, refuses a /proc symlink and keeps a
// /dev one inside the rootfs; crun 1.8.1 and the engine refuse both.

const CWDS = ['/', '/tmp', '/usr'];
const ROOTFS_DIRS = ['proc', 'dev', 'tmp', 'usr', 'etc', 'run', 'sys', 'mnt', 'srv', 'opt', 'media'];

/** The mount destination made a symlink out of the rootfs. */
function hostileDestination(profile: Profile): string {
  const proc = profile.mounts.some((m) => m.destination === '/proc');
  return [proc ? '/proc' : '/dev', '/dev', '/tmp'][Math.max(0, CWDS.indexOf(profile.process.cwd))]!;
}

function mountPointsBelow(dir: string): string[] {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).map((m) => m.mountPoint).filter((p) => p === dir || p.startsWith(`${dir}/`));
}

export const hostileRootfsContained: RefusalInvariant = {
  id: 'mnt.hostile-rootfs-contained',
  level: 'MUST',
  title: 'A rootfs whose /proc, /dev or another mount destination is a symlink pointing out of it is refused, or the mount stays inside the rootfs: nothing is created or mounted at the symlink\'s target on the host.',
  reference: cve('CVE-2019-19921', 'runc through 1.0.0-rc9 has Incorrect Access Control leading to Escalation of Privileges, related to libcontainer/rootfs_linux.go. To exploit this, an attacker must be able to spawn two containers with custom volume-mount configurations, and be able to run custom images.'),
  generate: {},
  scenario: 'refusal',
  refusable: (profile) => profile,
  stage: (refusable, host) => {
    const dir = path.join(host.fixtureDir, `hostile-${randomInt(2 ** 47)}`);
    const rootfs = path.join(dir, 'rootfs');
    const outside = path.join(dir, 'outside');
    const destination = hostileDestination(refusable);
    const target = path.join(outside, destination.slice(1));
    fs.mkdirSync(outside, { recursive: true, mode: 0o777 });
    fs.mkdirSync(rootfs, { mode: 0o755 });
    for (const d of ROOTFS_DIRS) if (`/${d}` !== destination) fs.mkdirSync(path.join(rootfs, d), { mode: d === 'tmp' ? 0o1777 : 0o755 });
    fs.symlinkSync(target, path.join(rootfs, destination.slice(1)));
    return {
      profile: { ...refusable, rootfs: { ...refusable.rootfs, path: rootfs, readonly: false } },
      look: () => ({ destination, target, createdOutside: fs.readdirSync(outside), mountedOutside: mountPointsBelow(outside) }),
      undo: () => {
        // What a broken target mounted through the link, deepest first.
        for (const m of mountPointsBelow(outside).reverse()) unmountDetached(m);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
  request: () => ({}),
  check: (_run, _profile, _host, _after, seenOnHost) => expectEqual(
    { createdOutside: [], mountedOutside: [] },
    { createdOutside: seenOnHost.createdOutside ?? 'not looked at', mountedOutside: seenOnHost.mountedOutside ?? 'not looked at' },
  ),
};
