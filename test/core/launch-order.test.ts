// The parent's side of a launch, as the records the launcher runs (core/parent-steps.ts), carried
// out by the launch interpreter on the recording kernel: no root, no process. Each assertion is a
// rule the kernel or the runtime-spec imposes on the order of the parent's calls.
import test from 'ava';
import { compilePlan } from '../../core/plan.js';
import { launchSteps, type HostView } from '../../core/setup-steps.js';
import { launchOrder, parentSteps, pausePoints, stage2Part, type ParentContext } from '../../core/parent-steps.js';
import { runSteps, runStepsAsync } from '../../core/launch-interpreter.js';
import { recordingKernel, type RecordedCall } from '../../core/recording-kernel.js';
import { StepListError } from '../../core/launch-error.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { parseProfile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';

const FDS = { report: 3, stdin: 4, stdout: 5, stderr: 6 };
const HOST: HostView = { rootEntries: [{ name: 'usr', kind: 'dir' }], isDirectory: () => true };
const STATE = { ociVersion: '1.0.2', id: 'c1', status: 'creating' as const, bundle: '/b', annotations: {} };
const CGROUPS = ['/sys/fs/cgroup/nsrig/c1', '/sys/fs/cgroup/cpu/nsrig/c1'];
const PID = 4242;

function profileOf(doc: Record<string, unknown>): Profile {
  return parseProfile(doc, 'order.yaml');
}

/** The parent's records for a profile, run on a recording kernel: the calls the launcher would make. */
async function parentCalls(profile: Profile, context: Partial<ParentContext> = {}): Promise<RecordedCall[]> {
  const plan = compilePlan(profile, FDS, { hookState: STATE });
  const kernel = recordingKernel({ childPid: PID });
  await runStepsAsync(parentSteps(profile, plan, { cgroupDirectories: CGROUPS, hookState: STATE, ...context }), kernel);
  return kernel.calls;
}

const index = (calls: RecordedCall[], predicate: (c: RecordedCall) => boolean) => {
  const i = calls.findIndex(predicate);
  if (i < 0) throw new Error('no such call');
  return i;
};
const writeTo = (path: string) => (c: RecordedCall) => c.call === 'write_file' && c.args.path === path;

const USER_NS = {
  namespaces: ['user', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'mnt', 'time'],
  user: { uidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }], gidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }] },
  process: { args: ['/bin/true'] },
};

test('clone first, with the namespaces clone can create, CLONE_PIDFD and SIGCHLD; cgroup and time are left to stage 2', async (t) => {
  const calls = await parentCalls(profileOf(USER_NS));
  t.is(calls[0]!.call, 'clone');
  t.deepEqual(calls[0]!.args, {
    flags: CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWNS | CLONE.PIDFD | SIGNALS.SIGCHLD!,
  });
  t.is(calls.filter((c) => c.call === 'clone').length, 1);
});

test('a namespace joined by path is not cloned anew', async (t) => {
  const calls = await parentCalls(profileOf({ namespaces: ['pid', 'net', 'mnt'], namespacePaths: { net: '/proc/self/ns/net' }, process: { args: ['/bin/true'] } }));
  t.is(calls[0]!.args.flags, CLONE.NEWPID | CLONE.NEWNS | CLONE.PIDFD | SIGNALS.SIGCHLD!);
});

test('a joined user namespace, or joins beside a new one: every join goes to the joining process in runc\'s order (user first), none elsewhere', async (t) => {
  const unread = (doc: Record<string, unknown>) => parseProfile(doc, 'order.yaml', { checkPaths: false });
  const joined = await parentCalls(unread({
    namespaces: ['user', 'pid', 'uts', 'net', 'mnt', 'time'],
    namespacePaths: { mnt: '/p/mnt', net: '/p/net', user: '/p/user', time: '/p/time', pid: '/p/pid' }, process: { args: ['/bin/true'] },
  }));
  t.deepEqual(joined[0]!.args, {
    flags: CLONE.NEWUTS | CLONE.PIDFD | SIGNALS.SIGCHLD!,
    joinFirst: [['user', '/p/user'], ['net', '/p/net'], ['pid', '/p/pid'], ['mnt', '/p/mnt'], ['time', '/p/time']].map(([type, path]) => ({ type, path })),
  });
  t.false(joined.some((c) => c.call === 'write_file' && String(c.args.path).endsWith('_map')), 'no id map for a joined user namespace');
  const beside = await parentCalls(unread({ ...USER_NS, namespacePaths: { ipc: '/p/ipc', cgroup: '/p/cgroup' } }));
  t.deepEqual(beside[0]!.args, {
    flags: CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWNET | CLONE.NEWNS | CLONE.PIDFD | SIGNALS.SIGCHLD!,
    joinFirst: [{ type: 'ipc', path: '/p/ipc' }, { type: 'cgroup', path: '/p/cgroup' }],
  });
  t.true(beside.some((c) => c.call === 'write_file' && c.args.path === `/proc/${PID}/uid_map`), 'a new user namespace still gets its maps');
});

test('the child joins every cgroup, then gets its id maps (setgroups before gid_map), all before the release, which is last', async (t) => {
  const calls = await parentCalls(profileOf(USER_NS));
  t.deepEqual(calls.map((c) => c.call), ['clone', 'write_file', 'write_file', 'write_file', 'write_file', 'write_file', 'release']);
  // The clone's pid, filled into each path and text that names PID.
  t.deepEqual(calls.slice(1, 6).map((c) => c.args), [
    { path: `${CGROUPS[0]}/cgroup.procs`, data: String(PID) },
    { path: `${CGROUPS[1]}/cgroup.procs`, data: String(PID) },
    { path: `/proc/${PID}/setgroups`, data: 'deny' },
    { path: `/proc/${PID}/uid_map`, data: '0 200000 65536\n' },
    { path: `/proc/${PID}/gid_map`, data: '0 200000 65536\n' },
  ]);
  const release = index(calls, (c) => c.call === 'release');
  t.true(index(calls, writeTo(`${CGROUPS[0]}/cgroup.procs`)) < index(calls, writeTo(`/proc/${PID}/uid_map`)));
  t.true(index(calls, writeTo(`/proc/${PID}/setgroups`)) < index(calls, writeTo(`/proc/${PID}/gid_map`)));
  t.true(index(calls, writeTo(`/proc/${PID}/gid_map`)) < release);
  t.is(release, calls.length - 1);
});

test('without a user namespace no id map is written; without cgroups nothing is placed', async (t) => {
  const calls = await parentCalls(profileOf({ namespaces: ['pid', 'mnt'], process: { args: ['/bin/true'] } }), { cgroupDirectories: [] });
  t.deepEqual(calls.map((c) => c.call), ['clone', 'release']);
});

test('oom_score_adj, the veth and the tracer\'s hand-over before the release; the hooks and the create-start hold after it, each while stage 2 holds', async (t) => {
  const profile = profileOf({
    ...USER_NS,
    network: { veth: { hostAddress: '10.9.0.1/30', containerAddress: '10.9.0.2/30' } },
    hooks: { prestart: [{ path: '/bin/true' }], createRuntime: [{ path: '/bin/echo', args: ['echo', 'x'], timeout: 3 }] },
  });
  profile.process.oomScoreAdj = -500;
  const calls = await parentCalls(profile, { callerActs: { beforeSetup: true, created: true } });
  t.deepEqual(calls.map((c) => (c.call === 'write_file' ? `write_file ${String(c.args.path)}` : c.call)), [
    'clone',
    `write_file ${CGROUPS[0]}/cgroup.procs`, `write_file ${CGROUPS[1]}/cgroup.procs`,
    `write_file /proc/${PID}/setgroups`, `write_file /proc/${PID}/uid_map`, `write_file /proc/${PID}/gid_map`,
    `write_file /proc/${PID}/oom_score_adj`,
    'attach_veth', 'await_caller', 'release',
    'await_stage2', 'run_hook', 'run_hook', 'resume_stage2',
    'await_stage2', 'await_caller', 'resume_stage2',
  ]);
  t.deepEqual(calls.filter((c) => c.call === 'await_stage2').map((c) => c.args), [{ point: 'runtime-hooks' }, { point: 'created' }]);
  t.deepEqual(calls.find(writeTo(`/proc/${PID}/oom_score_adj`))!.args.data, '-500');
  // The pid itself, not text: the hub moves the pair's end into that process's namespace.
  t.deepEqual(calls.find((c) => c.call === 'attach_veth')!.args, { pid: PID, peerName: 'eth0', hostAddress: '10.9.0.1/30' });
  t.deepEqual(calls.filter((c) => c.call === 'await_caller').map((c) => c.args), [{ point: 'before-setup' }, { point: 'created' }]);
  t.deepEqual(calls.filter((c) => c.call === 'run_hook').map((c) => c.args), [
    { hook: { what: 'hooks.prestart[0]', path: '/bin/true', argv: ['/bin/true'], env: [], timeoutMs: null }, state: STATE },
    { hook: { what: 'hooks.createRuntime[0]', path: '/bin/echo', argv: ['echo', 'x'], env: [], timeoutMs: 3000 }, state: STATE },
  ]);
});

test('one list: the parent\'s steps end with the release, and what the release sends is stage 2\'s list exactly', (t) => {
  const profile = profileOf(USER_NS);
  const plan = compilePlan(profile, FDS, { hookState: STATE });
  const order = launchOrder(profile, plan, { cgroupDirectories: CGROUPS, hookState: STATE }, HOST);
  const phases = order.map((s) => s.phase);
  const release = order.findIndex((s) => s.name === 'release');
  t.true(phases.slice(0, release + 1).every((p) => p === 'parent'));
  t.false(phases.slice(release + 1).includes('parent'));
  t.deepEqual(stage2Part(order), launchSteps(plan, HOST));
  t.is(order.at(-1)!.name, 'execve');
});

const HOOKED = {
  ...USER_NS,
  mounts: [{ destination: '/proc', type: 'proc' }, { destination: '/srv', type: 'bind', source: '/usr', options: ['ro'] }],
  hooks: {
    prestart: [{ path: '/bin/true' }], createRuntime: [{ path: '/bin/true' }],
    createContainer: [{ path: '/bin/true' }], startContainer: [{ path: '/bin/true' }],
  },
};

/** The whole launch as one list, stage 2's steps and the parent's in the order they happen. */
function orderOf(doc: Record<string, unknown>, callerActs: ParentContext['callerActs'] = {}) {
  const profile = profileOf(doc);
  const plan = compilePlan(profile, { ...FDS, control: 7 }, { hookState: STATE, pauses: pausePoints(profile, callerActs) });
  return launchOrder(profile, plan, { cgroupDirectories: CGROUPS, hookState: STATE, callerActs }, HOST);
}

test('config.md\'s hook points: prestart and createRuntime from nsrig once the mounts are made and before pivot_root, createContainer after them, startContainer after the create-start hold', (t) => {
  const order = orderOf(HOOKED, { created: true });
  const at = (name: string) => {
    const i = order.findIndex((s) => s.name === name);
    t.true(i >= 0, name);
    return i;
  };
  // Stage 2 holds after its last mount step; the parent runs both kinds meanwhile and resumes it.
  t.deepEqual(order.slice(at('make-root-readonly'), at('pivot-root') + 1).map((s) => `${s.phase} ${s.name}`), [
    'setup make-root-readonly',
    'setup hold-for-runtime-hooks',
    'parent await-mounts', 'parent run-prestart-hooks', 'parent run-create-runtime-hooks', 'parent resume-after-runtime-hooks',
    'setup run-create-container-hooks',
    'setup pivot-root',
  ]);
  t.true(at('mount-filesystems') < at('hold-for-runtime-hooks'));
  // The create ends held after createContainer and pivot_root; the caller's start resumes it to startContainer.
  t.deepEqual(order.slice(at('hold-created'), at('run-start-container-hooks') + 1).map((s) => `${s.phase} ${s.name}`), [
    'setup hold-created', 'parent await-created', 'parent created', 'parent start', 'setup run-start-container-hooks',
  ]);
  t.true(at('run-create-container-hooks') < at('hold-created'));
  t.true(at('run-start-container-hooks') < at('execve'));
  // Each hold reports on the report pipe and waits on the control pipe.
  t.deepEqual(order[at('hold-for-runtime-hooks')]!.calls, [{ call: 'pause_for_parent', args: { point: 'runtime-hooks', report: FDS.report, control: 7 } }]);
});

test('no hooks and no create-start: stage 2 never holds, and the parent\'s last step is the release', (t) => {
  const order = orderOf(USER_NS);
  t.false(order.some((s) => s.calls.some((c) => c.call === 'pause_for_parent' || c.call === 'await_stage2')));
  t.is(order.filter((s) => s.phase === 'parent').at(-1)!.name, 'release');
  // Only createContainer/startContainer: those run in stage 2, nothing to hold for.
  const inside = orderOf({ ...USER_NS, hooks: { createContainer: [{ path: '/bin/true' }] } });
  t.false(inside.some((s) => s.name === 'hold-for-runtime-hooks'));
});

test('a hold one side expects and the other does not is refused: either would wait for ever', (t) => {
  const profile = profileOf(HOOKED);
  const withoutPauses = compilePlan(profile, { ...FDS, control: 7 }, { hookState: STATE });
  t.throws(() => launchOrder(profile, withoutPauses, { cgroupDirectories: CGROUPS, hookState: STATE }, HOST),
    { instanceOf: StepListError, message: /parent waits for stage 2 at runtime-hooks/ });
  const plain = profileOf(USER_NS);
  const holding = compilePlan(plain, { ...FDS, control: 7 }, { pauses: ['created'] });
  t.throws(() => launchOrder(plain, holding, { cgroupDirectories: CGROUPS, hookState: STATE }, HOST),
    { instanceOf: StepListError, message: /stage 2 holds at created/ });
  // A hold needs the pipe it is resumed on.
  t.throws(() => launchSteps(compilePlan(plain, FDS, { pauses: ['created'] }), HOST), { instanceOf: StepListError, message: /control pipe/ });
});

test('the interpreter: an executor that lacks a call refuses it by name; a sync run refuses a call that answers later', async (t) => {
  const steps = [{ name: 'x', phase: 'parent' as const, calls: [{ call: 'release' as const, args: {} }] }];
  t.throws(() => runSteps(steps, {}), { instanceOf: StepListError, message: /release is not a call this executor makes/ });
  t.throws(() => runSteps(steps, { release: () => Promise.resolve() }), { instanceOf: StepListError, message: /runAsync/ });
  await t.notThrowsAsync(runStepsAsync(steps, { release: () => Promise.resolve() }));
  // A word filled from a result no earlier call produced.
  const unfilled = [{ name: 'y', phase: 'parent' as const, calls: [{ call: 'write_file' as const, args: { path: '/proc/PID/uid_map', data: '' }, fill: { PID: { ref: 'clone' } } }] }];
  t.throws(() => runSteps(unfilled, recordingKernel()), { instanceOf: StepListError, message: /refers to "clone"/ });
});
