import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { controllerMissing } from './host-controllers.js';

export const pidsLimitHolds: SingleInvariant = {
  id: 'resources.pids-limit-holds',
  level: 'MUST',
  title: "The container's pids.max reads the declared limit, and starting processes past it fails with EAGAIN when pids.current reaches it.",
  reference: ociSpec('config-linux.md', 'pids', 'Control groups: PIDs', 'limit (int64, REQUIRED) - specifies the maximum number of tasks in the cgroup'),
  anchors: { runtimeTools: ['linux_cgroups_pids'], crun: ['test_resources.py::test_resources_pid_limit'] },
  generate: { pidsLimit: true },
  skipWhen: () => controllerMissing('pids', 'pids'),
  scenario: 'single',
  // One start more than the limit: without a limit in force the probe stops there, refused by nothing.
  request: (profile) => ({ forkUntilRefused: { max: (profile.resources?.pids?.limit ?? 0) + 1 } }),
  check: (o, profile) => {
    const limit = String(profile.resources?.pids?.limit);
    const f = o.forkLimit;
    return expectEqual(
      { 'pids.max': limit, start: 'refused: EAGAIN', 'pids.current at the refusal': limit },
      {
        'pids.max': f?.dir === null ? 'no pids controller in the cgroup mount' : f?.max ?? null,
        start: f?.refused ? `refused: ${f.refused.code}` : `${f?.started ?? 0} started, none refused`,
        'pids.current at the refusal': f?.currentAtRefusal ?? null,
      },
    );
  },
};
