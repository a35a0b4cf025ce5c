import { expectEqual, violated, type LifecycleInvariant } from '../../invariant.js';
import type { ReportedState } from '../../target.js';
import { ociSpec } from '../references.js';

const shown = (state: ReportedState | undefined) => (state === undefined ? 'none' : { status: state.status, pid: state.pid ?? null });

export const killRefusedOnceStopped: LifecycleInvariant = {
  id: 'lifecycle.kill-refused-once-stopped',
  level: 'MUST',
  title: 'A kill of a stopped container fails and changes nothing: the state after it is the state before.',
  reference: ociSpec('runtime.md', 'kill', 'Kill', 'Attempting to send a signal to a container that is neither `created` nor `running` MUST have no effect on the container and MUST generate an error.'),
  anchors: { runtimeTools: ['kill_no_effect'] },
  scenario: 'lifecycle',
  // As runtime-tools does: SIGKILL once the state says stopped (the probe was released and ended).
  killWhenStopped: true,
  // The engine's kill is a method on a live container, not an operation on a stopped one it keeps.
  skipWhen: (_host, info) => (info.kind === 'oci' ? undefined : `${info.name} has no kill operation on a stopped container (its kill signals a live first process)`),
  check: (run) => {
    const k = run.killWhenStopped;
    if (k === undefined) return violated('a kill asked for once the container stopped', 'the scenario asked for none');
    if (k.before?.status !== 'stopped') return violated('the container stopped before the kill', `its state was ${JSON.stringify(shown(k.before))}`);
    return expectEqual({ refused: true, stateAfter: shown(k.before) }, { refused: k.refused, stateAfter: shown(k.after) });
  },
};
