import { expectEqual, type LifecycleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const deleteLeavesNothing: LifecycleInvariant = {
  id: 'lifecycle.delete-leaves-nothing',
  level: 'MUST',
  title: 'After delete no cgroup, process or host mount of the container remains, and state no longer knows it.',
  reference: ociSpec('runtime.md', 'delete', 'Delete', 'Deleting a container MUST delete the resources that were created during the `create` step.'),
  anchors: { runtimeTools: ['delete', 'delete_resources'] },
  scenario: 'lifecycle',
  // The cgroups are the init's own (not nsrig's), the processes those in them while it ran, the
  // mounts those naming its id or bundle that were not there before (container-holdings.ts).
  check: (run) => expectEqual(
    { cgroups: [], processes: [], mounts: [], state: 'none' },
    { ...run.remains, state: run.afterDelete?.status ?? 'none' },
  ),
};
