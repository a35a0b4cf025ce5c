import { expectEqual, violated, type LifecycleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const deleteSparesForeignResources: LifecycleInvariant = {
  id: 'lifecycle.delete-spares-foreign-resources',
  level: 'MUST',
  title: 'A cgroup the container did not create, which its init was moved into between create and start, is still there after delete.',
  reference: ociSpec('runtime.md', 'delete', 'Delete', 'Note that resources associated with the container, but not created by this container, MUST NOT be deleted.'),
  anchors: { runtimeTools: ['delete_only_create_resources'] },
  scenario: 'lifecycle',
  // As runtime-tools does: its pids hierarchy where there is one (else the unified one), the init
  // moved in from the host once created; the program runs and ends, the container is deleted.
  foreignCgroup: true,
  check: (run) => (run.foreign === undefined
    ? violated('a foreign cgroup the init was moved into', 'the scenario made none')
    : expectEqual({ foreignCgroup: 'kept' }, { foreignCgroup: run.foreign.keptAfterDelete ? 'kept' : `removed (${run.foreign.dir})` })),
};
