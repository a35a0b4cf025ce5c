import { HOLDS, requiresNamespaces, violated, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostListenerUnreachable: SingleInvariant = {
  id: 'net.host-listener-unreachable',
  level: 'MUST',
  title: "A TCP listener on the host's loopback cannot be reached from inside a new network namespace.",
  reference: manSection('network_namespaces', 7, 'DESCRIPTION', 'Network namespaces provide isolation of the system resources associated with networking: network devices, IPv4 and IPv6 protocol stacks, [...] port numbers (sockets), and so on.'),
  anchors: { ltp: ['netns_breakns_ns_exec_ipv4_netlink'] },
  generate: requiresNamespaces('net'),
  scenario: 'single',
  request: (_profile, host) => ({ connect: [host.listener] }),
  check: (o, _profile, host) => {
    const c = o.connect[0];
    if (!c) return violated('a connection attempt', 'the probe made none');
    return c.errno !== null
      ? HOLDS
      : violated(`connecting to ${host.listener.host}:${host.listener.port} fails`, 'it connected');
  },
};
