import { syscallNumber } from '../../../policy/seccomp/index.js';
import { errnoName } from '../../../policy/kernel/errno.js';
import type { Profile } from '../../../policy/profile/types.js';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { ARGUMENT_FILTERED_CALL, ARGUMENT_VALUES } from '../../generators/seccomp-policy.js';
import { DEFAULT_ERRNO } from './denied-syscalls.js';

interface ArgumentRule {
  names?: unknown;
  errnoRet?: unknown;
  args?: { index: number; value: number; op: string }[];
}

/** The denied argument value and the errno promised for it, from the generated policy. */
function deniedValue(profile: Profile): { value: number; errno: number } | undefined {
  const rules = (profile.seccomp?.policy as { syscalls?: ArgumentRule[] } | undefined)?.syscalls ?? [];
  const rule = rules.find((r) => Array.isArray(r.names) && r.names.includes(ARGUMENT_FILTERED_CALL) && r.args?.length === 1);
  return rule ? { value: rule.args![0]!.value, errno: typeof rule.errnoRet === 'number' ? rule.errnoRet : DEFAULT_ERRNO } : undefined;
}

export const argumentFilterApplies: SingleInvariant = {
  id: 'seccomp.argument-filter-applies',
  level: 'MUST',
  title: 'A rule with an argument condition denies the call only for the value it names: getpriority(V, 0) returns the errnoRet, the same call with another first argument succeeds.',
  reference: ociSpec('config-linux.md', 'seccomp', 'Seccomp (args)', 'args (array of objects, OPTIONAL) - the specific syscall in seccomp.'),
  anchors: { crun: ['test_seccomp.py::test_seccomp_syscall_args'] },
  generate: { seccompArgumentFilter: true },
  scenario: 'single',
  request: () => ({
    syscalls: ARGUMENT_VALUES.map((which) => ({ name: `${ARGUMENT_FILTERED_CALL}(${which}, 0)`, nr: syscallNumber(ARGUMENT_FILTERED_CALL)!, args: [which, 0] })),
  }),
  check: (o, profile) => {
    const denied = deniedValue(profile);
    return expectEqual(
      ARGUMENT_VALUES.map((which) => ({ call: `${ARGUMENT_FILTERED_CALL}(${which}, 0)`, code: which === denied?.value ? errnoName(denied.errno) : null })),
      o.syscalls.map((s) => ({ call: s.name, code: s.code })),
    );
  },
};
