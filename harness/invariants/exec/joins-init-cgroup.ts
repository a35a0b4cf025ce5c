import { expectEqual, type ExecInvariant } from '../../invariant.js';

/**
 * /proc/PID/cgroup's lines by hierarchy id. Every process has a line for every hierarchy mounted
 * when it is read, so a hierarchy mounted or unmounted between the two reads (crun's host
 * preparation of another run, say) shows on one side only and says nothing of where either is.
 */
function inBothHierarchies(a: string, b: string): [string[], string[]] {
  const lines = (text: string) => text.split('\n').filter(Boolean);
  const id = (line: string) => line.slice(0, line.indexOf(':'));
  const common = new Set(lines(a).map(id).filter((i) => lines(b).some((l) => id(l) === i)));
  return [lines(a).filter((l) => common.has(id(l))), lines(b).filter((l) => common.has(id(l)))];
}
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
  check: (init, joined) => {
    const [initLines, joinedLines] = inBothHierarchies(init.cgroup, joined.cgroup);
    return expectEqual(initLines, joinedLines);
  },
};
