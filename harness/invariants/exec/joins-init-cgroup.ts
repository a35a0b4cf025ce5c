import { expectEqual, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { runcManual } from '../references.js';

export const joinsInitCgroup: ExecInvariant = {
  id: 'exec.joins-init-cgroup',
  level: 'MUST',
  title: "A process joined with exec is in the container init's cgroup in every hierarchy (/proc/self/cgroup is the init's).",
  // Only with --cgroup may an exec run elsewhere, and then in a sub-cgroup of the container's.
  reference: runcManual('runc-exec', '--cgroup', 'Execute a process in a sub-cgroup. If the specified cgroup does not exist, an error is returned.'),
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (init, joined) => expectEqual(init.cgroup, joined.cgroup),
};
