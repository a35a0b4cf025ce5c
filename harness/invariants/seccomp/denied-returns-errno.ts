import { syscallNumber } from '../../../policy/seccomp/index.js';
import { errnoName } from '../../../policy/kernel/errno.js';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { deniedCalls } from './denied-syscalls.js';

export const deniedReturnsErrno: SingleInvariant = {
  id: 'seccomp.denied-returns-errno',
  level: 'MUST',
  title: "Each system call the policy denies with SCMP_ACT_ERRNO returns -1 with the rule's errnoRet (EPERM when it gives none).",
  reference: ociSpec('config-linux.md', 'seccomp', 'Seccomp (errnoRet)', 'Some actions like SCMP_ACT_ERRNO and SCMP_ACT_TRACE allow to specify the errno code to return.'),
  anchors: { contest: ['seccomp_test'], crun: ['test_seccomp.py::test_seccomp_block_syscall', 'test_seccomp.py::test_seccomp_errno_default'] },
  generate: { seccomp: true },
  scenario: 'single',
  request: (profile) => ({
    syscalls: deniedCalls(profile).flatMap((c) => {
      const nr = syscallNumber(c.name);
      return nr === undefined ? [] : [{ name: c.name, nr }];
    }),
  }),
  check: (o, profile) => expectEqual(
    deniedCalls(profile).map((c) => ({ name: c.name, result: -1, code: errnoName(c.errno) })),
    o.syscalls.map((s) => ({ name: s.name, result: s.result, code: s.code })),
  ),
};
