import { expectEqual, type LifecycleInvariant } from '../../invariant.js';
import type { ReportedState } from '../../target.js';
import { ociSpec } from '../references.js';

/** The fields a state must have at this moment; pid and bundle only where the target knows them. */
function expectedState(status: string, pid: number | undefined, bundle: string | undefined): ReportedState {
  return { status, ...(pid === undefined ? {} : { pid }), ...(bundle === undefined ? {} : { bundle }) };
}

/** The same fields of a reported state, so the two render side by side. */
function fields(state: ReportedState, pid: number | undefined, bundle: string | undefined): ReportedState {
  return { status: state.status, ...(pid === undefined ? {} : { pid: state.pid }), ...(bundle === undefined ? {} : { bundle: state.bundle }) };
}

/** "none": the target reported no state for a container it still had. */
function seen(state: ReportedState | undefined, pid: number | undefined, bundle: string | undefined): ReportedState | 'none' {
  return state === undefined ? 'none' : fields(state, pid, bundle);
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}

export const stateAsSpecified: LifecycleInvariant = {
  id: 'lifecycle.state-as-specified',
  level: 'MUST',
  title: 'The state says created after create (with the init\'s pid and the bundle, the program not yet run), running after start and while the program runs, and stopped once it ended.',
  reference: ociSpec('runtime.md', 'create', 'Create', 'Upon successful completion of this operation the `status` property of this container MUST be `created`.'),
  // pidfile: on an OCI target the init's host pid is the one `create --pid-file` wrote
  // (create-start-shim.ts), so a pid file that disagrees with state's pid fails here.
  anchors: { runtimeTools: ['create', 'start', 'state', 'pidfile'] },
  scenario: 'lifecycle',
  // A pid the target cannot name (undefined) is left out of the comparison rather than guessed;
  // the bundle is judged only where the target made one. The program is the probe, which holds
  // until released, so "running" is the only right answer between start and its release.
  check: (run) => expectEqual(
    {
      created: { ...expectedState('created', run.hostPid, run.bundle), programRunning: false },
      started: expectedState('running', run.hostPid, run.bundle),
      running: expectedState('running', run.hostPid, run.bundle),
      stopped: { status: 'stopped' },
    },
    {
      created: { ...fields(run.created, run.hostPid, run.bundle), programRunning: sameArgs(run.created.initArgs, run.programArgs) },
      started: seen(run.started, run.hostPid, run.bundle),
      running: seen(run.running, run.hostPid, run.bundle),
      stopped: run.stopped === undefined ? 'none' : { status: run.stopped.status },
    },
  ),
};
