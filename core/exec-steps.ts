// What a process joined to a running container does once it is in the container's namespaces:
// the tail of the launch's own step list (core/setup-steps.ts), the same records the init ran for
// its ids, capabilities, NoNewPrivileges and seccomp, behind one step of its own that comes first.
import type { LaunchPlan } from './plan.js';
import { call, launchSteps, type HostView, type SetupStep } from './setup-steps.js';

/**
 * The launch's steps that make the process what the container's process is, as opposed to making
 * the container (mounts, names, interfaces, hooks are the init's and already there).
 */
const PROCESS_STEPS: ReadonlySet<string> = new Set([
  'set-rlimits', 'set-home', 'set-umask', 'set-personality', 'change-directory', 'new-session', 'prepare-stdio', 'reset-signals',
  'join-session-keyring', 'resolve-executable', 'install-seccomp-early', 'drop-bounding-set', 'switch-credentials', 'set-capabilities',
  'set-parent-death-signal', 'set-no-new-privileges', 'install-seccomp', 'execve',
]);

/** Nothing the joined process looks at in the host's filesystem: its list has no mount step. */
const NO_HOST_VIEW: HostView = { rootEntries: [], isDirectory: () => true };

/**
 * The joined process's list: first the proof that every join happened (a refused setns left it
 * where it was, and the clone chain that made it cannot stop on a failed call), then the launch's
 * process steps for a plan compiled from the container's profile with the exec's process in it.
 */
export function joinedProcessSteps(plan: LaunchPlan, expectedNamespaces: Record<string, string>): SetupStep[] {
  const steps = launchSteps({ ...plan, rootfs: undefined, mounts: [], devices: [], maskedPaths: [], readonlyPaths: [], treeBinds: [] }, NO_HOST_VIEW);
  return [
    {
      name: 'verify-joined-namespaces', phase: 'setup',
      why: 'before anything else: a join that did not happen must run nothing, least of all on the host',
      calls: [call('expect_namespaces', { links: expectedNamespaces })],
    },
    ...steps.filter((s) => PROCESS_STEPS.has(s.name)),
  ];
}
