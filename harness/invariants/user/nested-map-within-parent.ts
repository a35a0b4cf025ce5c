import type { Profile } from '../../../policy/profile/types.js';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';
import { hostIdOf } from './id-map.js';

/**
 * The container uids tried: the last id of each declared range (never 0, whose mapping needs
 * CAP_SETFCAP besides), and the first id past each range that no range maps.
 */
function triedIds(profile: Profile): { id: number; declared: boolean }[] {
  const ranges = profile.user.uidMappings;
  const declared = ranges.map((r) => r.containerId + r.size - 1).filter((id) => id !== 0);
  const undeclared = ranges.map((r) => r.containerId + r.size).filter((id) => hostIdOf(ranges, id) === undefined);
  return [...new Set(declared)].map((id) => ({ id, declared: true })).concat([...new Set(undeclared)].map((id) => ({ id, declared: false })));
}

export const nestedMapWithinParent: SingleInvariant = {
  id: 'user.nested-map-within-parent',
  level: 'MUST',
  title: "A user namespace nested in the container's can map a container uid the profile declares and no other: writing \"0 ID 1\" to its uid_map works for a declared id and fails with EPERM for an undeclared one.",
  reference: manSection('user_namespaces', 7, 'Defining user and group ID mappings', 'The mapped user IDs (group IDs) must in turn have a mapping in the parent user namespace.'),
  // Container root with CAP_SETUID: the probe may write any mapping its own namespace allows.
  generate: { requireNamespaces: ['user'], root: true, setuidTrial: true },
  appliesTo: (profile) => (!profile.namespaces.includes('user') ? 'it declares no user namespace'
    : profile.namespacePaths?.user !== undefined ? 'it joins a user namespace, whose mappings are its creator\'s, not the ones the config declares'
    : profile.process.uid !== 0 ? `its process runs as uid ${profile.process.uid}, not as the namespace root that may write a nested map`
      : !profile.process.capabilities.effective.includes('CAP_SETUID') ? 'its process has no CAP_SETUID to write a nested map with' : undefined),
  scenario: 'single',
  request: (profile) => ({ nestedUidMap: triedIds(profile).map((t) => t.id) }),
  check: (o, profile) => expectEqual(
    triedIds(profile).map((t) => ({ id: t.id, unshared: true, write: t.declared ? null : 'EPERM', readBack: t.declared ? `0 ${t.id} 1` : '' })),
    o.nestedUidMaps.map((m) => ({ id: m.id, unshared: m.unshared, write: m.write.code, readBack: m.readBack })),
  ),
};
