import { expectEqual, violated, type LifecycleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const startRefusedUnlessCreated: LifecycleInvariant = {
  id: 'lifecycle.start-refused-unless-created',
  level: 'MUST',
  title: 'A start of a running container fails and changes nothing: the state still says running and the same program still runs.',
  reference: ociSpec('runtime.md', 'start', 'Start', 'Attempting to `start` a container that is not `created` MUST have no effect on the container and MUST generate an error.'),
  anchors: { runtimeTools: ['start'] },
  scenario: 'lifecycle',
  // The running case: the probe holds, so start is asked of a container that is certainly running.
  startWhileRunning: true,
  // The engine's start is the resolving of the create-start hand-over: there is nothing to call twice.
  skipWhen: (_host, info) => (info.kind === 'oci' ? undefined : `${info.name} has no start operation to ask again (its start is the create hand-over's end)`),
  check: (run) => (run.startWhileRunning === undefined
    ? violated('a start asked for while the program ran', 'the scenario asked for none')
    : expectEqual(
      { refused: true, state: 'running', programRuns: true },
      { refused: run.startWhileRunning.refused, state: run.startWhileRunning.state?.status ?? 'none', programRuns: run.startWhileRunning.initRuns },
    )),
};
