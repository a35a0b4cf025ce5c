import fc from 'fast-check';

/**
 * System calls a policy may deny without breaking the probe: Node does not make them while it
 * starts or while the probe observes, and each is harmless if an engine fails to deny it (the
 * probe calls them with zero arguments: syslog(CLOSE), personality(PER_LINUX), queries).
 */
export const DENIABLE_SYSCALLS = ['getppid', 'getpgrp', 'getsid', 'times', 'syslog', 'getpriority', 'ioprio_get', 'personality'] as const;

/** errno values a rule may return (OCI errnoRet); a rule without errnoRet returns EPERM. */
const ERRNOS = [1, 13, 22, 38, 95];

export interface DenyRule {
  names: string[];
  action: 'SCMP_ACT_ERRNO';
  errnoRet?: number;
  /** Deny only when these arguments compare as given (OCI seccomp args). */
  args?: { index: number; value: number; op: 'SCMP_CMP_EQ' }[];
}

export interface DenyingPolicy {
  defaultAction: 'SCMP_ACT_ALLOW';
  architectures: string[];
  syscalls: DenyRule[];
}

/** The policy of these errno rules, allowing everything else. */
export function policyDenying(rules: DenyRule[]): DenyingPolicy {
  return { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: rules };
}

/**
 * OCI seccomp policies that allow everything but one to three harmless calls, in one or two errno
 * rules; never a call the target cannot run without (see ProfileConstraints.undeniableSyscalls).
 */
export function denyingPolicy(undeniable: readonly string[] = []): fc.Arbitrary<DenyingPolicy> {
  return fc.shuffledSubarray(DENIABLE_SYSCALLS.filter((n) => !undeniable.includes(n)), { minLength: 1, maxLength: 3 })
    .chain((names) => fc.tuple(
      fc.integer({ min: 1, max: names.length }),
      fc.option(fc.constantFrom(...ERRNOS), { nil: undefined }),
      fc.option(fc.constantFrom(...ERRNOS), { nil: undefined }),
    ).map(([split, first, second]) => {
      const rule = (ruleNames: string[], errnoRet: number | undefined): DenyRule => ({
        names: ruleNames, action: 'SCMP_ACT_ERRNO', ...(errnoRet === undefined ? {} : { errnoRet }),
      });
      const rules = [rule(names.slice(0, split), first)];
      if (split < names.length) rules.push(rule(names.slice(split), second));
      return policyDenying(rules);
    }));
}

/**
 * The call an argument filter is tried on: getpriority(which, 0) with which = PRIO_PROCESS,
 * PRIO_PGRP or PRIO_USER is a harmless query for each, so one value can be denied and the others
 * allowed without the probe noticing anything but the errno.
 */
export const ARGUMENT_FILTERED_CALL = 'getpriority';
export const ARGUMENT_VALUES = [0, 1, 2] as const;

/** A policy that denies getpriority only when its first argument equals one of ARGUMENT_VALUES. */
export function argumentFilterPolicy(): fc.Arbitrary<DenyingPolicy> {
  return fc.tuple(fc.constantFrom(...ARGUMENT_VALUES), fc.option(fc.constantFrom(...ERRNOS), { nil: undefined })).map(([value, errnoRet]) => policyDenying([{
    names: [ARGUMENT_FILTERED_CALL], action: 'SCMP_ACT_ERRNO', ...(errnoRet === undefined ? {} : { errnoRet }), args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }],
  }]));
}

/** The OCI actions an action policy gives, besides ALLOW (SCMP_ACT_KILL is libseccomp's name for KILL_THREAD). */
export const TRIED_ACTIONS = ['SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG', 'SCMP_ACT_ERRNO'] as const;
export type TriedAction = typeof TRIED_ACTIONS[number];

/**
 * Calls an action policy puts one action on each: of DENIABLE_SYSCALLS, those that succeed when
 * made with zero arguments (so an action that lets the call through is told by its success).
 */
export const ACTION_CALLS = ['getppid', 'getpgrp', 'getsid', 'times', 'getpriority'] as const;

export interface ActionRule {
  names: string[];
  action: TriedAction;
  errnoRet?: number;
}

export interface ActionPolicy {
  defaultAction: 'SCMP_ACT_ALLOW';
  architectures: string[];
  syscalls: ActionRule[];
}

/**
 * OCI seccomp policies giving one to five harmless calls one action each, every action of
 * TRIED_ACTIONS possible (an ERRNO rule with or without errnoRet); never a call the target cannot
 * run without. The probe makes each call in a child process of its own, which the action may end.
 */
export function actionPolicy(undeniable: readonly string[] = []): fc.Arbitrary<ActionPolicy> {
  const calls = ACTION_CALLS.filter((n) => !undeniable.includes(n));
  return fc.shuffledSubarray(calls, { minLength: 1, maxLength: calls.length })
    .chain((names) => fc.tuple(
      fc.array(fc.constantFrom(...TRIED_ACTIONS), { minLength: names.length, maxLength: names.length }),
      fc.option(fc.constantFrom(...ERRNOS), { nil: undefined }),
    ).map(([actions, errnoRet]) => ({
      defaultAction: 'SCMP_ACT_ALLOW' as const,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: names.map((name, i): ActionRule => ({
        names: [name], action: actions[i]!, ...(actions[i] === 'SCMP_ACT_ERRNO' && errnoRet !== undefined ? { errnoRet } : {}),
      })),
    })));
}
