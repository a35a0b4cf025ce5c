import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const devNoBlockDevice: SingleInvariant = {
  id: 'dev.no-block-device',
  // SHOULD: the spec requires the listed devices to be there, not that nothing else is; runc,
  // crun and youki add only those, and a host device node is a way out.
  level: 'SHOULD',
  title: '/dev holds no block device: no host disk is reachable through a device node.',
  reference: ociSpec('config-linux.md', 'devices', 'Devices', 'devices (array of objects, OPTIONAL) lists devices that MUST be available in the container.'),
  anchors: { crun: ['test_devices.py::test_deny_devices'] },
  scenario: 'single',
  request: () => ({}),
  check: (o) => {
    const block = o.devices.filter((d) => d.endsWith(':b'));
    return block.length === 0 ? HOLDS : violated('no block device in /dev', `block devices: ${block.map((d) => d.slice(0, -2)).join(', ')}`);
  },
};
