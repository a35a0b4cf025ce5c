// OCI hooks on every target, through the hooks invariants' own scenario (recording hooks that
// write where, when and with what state they ran into a temp dir of the host): on the built-in
// engine, runc and crun each invariant holds, or fails exactly where that runtime version has a
// recorded upstream defect; a failing createRuntime hook stops every target's start and leaves
// nothing; the runc-hook-wrong-namespace wrapper is caught. One fixed profile per case keeps this
// fast; `nsrig check --only hooks` varies it (and doubles-oci shrinks the wrapper's failure).
import test from 'ava';
import { parseProfile } from '../../policy/profile/load.js';
import { HOOK_KINDS } from '../../policy/profile/types.js';
import { runWithHooks } from '../../harness/scenario.js';
import { HostFixtures } from '../../harness/host-facts.js';
import { knownDefectMatching } from '../../harness/known-defects.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { wrapperRuntimePath } from '../../harness/targets/runtime-wrappers/wrapper-runtimes.js';
import { runInLifecycleOrder } from '../../harness/invariants/hooks/run-in-lifecycle-order.js';
import { stateOnStdin } from '../../harness/invariants/hooks/state-on-stdin.js';
import { runInSpecifiedNamespaces } from '../../harness/invariants/hooks/run-in-specified-namespaces.js';
import { failingPrestartStopsStart } from '../../harness/invariants/hooks/failing-prestart-stops-start.js';
import type { Target } from '../../harness/target.js';
import { OciTestHost } from './oci-test-host.js';

// Bundles and recorders land here.
const host = OciTestHost.create('hooks-harness-test', { crun: true });
let fixtures: HostFixtures;
test.before(async () => {
  fixtures = await HostFixtures.create();
  host.defer(() => fixtures.close());
});

/** Every namespace of the classic model, a user namespace with a mapped root, the runtime-spec's default mounts. */
const PROFILE = parseProfile({
  name: 'hooks', namespaces: ['user', 'pid', 'uts', 'ipc', 'net', 'mnt'],
  user: { uidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }], setgroups: 'allow' },
  process: { args: ['true'], timeout: 20 },
}, '<hooks-test>');

const INVARIANTS = [runInLifecycleOrder, stateOnStdin, runInSpecifiedNamespaces, failingPrestartStopsStart];
const TARGETS: [string, () => Target][] = [['builtin', () => new BuiltinTarget()], ['runc', () => new OciTarget('runc')], ['crun', () => new OciTarget('crun')]];

for (const [name, makeTarget] of TARGETS) {
  for (const invariant of INVARIANTS) {
    test.serial(`${name}: ${invariant.id} holds, or fails as the recorded defect of this version says`, async (t) => {
      const target = makeTarget();
      const missing = await target.preflight();
      t.deepEqual(missing, [], `${name} runs containers here (the suite needs it)`);
      const info = await target.info();
      const unsupported = ((await target.constraints?.())?.unsupportedHooks ?? []).map((u) => u.kind);
      const run = await runWithHooks(target, PROFILE, invariant.recording(HOOK_KINDS.filter((k) => !unsupported.includes(k))));
      const verdict = invariant.check(run, PROFILE, fixtures.facts);
      const defect = info.kind === 'oci' ? knownDefectMatching(info.name, info.version, invariant.id) : undefined;
      const observed = verdict.holds ? 'holds' : verdict.observed;
      t.log(`${info.name} ${info.version}: ${run.records.map((r) => r.kind).join(' → ')}: ${observed}`);
      if (defect === undefined) t.true(verdict.holds, observed);
      else if (defect.occurs === 'sometimes') t.pass(`${defect.reference}, a race, is recorded for ${info.name} ${info.version}: either outcome is its`);
      else t.false(verdict.holds, `${defect.reference} is recorded for ${info.name} ${info.version}, yet ${invariant.id} held`);
    });
  }

  test.serial(`${name}: a failing createRuntime hook stops the start, runs no later create or start hook, and leaves no process or cgroup`, async (t) => {
    const target = makeTarget();
    const unsupported = ((await target.constraints?.())?.unsupportedHooks ?? []).map((u) => u.kind);
    const kinds = HOOK_KINDS.filter((k) => !unsupported.includes(k));
    const run = await runWithHooks(target, PROFILE, { kinds, failing: 'createRuntime' });
    t.not(run.startError, undefined);
    t.is(run.observed, undefined);
    const ran = run.records.map((r) => r.kind);
    t.deepEqual(ran.filter((k) => k !== 'poststop'), ['prestart', 'createRuntime'], ran.join(' → '));
    t.true(run.leftovers.length > 0, 'the hooks named the container\'s process');
    for (const left of run.leftovers) {
      t.false(left.alive, `pid ${left.pid}`);
      t.false(left.cgroupExists, `cgroup ${left.cgroup}`);
    }
  });
}

// crun 1.8.1's create, failing at its prestart hook, kills the init and leaves it unreaped: the
// create-start shim, its subreaper, must reap it before it says the create failed (it went to the
// host's pid 1 and stayed a zombie, counted alive, for as long as that init took).
for (const [name, makeTarget] of TARGETS.filter(([n]) => n !== 'builtin')) {
  test.serial(`${name}, create then start: ${failingPrestartStopsStart.id} holds, the failed create's init reaped`, async (t) => {
    const target = makeTarget();
    const unsupported = ((await target.constraints?.())?.unsupportedHooks ?? []).map((u) => u.kind);
    const run = await runWithHooks(target, PROFILE, failingPrestartStopsStart.recording(HOOK_KINDS.filter((k) => !unsupported.includes(k))), { lifecycle: 'create-start' });
    t.true(run.leftovers.length > 0, 'the hooks named the container\'s process');
    const verdict = failingPrestartStopsStart.check(run, PROFILE, fixtures.facts);
    t.true(verdict.holds, verdict.holds ? '' : verdict.observed);
  });
}

// The engine's create holds after createContainer and pivot_root; until it did, createContainer ran after start here.
for (const invariant of INVARIANTS) {
  test.serial(`builtin, create then start: ${invariant.id} holds (prestart, createRuntime and createContainer are the create's)`, async (t) => {
    const run = await runWithHooks(new BuiltinTarget(), PROFILE, invariant.recording(HOOK_KINDS), { lifecycle: 'create-start' });
    const verdict = invariant.check(run, PROFILE, fixtures.facts);
    t.log(`${run.records.map((r) => r.kind).join(' → ')}, start invoked after ${String(run.recordsBeforeStart)}`);
    t.true(verdict.holds, verdict.holds ? '' : verdict.observed);
    if (invariant === runInLifecycleOrder) t.is(run.recordsBeforeStart, 3, 'prestart, createRuntime and createContainer ran before start was invoked');
  });
}

test.serial('runc-hook-wrong-namespace runs createContainer on the host, and hooks.run-in-specified-namespaces says so', async (t) => {
  const target = new OciTarget(wrapperRuntimePath('runc-hook-wrong-namespace'));
  const run = await runWithHooks(target, PROFILE, runInSpecifiedNamespaces.recording(HOOK_KINDS));
  // Still once each, in its place in the order: only where it ran is wrong.
  t.deepEqual(run.records.map((r) => r.kind).filter((k) => k !== 'poststart' && k !== 'startContainer'), ['prestart', 'createRuntime', 'createContainer', 'poststop']);
  const verdict = runInSpecifiedNamespaces.check(run, PROFILE, fixtures.facts);
  t.false(verdict.holds);
  if (!verdict.holds) t.is(verdict.observed, 'createContainer ran in the host\'s mnt, pid, net, uts, ipc, user namespaces');
});
