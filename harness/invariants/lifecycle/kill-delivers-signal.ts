import { expectEqual, type LifecycleInvariant } from '../../invariant.js';
import { CATCHABLE_SIGNALS } from '../../probe/protocol.js';
import { ociSpec } from '../references.js';

export const killDeliversSignal: LifecycleInvariant = {
  id: 'lifecycle.kill-delivers-signal',
  level: 'MUST',
  title: 'Kill delivers exactly the signal asked for to the container\'s process, and nothing else.',
  reference: ociSpec('runtime.md', 'kill', 'Kill', 'This operation MUST send the specified signal to the container process.'),
  anchors: { runtimeTools: ['killsig'] },
  scenario: 'lifecycle',
  // Drawn among those the probe catches and survives: another signal sent instead (or as well)
  // is then seen, not a probe that died for an unknown reason.
  killSignals: CATCHABLE_SIGNALS,
  check: (run) => expectEqual(
    { signal: run.kill?.signal, caught: [run.kill?.signal] },
    { signal: run.kill?.signal, caught: run.kill?.caught ?? 'nothing within 5 s' },
  ),
};
