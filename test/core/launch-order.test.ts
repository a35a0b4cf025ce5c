// The parent's side of a launch, as the records the launcher runs (core/parent-steps.ts), carried
// out by the launch interpreter on the recording kernel: no root, no process. Each assertion is a
// rule the kernel or the runtime-spec imposes on the order of the parent's calls.
import test from 'ava';
import { compilePlan } from '../../core/plan.js';
import { launchSteps, type HostView } from '../../core/setup-steps.js';
import { launchOrder, parentSteps, stage2Part, type ParentContext } from '../../core/parent-steps.js';
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

test('oom_score_adj, the veth, the caller\'s hand-over points and the hooks, in the order the launcher has always made them', async (t) => {
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
    'attach_veth', 'await_caller', 'run_hook', 'run_hook', 'await_caller', 'release',
  ]);
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

test('the interpreter: an executor that lacks a call refuses it by name; a sync run refuses a call that answers later', async (t) => {
  const steps = [{ name: 'x', phase: 'parent' as const, calls: [{ call: 'release' as const, args: {} }] }];
  t.throws(() => runSteps(steps, {}), { instanceOf: StepListError, message: /release is not a call this executor makes/ });
  t.throws(() => runSteps(steps, { release: () => Promise.resolve() }), { instanceOf: StepListError, message: /runAsync/ });
  await t.notThrowsAsync(runStepsAsync(steps, { release: () => Promise.resolve() }));
  // A word filled from a result no earlier call produced.
  const unfilled = [{ name: 'y', phase: 'parent' as const, calls: [{ call: 'write_file' as const, args: { path: '/proc/PID/uid_map', data: '' }, fill: { PID: { ref: 'clone' } } }] }];
  t.throws(() => runSteps(unfilled, recordingKernel()), { instanceOf: StepListError, message: /refers to "clone"/ });
});
