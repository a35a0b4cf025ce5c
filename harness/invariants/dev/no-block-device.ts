import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const devNoBlockDevice: SingleInvariant = {
  id: 'dev.no-block-device',
  level: 'MUST',
  title: '/dev holds no block device: no host disk is reachable through a device node.',
  reference: ociSpec('config-linux.md', 'devices', 'Devices'),
  scenario: 'single',
  request: () => ({}),
  check: (o) => {
    const block = o.devices.filter((d) => d.endsWith(':b'));
    return block.length === 0 ? HOLDS : violated('no block device in /dev', `block devices: ${block.map((d) => d.slice(0, -2)).join(', ')}`);
  },
};
