import { syscallNumber } from '../../../policy/seccomp/index.js';
import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

const SETGROUPS = syscallNumber('setgroups')!;

export const setgroupsAsDeclared: SingleInvariant = {
  id: 'user.setgroups-as-declared',
  level: 'MUST',
  title: '/proc/self/setgroups reads as the profile declares, and with "deny" setgroups(2) fails with EPERM.',
  reference: manSection('user_namespaces', 7, 'The /proc/[pid]/setgroups file', 'it displays "deny" if setgroups(2) is not permitted in that user namespace.'),
  anchors: { crun: ['test_namespaces.py::test_setgroups_deny', 'test_uid_gid.py::test_no_groups'] },
  // Generated profiles always have a user namespace; a config may not (harness/applicability.ts).
  generate: { ...requiresNamespaces('user'), ownUserMappings: true },
  scenario: 'single',
  // setgroups(0, NULL) would empty the groups: only asked for where it must be refused.
  request: (profile) => (profile.user.setgroups === 'deny' ? { syscalls: [{ name: 'setgroups', nr: SETGROUPS, args: [0, 0] }] } : {}),
  check: (o, profile) => expectEqual(
    { setgroups: profile.user.setgroups, call: profile.user.setgroups === 'deny' ? ['EPERM'] : [] },
    { setgroups: o.setgroups, call: o.syscalls.map((s) => s.code ?? 'succeeded') },
  ),
};
