import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

const PROC_NAME: Record<string, string> = { user: 'user', pid: 'pid', uts: 'uts', ipc: 'ipc', net: 'net', mnt: 'mnt', cgroup: 'cgroup', time: 'time' };

export const unsharedTypesDiffer: SingleInvariant = {
  id: 'ns.unshared-types-differ',
  level: 'MUST',
  title: "Each namespace type the profile asks for differs from the host's, and each other type equals the host's.",
  reference: ociSpec('config-linux.md', 'namespaces', 'Namespaces', 'If path is not specified, the runtime MUST create a new container namespace of type type.'),
  anchors: {
    runtimeTools: ['linux_ns_nopath', 'linux_ns_itype'],
    contest: ['ns_itype'],
    crun: ['test_namespaces.py::test_uts_namespace_hostname', 'test_namespaces.py::test_cgroup_namespace'],
  },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile, host) => {
    const wrong: string[] = [];
    for (const [type, inode] of Object.entries(host.namespaces)) {
      const inside = o.self.namespaces[PROC_NAME[type]];
      const unshared = profile.namespaces.includes(type as never);
      if (unshared && inside === inode) wrong.push(`${type} is the host's (${inode})`);
      if (!unshared && inside !== inode) wrong.push(`${type} differs from the host's (${inside} vs ${inode}) though not requested`);
    }
    return wrong.length ? violated(`new namespaces exactly for [${profile.namespaces.join(', ')}]`, wrong.join('; ')) : HOLDS;
  },
};
