import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostnameIsolated: SingleInvariant = {
  id: 'uts.hostname-isolated',
  level: 'MUST',
  title: "The container sees the profile's hostname and domain name (a new UTS namespace starts with the host's, so the host's domain name when the profile sets none), and the host keeps its own.",
  reference: manSection('uts_namespaces', 7, 'DESCRIPTION', 'Changes made to these identifiers are visible to all other processes in the same UTS namespace, but are not visible to processes in other UTS namespaces.'),
  anchors: {
    runtimeTools: ['hostname', 'validateHostname'],
    contest: ['set_host_name_test', 'set_domainname_test'],
    crun: ['test_hostname.py::test_hostname', 'test_domainname.py::test_domainname'],
    ltp: ['utsname03_clone', 'utsname03_unshare'],
  },
  generate: { names: true },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile, host, after) => expectEqual(
    { inside: [profile.hostname, profile.domainname ?? host.before.domainname], host: [host.before.hostname, host.before.domainname] },
    { inside: [o.hostname, o.domainname], host: [after.hostname, after.domainname] },
  ),
};
