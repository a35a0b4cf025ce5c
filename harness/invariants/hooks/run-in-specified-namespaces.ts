import { requiresNamespaces, HOLDS, violated, type HooksInvariant } from '../../invariant.js';
import { RECORDED_NAMESPACES, RUNTIME_NAMESPACE_HOOKS } from '../../hook-recorder.js';
import { ociSpec } from '../references.js';

export const runInSpecifiedNamespaces: HooksInvariant = {
  id: 'hooks.run-in-specified-namespaces',
  level: 'MUST',
  title: 'Hooks run where config.md puts them: prestart, createRuntime, poststart and poststop in the runtime\'s namespaces, createContainer and startContainer in the container\'s.',
  reference: ociSpec('config.md', 'posix-platform-hooks', 'POSIX-platform Hooks', 'The `createContainer` hooks MUST be executed in the container namespace.'),
  // Without its own mount and pid namespaces a container's namespaces would be mostly the host's, and a misplaced hook could pass.
  generate: requiresNamespaces('mnt', 'pid'),
  scenario: 'hooks',
  recording: (supported) => ({ kinds: [...supported] }),
  check: (run, _profile, host) => {
    if (run.startError !== undefined || run.observed === undefined) return violated('the container to start', `the start failed: ${run.startError}`);
    const container = run.observed.self.namespaces;
    const problems: string[] = [];
    for (const record of run.records) {
      const inRuntime = RUNTIME_NAMESPACE_HOOKS.includes(record.kind);
      const expected = inRuntime ? host.namespaces : container;
      const wrong = RECORDED_NAMESPACES.filter((type) => record.namespaces[type] !== expected[type]);
      if (wrong.length > 0) {
        const other = inRuntime ? container : host.namespaces;
        const where = wrong.every((type) => record.namespaces[type] === other[type]) ? (inRuntime ? 'the container\'s' : 'the host\'s') : 'other';
        problems.push(`${record.kind} ran in ${where} ${wrong.join(', ')} namespace${wrong.length > 1 ? 's' : ''}`);
      }
    }
    const missing = run.recording.kinds.filter((k) => !run.records.some((r) => r.kind === k));
    if (missing.length > 0) problems.push(`${missing.join(', ')} did not run`);
    return problems.length === 0 ? HOLDS
      : violated('runtime-namespace hooks in nsrig\'s namespaces, container-namespace hooks in the probe\'s', problems.join('; '));
  },
};
