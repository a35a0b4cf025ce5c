import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const devOnlyDeclared: SingleInvariant = {
  id: 'dev.only-declared',
  // SHOULD: the spec requires the listed devices to be there, not that nothing else is; runc,
  // crun and youki add only those, and a host device node is a way out.
  level: 'SHOULD',
  title: '/dev holds exactly the declared devices, each a character device.',
  reference: ociSpec('config-linux.md', 'devices', 'Devices', 'devices (array of objects, OPTIONAL) lists devices that MUST be available in the container.'),
  anchors: {
    runtimeTools: ['validateDefaultDevices', 'validateLinuxDevices'],
    contest: ['device_test'],
    crun: ['test_devices.py::test_deny_devices'],
  },
  skipWhen: (_host, target) => (target.kind === 'oci'
    ? 'an OCI runtime must supply the default devices whatever the profile declares (config-linux.md#default-devices); dev.no-block-device still applies'
    : undefined),
  scenario: 'single',
  request: () => ({}),
  // The probe lists the non-directory, non-symlink entries of /dev as "name:c|b|f". With a
  // terminal, /dev/console is its pty (config-linux.md, "Default Devices": "/dev/console is set up
  // if terminal is enabled in the config by bind mounting the pseudoterminal pty to /dev/console").
  check: (o, profile) => {
    const dev = profile.mounts.find((m) => m.type === 'dev' && m.destination === '/dev');
    const console = profile.process.terminal === true ? ['console:c'] : [];
    const expected = dev?.type === 'dev' ? [...dev.devices.map((d) => `${d}:c`), ...console] : o.devices.filter((d) => !d.endsWith(':b'));
    return expectEqual([...new Set(expected)].sort(), [...o.devices].sort());
  },
};
