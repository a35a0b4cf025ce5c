import { expectEqual, violated, type LifecycleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const deleteRefusedWhileRunning: LifecycleInvariant = {
  id: 'lifecycle.delete-refused-while-running',
  level: 'MUST',
  title: 'A delete (without --force) of a running container fails and changes nothing: the state still says running and the program still runs.',
  reference: ociSpec('runtime.md', 'delete', 'Delete', 'Attempting to `delete` a container that is not `stopped` MUST have no effect on the container and MUST generate an error.'),
  anchors: { runtimeTools: ['delete'] },
  scenario: 'lifecycle',
  // Only the running case: runc 1.1.5 deletes a merely created container without --force by
  // killing it first (its delete command does so on purpose), which runtime-tools' delete also tries.
  deleteWhileRunning: true,
  // The engine's only delete is its teardown, which kills first, as delete --force does.
  skipWhen: (_host, info) => (info.kind === 'oci' ? undefined : `${info.name} has no delete short of its teardown (which kills first, as delete --force does)`),
  check: (run) => (run.deleteWhileRunning === undefined
    ? violated('a delete asked for while the program ran', 'the scenario asked for none')
    : expectEqual(
      { refused: true, state: 'running', programRuns: true },
      { refused: run.deleteWhileRunning.refused, state: run.deleteWhileRunning.state?.status ?? 'none', programRuns: run.deleteWhileRunning.initRuns },
    )),
};
