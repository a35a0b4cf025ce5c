import { HOOK_KINDS } from '../../../policy/profile/types.js';
import { HOLDS, violated, type HooksInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

/** Hooks the create operation runs (runtime-spec runtime.md, Lifecycle steps 2-6); the others belong to start and delete. */
const CREATE_HOOKS: readonly string[] = ['prestart', 'createRuntime', 'createContainer'];

export const runInLifecycleOrder: HooksInvariant = {
  id: 'hooks.run-in-lifecycle-order',
  level: 'MUST',
  title: 'Each declared hook runs once, in lifecycle order (poststart after startContainer; with create-start, prestart, createRuntime and createContainer before start is invoked, the others after), and poststop once the container\'s process is gone.',
  reference: ociSpec('config.md', 'posix-platform-hooks', 'POSIX-platform Hooks', 'Hooks MUST be called in the listed order.'),
  anchors: {
    runtimeTools: ['hooks', 'prestart', 'poststart', 'poststop'], contest: ['hooks', 'prestart', 'poststart', 'poststop'],
    crun: ['test_hooks.py::test_createContainer_hook', 'test_hooks.py::test_startContainer_hook', 'test_hooks.py::test_poststop_hook'],
  },
  scenario: 'hooks',
  recording: (supported) => ({ kinds: [...supported] }),
  check: (run) => {
    if (run.startError !== undefined) return violated('the container to start', `the start failed: ${run.startError}`);
    const expected = HOOK_KINDS.filter((k) => run.recording.kinds.includes(k));
    const ran = run.records.map((r) => r.kind);
    if (ran.join(' ') !== expected.join(' ')) return violated(expected.join(' → '), ran.length === 0 ? 'no hook ran' : ran.join(' → '));
    // Launched create, then start: the create operation's hooks before start was invoked, the rest after.
    if (run.recordsBeforeStart !== undefined) {
      const split = (kinds: string[]) => `${kinds.filter((k) => CREATE_HOOKS.includes(k)).join(' → ')} | start | ${kinds.filter((k) => !CREATE_HOOKS.includes(k)).join(' → ')}`;
      const observed = `${ran.slice(0, run.recordsBeforeStart).join(' → ')} | start | ${ran.slice(run.recordsBeforeStart).join(' → ')}`;
      if (observed !== split(expected)) return violated(split(expected), observed);
    }
    // The processes the runtime-namespace hooks were told about (the container's first process).
    const poststop = run.records.find((r) => r.kind === 'poststop');
    const stillAlive = Object.entries(poststop?.earlierPidsAlive ?? {}).filter(([, alive]) => alive).map(([pid]) => pid);
    if (poststop !== undefined && stillAlive.length > 0) {
      return violated('poststop after the container is deleted', `poststop ran while pid ${stillAlive.join(', ')} (named in an earlier hook's state) still existed`);
    }
    return HOLDS;
  },
};
