import { execUnsupported } from '../../exec-scenario.js';
import { runcManual } from '../references.js';
import { parseProcCgroup, type CgroupMembership, type ProcessCgroups } from '../../../core/cgroup-layout.js';
import { expectEqual, type ExecInvariant } from '../../invariant.js';

/**
 * A's memberships in the hierarchies B has too. Every process has a line for every hierarchy
 * mounted when it is read, so a hierarchy mounted or unmounted between the two reads (crun's host
 * preparation of another run, say) shows on one side only and says nothing of where either is.
 */
function inBothHierarchies(a: ProcessCgroups, b: ProcessCgroups): CgroupMembership[] {
  return a.memberships.filter((m) => b.memberships.some((n) => n.hierarchyId === m.hierarchyId));
}

export const joinsInitCgroup: ExecInvariant = {
  id: 'exec.joins-init-cgroup',
  level: 'MUST',
  title: "A process joined with exec is in the container init's cgroup in every hierarchy (/proc/self/cgroup is the init's).",
  // Only with --cgroup may an exec run elsewhere, and then in a sub-cgroup of the container's.
  reference: runcManual('runc-exec', '--cgroup', 'Execute a process in a sub-cgroup. If the specified cgroup does not exist, an error is returned.'),
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (init, joined) => {
    const [initCgroups, joinedCgroups] = [parseProcCgroup(init.cgroup), parseProcCgroup(joined.cgroup)];
    return expectEqual(inBothHierarchies(initCgroups, joinedCgroups), inBothHierarchies(joinedCgroups, initCgroups));
  },
};
