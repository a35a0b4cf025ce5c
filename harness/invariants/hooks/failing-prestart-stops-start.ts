import { HOOK_KINDS } from '../../../policy/profile/types.js';
import { HOLDS, violated, type HooksInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

export const failingPrestartStopsStart: HooksInvariant = {
  id: 'hooks.failing-prestart-stops-start',
  level: 'MUST',
  title: 'A failing prestart hook stops the start: no later create or start hook and no program run, and the container\'s process and cgroup are gone.',
  reference: ociSpec('runtime.md', 'lifecycle', 'Lifecycle',
    'If any `prestart` hook fails, the runtime MUST generate an error, stop the container, and continue the lifecycle at step 12.'),
  anchors: { runtimeTools: ['prestart_fail'], crun: ['test_hooks.py::test_fail_prestart'] },
  scenario: 'hooks',
  recording: (supported) => ({ kinds: HOOK_KINDS.filter((k) => supported.includes(k) && k !== 'poststop'), failing: 'prestart' }),
  check: (run) => {
    const problems: string[] = [];
    if (run.startError === undefined) problems.push('the container started');
    if (run.observed !== undefined) problems.push('the program ran');
    if (!run.records.some((r) => r.kind === 'prestart' && r.failing)) problems.push('the failing prestart hook did not run');
    const after = run.records.filter((r) => r.kind !== 'prestart').map((r) => r.kind);
    if (after.length > 0) problems.push(`${after.join(', ')} ran after the failure`);
    for (const left of run.leftovers) {
      if (left.alive) problems.push(`pid ${left.pid} (named in the hook's state) still exists`);
      if (left.cgroupExists) problems.push(`its cgroup ${left.cgroup} still exists`);
    }
    return problems.length === 0 ? HOLDS : violated('an error, and nothing of the container left', problems.join('; '));
  },
};
