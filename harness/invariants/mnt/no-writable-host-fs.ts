import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import { declaresReadonly } from '../../../policy/profile/mounts.js';
import type { MountEntry } from '../../probe/protocol.js';
import { ociSpec } from '../references.js';

const writable = (m: MountEntry) => m.options.includes('rw') && m.superOptions.includes('rw');

/**
 * One device node bound from the host's devtmpfs: nothing can be created in it, and the node
 * itself belongs to the host's root. Writing to it is using the device, which dev.* judges.
 */
const deviceNode = (m: MountEntry) => m.fsType === 'devtmpfs' && m.root !== '/';

/**
 * With process.terminal, the container's pty, one node of the devpts the profile mounts, bound at
 * /dev/console (config-linux.md, "Default Devices"): writing to it is writing to the terminal.
 */
const consolePty = (m: MountEntry, profile: Profile) => profile.process.terminal === true && m.mountPoint === '/dev/console'
  && m.fsType === 'devpts' && /^\/\d+$/.test(m.root) && profile.mounts.some((d) => d.type === 'devpts');

/** Whether the profile asks for a writable mount of this kind at this place. */
function declared(m: MountEntry, profile: Profile): boolean {
  if (deviceNode(m) || consolePty(m, profile)) return true;
  if (m.mountPoint === '/') return !profile.rootfs.readonly;
  // Masks: /dev/null bound over files, empty tmpfs over directories. Nothing behind them shows.
  if (profile.maskedPaths.includes(m.mountPoint)) return true;
  return profile.mounts.some((d) => {
    if (d.type === 'dev') {
      return m.mountPoint === d.destination && m.fsType === 'tmpfs';
    }
    if (m.mountPoint !== d.destination) return false;
    switch (d.type) {
      case 'bind':
        return !d.readonly;
      case 'tmpfs':
        return !d.readonly && m.fsType === 'tmpfs';
      case 'sysfs':
        return !d.readonly && m.fsType === 'sysfs';
      case 'proc':
      case 'mqueue':
      case 'devpts':
        return m.fsType === d.type && !declaresReadonly(d);
      case 'cgroup':
      case 'cgroup2':
        return (m.fsType === 'tmpfs' || m.fsType.startsWith('cgroup')) && !declaresReadonly(d);
      case 'filesystem':
        return m.fsType === d.fsType && !declaresReadonly(d);
    }
  });
}

export const noWritableHostFs: SingleInvariant = {
  id: 'mnt.no-writable-host-fs',
  level: 'MUST',
  title: 'Every writable mount inside is one the profile declares (read-write bind, tmpfs, proc, mqueue, the /dev tmpfs, masks) or a single device node: no host filesystem is writable otherwise.',
  reference: ociSpec('config.md', 'root', 'Root (readonly)', 'If true then the root filesystem MUST be read-only inside the container, defaults to false.'),
  anchors: { contest: ['rro_test'], crun: ['test_mounts.py::test_mount_rro', 'test_mounts.py::test_ro_cgroup'] },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => {
    const undeclared = o.mounts.filter((m) => writable(m) && !declared(m, profile));
    return undeclared.length === 0
      ? HOLDS
      : violated('no writable mount beyond the declared ones', undeclared.map((m) => `${m.mountPoint} (${m.fsType} ${m.source}${m.root === '/' ? '' : ` ${m.root}`}) is writable`).join('; '));
  },
};
