import { createHash } from 'node:crypto';
import { HOLDS, requiresNamespaces, violated, type PairInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import { manSection } from '../references.js';

/** A port chosen from the profile itself, so a replay binds the same one. */
function portFor(profile: Profile): number {
  return 1024 + (createHash('sha256').update(JSON.stringify(profile)).digest().readUInt32BE(0) % 30000);
}

export const pairSamePort: PairInvariant = {
  id: 'net.pair-same-port',
  level: 'MUST',
  title: 'Two containers alive at once both bind the same TCP and UDP port on their loopback without EADDRINUSE.',
  reference: manSection('network_namespaces', 7, 'DESCRIPTION', 'Network namespaces provide isolation of the system resources associated with networking: network devices, IPv4 and IPv6 protocol stacks, [...] port numbers (sockets), and so on.'),
  anchors: { ltp: ['netns_comm_ip_ipv4_netlink', 'netns_breakns_ip_ipv4_netlink'] },
  generate: requiresNamespaces('net'),
  scenario: 'pair',
  request: (profile) => {
    const port = portFor(profile);
    return { bind: [{ proto: 'tcp', port }, { proto: 'udp', port }] };
  },
  check: (pair, profile) => {
    const failed = pair.flatMap((o, i) => o.bind.filter((b) => b.errno !== null).map((b) => `container ${i}: ${b.proto} ${b.port} ${b.code}`));
    const missing = pair.some((o) => o.bind.length !== 2);
    return failed.length === 0 && !missing
      ? HOLDS
      : violated(`both bind tcp and udp port ${portFor(profile)}`, missing ? 'a probe did not attempt both binds' : failed.join('; '));
  },
};
