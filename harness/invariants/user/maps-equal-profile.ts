import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { parseIdMap } from './id-map.js';

export const mapsEqualProfile: SingleInvariant = {
  id: 'user.maps-equal-profile',
  level: 'MUST',
  title: "The container's uid_map and gid_map hold exactly the profile's id mappings, in order.",
  reference: ociSpec('config-linux.md', 'user-namespace-mappings', 'User namespace mappings', 'uidMappings (array of objects, OPTIONAL) describes the user namespace uid mappings from the host to the container.'),
  anchors: {
    runtimeTools: ['linux_uid_mappings', 'linux_gid_mappings', 'validateUIDMappings', 'validateGIDMappings'],
    contest: ['uid_mappings'],
    crun: ['test_namespaces.py::test_user_namespace_mappings', 'test_namespaces.py::test_multiple_uid_mappings'],
    ltp: ['userns02', 'userns03'],
  },
  generate: { requireNamespaces: ['user'], ownUserMappings: true },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => expectEqual(
    { uidMap: profile.user.uidMappings, gidMap: profile.user.gidMappings },
    { uidMap: parseIdMap(o.uidMap), gidMap: parseIdMap(o.gidMap) },
  ),
};
