import fs from 'node:fs';
import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { PROBE_MAIN } from '../../scenario.js';
import { PROBE_IN_CONTAINER } from '../../probe-rig.js';
import { manSection } from '../references.js';
import { containerIdOf } from './id-map.js';

/**
 * Host files every target shows, since the probe runs from them: the Node binary (at its host
 * path) and the probe itself (in the rig), with their host paths. On a usual host both belong to
 * root, which no generated map covers.
 */
const HOST_FILES = [{ inside: process.execPath, host: process.execPath }, { inside: PROBE_IN_CONTAINER, host: PROBE_MAIN }];

export const unmappedShowsOverflow: SingleInvariant = {
  id: 'user.unmapped-shows-overflow',
  level: 'MUST',
  title: "A host file's owner shows inside as the id its host owner maps to, and as the overflow id (65534) when the host owner is not mapped.",
  reference: manSection('user_namespaces', 7, 'Unmapped user and group IDs', 'In most such cases, an unmapped user ID is converted to the overflow user ID (group ID); the default value for the overflow user ID (group ID) is 65534.'),
  anchors: { ltp: ['userns01'] },
  // Generated profiles always have a user namespace; a config may not (harness/applicability.ts).
  generate: { ...requiresNamespaces('user'), ownUserMappings: true },
  scenario: 'single',
  request: () => ({ stat: HOST_FILES.map((f) => f.inside) }),
  check: (o, profile, host) => {
    const expected = HOST_FILES.map((f) => {
      const st = fs.statSync(f.host);
      return {
        path: f.inside,
        uid: containerIdOf(profile.user.uidMappings, st.uid) ?? host.overflowIds.uid,
        gid: containerIdOf(profile.user.gidMappings, st.gid) ?? host.overflowIds.gid,
      };
    });
    return expectEqual(expected, o.stats.map((s) => ({ path: s.path, uid: s.uid, gid: s.gid })));
  },
};
