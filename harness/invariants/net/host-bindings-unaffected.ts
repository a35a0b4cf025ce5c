import { HOLDS, requiresNamespaces, violated, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostBindingsUnaffected: SingleInvariant = {
  id: 'net.host-bindings-unaffected',
  level: 'MUST',
  title: "Inside, the port of a host listener is free to bind, and the host's listener still listens afterwards.",
  reference: manSection('network_namespaces', 7, 'DESCRIPTION', 'Network namespaces provide isolation of the system resources associated with networking: network devices, IPv4 and IPv6 protocol stacks, [...] port numbers (sockets), and so on.'),
  anchors: { ltp: ['netns_netlink'] },
  generate: requiresNamespaces('net'),
  scenario: 'single',
  request: (_profile, host) => ({ bind: [{ proto: 'tcp', port: host.listener.port }] }),
  check: (o, _profile, host, after) => {
    const port = host.listener.port;
    const wrong: string[] = [];
    const b = o.bind[0];
    if (!b || b.errno !== null) wrong.push(`binding tcp ${port} inside: ${b?.code ?? 'not attempted'}`);
    if (!after.tcpListening.includes(port)) wrong.push(`the host no longer listens on ${port}`);
    return wrong.length === 0 ? HOLDS : violated(`tcp ${port} binds inside and still listens on the host`, wrong.join('; '));
  },
};
