import { HOLDS, requiresNamespaces, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

/**
 * Devices the kernel itself puts, down, into every new network namespace while the matching
 * tunnel module is loaded (net.core.fb_tunnels_only_for_init_net=0): not the host's interfaces.
 */
const FALLBACK_TUNNELS = new Set(['sit0', 'tunl0', 'ip6tnl0', 'ip_vti0', 'ip6_vti0', 'gre0', 'gretap0', 'erspan0', 'ip6gre0']);

export const onlyLoopback: SingleInvariant = {
  id: 'net.only-loopback',
  level: 'MUST',
  title: 'A new network namespace holds only the declared interfaces: lo, up exactly when the profile asks for loopback, and eth0 when it declares a veth.',
  reference: ociSpec('config-linux.md', 'namespaces', 'Namespaces (network)', 'network the container will have its own network stack.'),
  anchors: { crun: ['test_namespaces.py::test_network_namespace'], ltp: ['netns_sysfs'] },
  generate: requiresNamespaces('net'),
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => {
    const declared = new Map<string, boolean>([['lo', profile.network.loopback]]);
    if (profile.network.veth) declared.set('eth0', true);
    const wrong: string[] = [];
    for (const [name, up] of declared) {
      const seen = o.interfaces.find((i) => i.name === name);
      if (!seen) wrong.push(`${name} missing`);
      else if (seen.up !== up) wrong.push(`${name} is ${seen.up ? 'up' : 'down'}`);
    }
    for (const i of o.interfaces) {
      if (declared.has(i.name)) continue;
      if (!FALLBACK_TUNNELS.has(i.name) || i.up) wrong.push(`undeclared ${i.name} (${i.up ? 'up' : 'down'})`);
    }
    const expected = [...declared].map(([n, up]) => `${n} ${up ? 'up' : 'down'}`).join(', ');
    return wrong.length === 0 ? HOLDS : violated(`exactly ${expected}`, `${wrong.join('; ')}; interfaces: ${o.interfaces.map((i) => i.name).join(', ')}`);
  },
};
