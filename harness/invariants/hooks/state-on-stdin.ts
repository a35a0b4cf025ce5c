import path from 'node:path';
import type { HookKind } from '../../../policy/profile/types.js';
import { HOLDS, violated, type HooksInvariant } from '../../invariant.js';
import { stateOf } from '../../hook-recorder.js';
import { ociSpec } from '../references.js';

/**
 * The status a hook may see. create's hooks run while create runs: runc 1.1 says creating, crun
 * created (runtime.md defines no status for that moment). start's run before the program does
 * (still created); poststart's once it runs but before start returns (runc 1.1 still says
 * created); poststop's once the container is deleted.
 */
const STATUSES: Readonly<Record<HookKind, readonly string[]>> = {
  prestart: ['creating', 'created'], createRuntime: ['creating', 'created'], createContainer: ['creating', 'created'], startContainer: ['created'],
  poststart: ['created', 'running'], poststop: ['stopped'],
};

export const stateOnStdin: HooksInvariant = {
  id: 'hooks.state-on-stdin',
  level: 'MUST',
  title: 'Every hook reads the container\'s state on stdin: one id and bundle throughout, the status of its lifecycle step, and a pid while the container is created or running.',
  reference: ociSpec('config.md', 'posix-platform-hooks', 'POSIX-platform Hooks',
    'The state of the container MUST be passed to hooks over stdin so that they may do work appropriate to the current state of the container.'),
  anchors: { runtimeTools: ['hooks_stdin'], crun: ['test_hooks.py::test_hook_receives_state', 'test_hooks.py::test_in_container_hooks_state'] },
  scenario: 'hooks',
  recording: (supported) => ({ kinds: [...supported] }),
  check: (run) => {
    if (run.startError !== undefined) return violated('the container to start', `the start failed: ${run.startError}`);
    if (run.records.length === 0) return violated('a state on the stdin of each hook', 'no hook ran');
    const problems: string[] = [];
    const ids = new Set<unknown>();
    const bundles = new Map<string, string[]>();
    for (const record of run.records) {
      const state = stateOf(record);
      const at = `${record.kind}: `;
      if (state === undefined) {
        problems.push(`${at}stdin is not a state object: ${JSON.stringify(record.stdin)}`);
        continue;
      }
      ids.add(state.id);
      const bundle = JSON.stringify(state.bundle) ?? 'nothing';
      bundles.set(bundle, [...(bundles.get(bundle) ?? []), record.kind]);
      if (typeof state.ociVersion !== 'string' || state.ociVersion === '') problems.push(`${at}ociVersion ${JSON.stringify(state.ociVersion)}`);
      if (typeof state.id !== 'string' || state.id === '') problems.push(`${at}id ${JSON.stringify(state.id)}`);
      if (typeof state.bundle !== 'string' || !path.isAbsolute(state.bundle)) problems.push(`${at}bundle ${JSON.stringify(state.bundle)}, not an absolute path`);
      if (!STATUSES[record.kind].includes(state.status as string)) {
        problems.push(`${at}status ${JSON.stringify(state.status)}, expected ${STATUSES[record.kind].join(' or ')}`);
      }
      const needsPid = state.status === 'created' || state.status === 'running';
      if (needsPid && !(typeof state.pid === 'number' && Number.isInteger(state.pid) && state.pid > 0)) {
        problems.push(`${at}pid ${JSON.stringify(state.pid)} with status ${String(state.status)}`);
      }
    }
    if (ids.size > 1) problems.push(`ids differ between hooks: ${[...ids].map((i) => JSON.stringify(i)).join(', ')}`);
    if (bundles.size > 1) problems.push(`bundles differ between hooks: ${[...bundles].map(([b, kinds]) => `${b} for ${kinds.join(', ')}`).join('; ')}`);
    return problems.length === 0 ? HOLDS : violated('the state of runtime.md on every hook\'s stdin', problems.join('; '));
  },
};
