// What nsrig does from outside: clone stage 2 into the new namespaces, place it in its cgroups,
// write its id maps, give it its veth and release it; then, while stage 2 holds at a pause of its
// list (pause_for_parent), run the hooks that run from here and hand the created container to a
// create-start caller, resuming it after each (interleave places these where stage 2 holds). The same {name, why, calls} records as stage 2's steps
// (core/setup-steps.ts), carried out by the same interpreter: the launcher runs them against its
// own executor, `nsrig plan` prints them, tests run them on the recording kernel. The child's pid
// is the clone's result: a whole argument refers to it ({ ref: "clone" }), a path or text names
// it as the word PID (fill).
import path from 'node:path';
import type { Profile } from '../policy/profile/types.js';
import { cloneFlagsFor, createdNamespaces, idMapWrites, joinedAt, type LaunchPlan } from './plan.js';
import { plannedHooks, type ContainerState } from './container-hooks.js';
import { call, launchSteps, type HostView, type KernelCall, type Ref, type SetupStep } from './setup-steps.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { StepListError } from './launch-error.js';
import type { PausePoint } from './kernel.js';
import { SIGNALS } from '../policy/kernel/signals.js';

const CHILD: Ref = { ref: 'clone' };
const PID = { PID: CHILD };

export interface ParentContext {
  /** The container's cgroup directories, each of which the child joins (a plan shows where they would be). */
  cgroupDirectories: string[];
  /** The state the parent's hooks read, less the pid, which is the child's. */
  hookState: Omit<ContainerState, 'pid'>;
  /** Where the launch's caller acts on the held child (LaunchOptions.beforeSetup, .created). */
  callerActs?: { beforeSetup?: boolean; created?: boolean };
}

/** The parent's steps for a profile, in order, ending with the release. */
export function parentSteps(profile: Profile, plan: LaunchPlan, context: ParentContext): SetupStep[] {
  const steps: SetupStep[] = [];
  const add = (name: string, why: string, calls: KernelCall[], when = true) => {
    if (when) steps.push({ name, why, phase: 'parent', calls });
  };
  const chainJoins = joinedAt(profile, 'clone-chain');
  const pidNamespace = joinedAt(profile, 'clone-thread')[0]?.path;
  const joinFirst = joinedAt(profile, 'joining-process');
  add('clone', joinFirst.length > 0
    ? 'a joining process enters every joined namespace, the user namespace first, then clones stage 2 into the new ones, which so belong to the right user namespace; cgroup and time are created from inside'
    : 'stage 2 starts in the new namespaces and, before it runs, in the joined mount, cgroup and time namespaces; cgroup and time are created from inside',
    [call('clone', {
      flags: cloneFlagsFor(createdNamespaces(profile)) | CLONE.PIDFD | SIGNALS.SIGCHLD!,
      ...(chainJoins.length > 0 ? { join: chainJoins } : {}), ...(pidNamespace !== undefined ? { pidNamespace } : {}),
      ...(joinFirst.length > 0 ? { joinFirst } : {}),
    })]);
  add('place-in-cgroup', 'before setup, so stage 2 enters its cgroup namespace there and nothing escapes teardown',
    context.cgroupDirectories.map((dir) => call('write_file', { path: path.join(dir, 'cgroup.procs'), data: 'PID' }, { fill: PID })),
    context.cgroupDirectories.length > 0);
  const maps = idMapWrites(profile);
  add('write-id-maps', 'before the release: stage 2 acts only once it has ids to act with',
    maps.map((m) => call('write_file', { path: `/proc/PID/${m.file}`, data: m.data }, { fill: PID })), maps.length > 0);
  add('write-oom-score-adj', 'from the host, as runc does: lowering it needs CAP_SYS_RESOURCE, which a user namespace\'s root lacks',
    [call('write_file', { path: '/proc/PID/oom_score_adj', data: String(profile.process.oomScoreAdj) }, { fill: PID })],
    profile.process.oomScoreAdj !== undefined);
  add('attach-veth', 'eth0 is in the container\'s namespace before the list that tells stage 2 to configure it',
    plan.veth ? [call('attach_veth', { pid: CHILD, peerName: plan.veth.interfaceName, hostAddress: profile.network.veth!.hostAddress })] : [],
    plan.veth !== undefined);
  add('before-setup', 'the caller (a tracer) acts on the child before it makes any setup call',
    [call('await_caller', { point: 'before-setup' })], context.callerActs?.beforeSetup === true);
  add('release', 'the first byte lets the child become namespace root and exec stage 2; the step list that follows is stage 2\'s, below',
    [call('release', {})]);
  const points = pausePoints(profile, context.callerActs);
  const hookCalls = (kind: 'prestart' | 'createRuntime') => plannedHooks(profile.hooks, kind)
    .map((hook) => call('run_hook', { hook, state: { ...context.hookState, status: 'creating' } }));
  const prestart = hookCalls('prestart');
  const createRuntime = hookCalls('createRuntime');
  add('await-mounts', 'stage 2 holds once the container\'s mounts are made, before pivot_root (its hold-for-runtime-hooks)',
    [call('await_stage2', { point: 'runtime-hooks' })], points.includes('runtime-hooks'));
  // runc runs these from its parent at the same point, in the runtime's namespaces.
  add('run-prestart-hooks', 'in nsrig\'s own namespaces, the container\'s environment made and its root not yet pivoted (config.md "Prestart"); a failure stops the start',
    prestart, prestart.length > 0);
  add('run-create-runtime-hooks', 'after prestart, at the same point (runtime.md "Lifecycle" step 4, config.md "CreateRuntime Hooks")', createRuntime, createRuntime.length > 0);
  add('resume-after-runtime-hooks', 'stage 2 goes on to createContainer and pivot_root', [call('resume_stage2', {})], points.includes('runtime-hooks'));
  add('await-created', 'stage 2 holds with the whole create done, createContainer hooks included (its hold-created)',
    [call('await_stage2', { point: 'created' })], points.includes('created'));
  add('created', 'the create-start lifecycle: the container is created and held; the caller\'s start is the release',
    [call('await_caller', { point: 'created' })], context.callerActs?.created === true);
  add('start', 'the resume is the start: startContainer hooks, then the program', [call('resume_stage2', {})], points.includes('created'));
  return steps;
}

/** Where stage 2 must hold for this profile and caller: for prestart and createRuntime hooks, and for a caller's create-start. */
export function pausePoints(profile: Profile, callerActs: ParentContext['callerActs'] = {}): PausePoint[] {
  const runtimeHooks = (profile.hooks?.prestart?.length ?? 0) + (profile.hooks?.createRuntime?.length ?? 0) > 0;
  return [...(runtimeHooks ? ['runtime-hooks' as const] : []), ...(callerActs.created === true ? ['created' as const] : [])];
}

/** The point a parent's step waits for stage 2 at, if it is such a wait. */
const awaitedPoint = (step: SetupStep): PausePoint | undefined => {
  const first = step.calls[0];
  return first?.call === 'await_stage2' ? first.args.point as PausePoint : undefined;
};
const pausedPoint = (step: SetupStep): PausePoint | undefined => {
  const pause = step.calls.find((c) => c.call === 'pause_for_parent');
  return pause?.call === 'pause_for_parent' ? pause.args.point as PausePoint : undefined;
};

/**
 * One list in the order things happen: the parent's steps up to the release, then stage 2's, with
 * what the parent does while stage 2 holds at a pause placed right after that pause. A pause the
 * other side does not expect is a StepListError: either side would wait for ever.
 */
export function interleave(parent: SetupStep[], stage2: SetupStep[]): SetupStep[] {
  const segments = new Map<PausePoint, SetupStep[]>();
  let current: SetupStep[] = [];
  const before = current;
  for (const step of parent) {
    const point = awaitedPoint(step);
    if (point !== undefined) {
      current = [];
      segments.set(point, current);
    }
    current.push(step);
  }
  const order = [...before];
  for (const step of stage2) {
    order.push(step);
    const point = pausedPoint(step);
    if (point === undefined) continue;
    const segment = segments.get(point);
    if (!segment) throw new StepListError(`stage 2 holds at ${point}, and the parent's steps never resume it there`);
    order.push(...segment);
    segments.delete(point);
  }
  const left = [...segments.keys()];
  if (left.length > 0) throw new StepListError(`the parent waits for stage 2 at ${left.join(', ')}, where stage 2's list never holds`);
  return order;
}

/** The whole launch in order: the parent's steps, then stage 2's (which the release sends). */
export function launchOrder(profile: Profile, plan: LaunchPlan, context: ParentContext, host?: HostView): SetupStep[] {
  return interleave(parentSteps(profile, plan, context), launchSteps(plan, host));
}

/** The part of a launch order the release hands to stage 2. */
export function stage2Part(order: SetupStep[]): SetupStep[] {
  return order.filter((s) => s.phase !== 'parent');
}
