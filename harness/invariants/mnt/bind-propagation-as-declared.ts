import fs from 'node:fs';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import { expectEqual, violated, type HostChangeInvariant } from '../../invariant.js';
import { fixtureDestination, isHarnessMount, makeHarnessMountDir, type HostFacts } from '../../host-facts.js';
import { mount, unmountDetached } from '../../../core/host-kernel.js';
import { parseMountinfo } from '../../../core/mountinfo.js';
import { MS } from '../../../policy/kernel/mount-flags.js';
import { PROPAGATION_OPTION_NAMES } from '../../../policy/profile/mount-options.js';
import type { Profile } from '../../../policy/profile/types.js';
import { ociSpec } from '../references.js';

// The profile binds the harness's fixture directory (a shared mount of the harness's own,
// host-facts.ts) at /mnt with one propagation option. Tried both ways while the container runs:
// the probe mounts a tmpfs on a directory below /mnt and binds /mnt recursively; the host then
// looks for that tmpfs below the fixture directory, removes it, and mounts a tmpfs with a marker
// on another directory there, which the probe looks for. mount_namespaces(7): a slave receives
// from its master and sends nothing back; a peer (shared) does both, except that a mount
// namespace owned by a user namespace of its own gets slave copies of the host's shared mounts
// ("Restrictions on mount namespaces"), so nothing it mounts reaches the host; private and
// unbindable do neither, and an unbindable mount cannot be the source of a bind (EINVAL).

/** The bind's declared propagation, without the recursive r: private, shared, slave or unbindable. */
function declaredForm(profile: Profile, host: Pick<HostFacts, 'fixtureDir'>): string | undefined {
  const dest = fixtureDestination(profile, host);
  const option = profile.mounts.find((m) => m.destination === dest)?.options.filter((o) => PROPAGATION_OPTION_NAMES.includes(o)).at(-1);
  return option?.replace(/^r(?=private|shared|slave|unbindable)/, '');
}

function readMountinfo() {
  return parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

function mountedAt(dir: string): boolean {
  return readMountinfo().some((m) => m.mountPoint === dir);
}

/** Unmounts everything stacked on dir (what propagated there may have arrived more than once). */
function unmountAll(dir: string): void {
  for (let i = 0; i < 16 && mountedAt(dir); i++) unmountDetached(dir);
}

/** The host's mounts that are shared (mountinfo's shared:N), the harness's own left out. */
function sharedHostMounts(): string[] {
  return readMountinfo().filter((m) => !isHarnessMount(m.mountPoint) && m.optional.some((f) => f.startsWith('shared:')))
    .map((m) => m.mountPoint).sort();
}

export const bindPropagationAsDeclared: HostChangeInvariant = {
  id: 'mnt.bind-propagation-as-declared',
  level: 'MUST',
  title: "A bind's propagation option decides what crosses between it and its host source while the container runs: the host's new mount below the source shows inside only for slave and shared, the container's shows on the host only for shared without a user namespace, and a bind of an unbindable one fails with EINVAL.",
  reference: ociSpec('config.md', 'configLinuxMountOptions', 'Linux mount options',
    'Runtimes MUST/SHOULD/MAY implement the following option strings for Linux: ... `private` | MUST | Bind mount propagation ... `rshared` | MUST | Bind mount propagation ... `rslave` | MUST | Bind mount propagation ... `unbindable` | MUST | Bind mount propagation'),
  anchors: { ltp: ['mountns02', 'mountns03', 'mountns04'] },
  // Container root with CAP_SYS_ADMIN makes the probe's mounts; without a user namespace too, where a shared bind may reach the host.
  generate: { rwBind: true, rwBindPropagation: true, root: true, mountCapability: true, userNamespace: 'optional', hostRootCapabilities: ['CAP_SYS_ADMIN'] },
  scenario: 'host-change',
  prepare: (profile, host) => {
    const fromInside = makeHarnessMountDir(host);
    const fromHost = makeHarnessMountDir(host);
    const dest = fixtureDestination(profile, host) ?? '/nonexistent';
    const inside = (dir: string) => path.join(dest, path.basename(dir));
    const sharedBefore = sharedHostMounts();
    let mounted = false;
    const plan = {
      request: {
        mountTmpfs: [inside(fromInside)],
        rbind: [{ source: dest, target: `/tmp/nsrig-rbind-${randomInt(2 ** 47)}` }],
        stat: [path.join(inside(fromHost), 'marker')],
      },
      change: () => {
        plan.seenOnHost = { containerMountOnHost: mountedAt(fromInside), newlySharedHostMounts: sharedHostMounts().filter((m) => !sharedBefore.includes(m)) };
        unmountAll(fromInside);
        mount('tmpfs', fromHost, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=755');
        mounted = true;
        fs.writeFileSync(path.join(fromHost, 'marker'), 'mounted on the host while the container ran\n');
      },
      undo: () => {
        // Whatever the container's mount propagated here, also when the case failed before change.
        unmountAll(fromInside);
        if (mounted) unmountAll(fromHost);
        fs.rmSync(fromInside, { recursive: true, force: true });
        fs.rmSync(fromHost, { recursive: true, force: true });
      },
      seenOnHost: undefined as Record<string, unknown> | undefined,
    };
    return plan;
  },
  check: (before, after, profile, host, seenOnHost) => {
    const form = declaredForm(profile, host);
    if (!form) return violated(`a read-write bind of ${host.fixtureDir} declaring a propagation`, 'the profile has none');
    const userNamespace = profile.namespaces.includes('user');
    const outcome = (o: { code: string | null } | undefined) => (o === undefined ? 'not tried' : o.code === null ? 'made' : `refused: ${o.code}`);
    return expectEqual(
      {
        containerMount: 'made',
        containerMountOnHost: form === 'shared' && !userNamespace,
        hostMountInside: form === 'shared' || form === 'slave' ? 'seen' : 'not seen',
        bindOfTheBind: form === 'unbindable' ? 'refused: EINVAL' : 'made',
        newlySharedHostMounts: [],
      },
      {
        containerMount: outcome(before.mountedTmpfs[0]),
        containerMountOnHost: seenOnHost.containerMountOnHost ?? 'not looked at',
        hostMountInside: after.stats[0] === undefined ? 'not tried' : after.stats[0].code === null ? 'seen' : after.stats[0].code === 'ENOENT' ? 'not seen' : `stat: ${after.stats[0].code}`,
        bindOfTheBind: outcome(before.rbound[0]),
        newlySharedHostMounts: seenOnHost.newlySharedHostMounts ?? 'not looked at',
      },
    );
  },
};
