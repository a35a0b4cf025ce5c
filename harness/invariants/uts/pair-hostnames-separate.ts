import { HOLDS, violated, type PairInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const pairHostnamesSeparate: PairInvariant = {
  id: 'uts.pair-hostnames-separate',
  level: 'MUST',
  title: "Two containers alive at once each see the profile's hostname and domain name (the host's when it sets none), each in a UTS namespace of its own.",
  reference: manSection('uts_namespaces', 7, 'DESCRIPTION', 'Changes made to these identifiers are visible to all other processes in the same UTS namespace, but are not visible to processes in other UTS namespaces.'),
  anchors: { ltp: ['utsname04_clone', 'utsname04_unshare'] },
  generate: { names: true },
  scenario: 'pair',
  request: () => ({}),
  check: (pair, profile, host) => {
    const wrong: string[] = [];
    const domainname = profile.domainname ?? host.before.domainname;
    pair.forEach((o, i) => {
      if (o.hostname !== profile.hostname || o.domainname !== domainname) {
        wrong.push(`container ${i} sees ${JSON.stringify([o.hostname, o.domainname])}`);
      }
      if (o.self.namespaces.uts === host.namespaces.uts) wrong.push(`container ${i} is in the host's UTS namespace`);
    });
    const [a, b] = pair.map((o) => o.self.namespaces.uts);
    if (a === b) wrong.push(`both are in UTS namespace ${a}`);
    return wrong.length === 0
      ? HOLDS
      : violated(`both see ${JSON.stringify([profile.hostname, domainname])} in two distinct UTS namespaces, neither the host's`, wrong.join('; '));
  },
};
