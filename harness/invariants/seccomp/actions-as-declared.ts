import { syscallNumber } from '../../../policy/seccomp/index.js';
import { errnoName } from '../../../policy/kernel/errno.js';
import type { Profile } from '../../../policy/profile/types.js';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { ACTION_CALLS, TRIED_ACTIONS, type TriedAction } from '../../generators/seccomp-policy.js';
import { DEFAULT_ERRNO } from './denied-syscalls.js';

interface RuleShape {
  names?: unknown;
  action?: unknown;
  errnoRet?: unknown;
  args?: unknown;
}

/** How a process making the call fares under each action (seccomp(2) "Filter return values"), as the probe reports it. */
function outcomeOf(action: TriedAction, errnoRet: number | undefined): string {
  switch (action) {
    case 'SCMP_ACT_KILL_PROCESS': return 'killed:SIGSYS';
    case 'SCMP_ACT_KILL_THREAD':
    case 'SCMP_ACT_KILL': return 'thread-killed';
    case 'SCMP_ACT_TRAP': return 'trapped';
    case 'SCMP_ACT_LOG': return 'returned';
    case 'SCMP_ACT_ERRNO': return `errno:${errnoName(errnoRet ?? DEFAULT_ERRNO)}`;
  }
}

const HARMLESS: ReadonlySet<string> = new Set(ACTION_CALLS);
const TRIED: ReadonlySet<string> = new Set(TRIED_ACTIONS);

/**
 * The calls the policy gives a tried action unconditionally, with the outcome each promises: only
 * ACTION_CALLS (harmless when made, successful without a filter). Later rules for a name lose to
 * the first, as neither runtime merges them.
 */
export function actionCalls(profile: Profile): { name: string; outcome: string }[] {
  const rules = (profile.seccomp?.policy as { syscalls?: RuleShape[] } | undefined)?.syscalls ?? [];
  const seen = new Map<string, string>();
  for (const r of rules) {
    if (typeof r.action !== 'string' || !TRIED.has(r.action) || (Array.isArray(r.args) && r.args.length > 0)) continue;
    for (const name of Array.isArray(r.names) ? r.names.map(String) : []) {
      if (HARMLESS.has(name) && !seen.has(name)) seen.set(name, outcomeOf(r.action as TriedAction, typeof r.errnoRet === 'number' ? r.errnoRet : undefined));
    }
  }
  return [...seen].map(([name, outcome]) => ({ name, outcome }));
}

export const actionsAsDeclared: SingleInvariant = {
  id: 'seccomp.actions-as-declared',
  level: 'MUST',
  title: "A call given KILL_PROCESS kills the process with SIGSYS, KILL_THREAD (or KILL) only the calling thread, TRAP delivers a SIGSYS its handler catches, LOG lets the call through, ERRNO returns the rule's errnoRet.",
  reference: ociSpec('config-linux.md', 'seccomp', 'Seccomp (action)', 'action (string, REQUIRED) - the action for seccomp rules.'),
  anchors: { crun: ['test_seccomp.py::test_seccomp_kill_action', 'test_seccomp.py::test_seccomp_log_action'] },
  generate: { seccompActions: true },
  appliesTo: (profile) => (!profile.process.noNewPrivileges ? 'without noNewPrivileges a runtime may make a call a KILL rule names after installing the filter'
    : actionCalls(profile).length === 0 ? `its seccomp policy gives none of ${ACTION_CALLS.join(', ')} a KILL, TRAP, LOG or ERRNO action unconditionally` : undefined),
  scenario: 'single',
  request: (profile) => ({ seccompCalls: actionCalls(profile).map((c) => ({ name: c.name, nr: syscallNumber(c.name)! })) }),
  check: (o, profile) => expectEqual(actionCalls(profile), o.seccompCalls),
};
