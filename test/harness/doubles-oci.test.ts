// The broken wrapper runtimes of harness/targets/runtime-wrappers (each breaks one property, then
// runs runc) against the catalogue: the invariant guarding the broken property catches each.
// runc-leaks-fd, the runc-exec-* wrappers and the lifecycle ones run always: they are the
// breakages the built-in doubles cannot make (a host directory handed in as a descriptor; an exec,
// which the engine does not do yet; a start that follows a config.json edited after create, where
// the engine has no file to edit; a create that runs the program, a kill that sends another
// signal, a delete that leaves a cgroup: operations of the runtime's own command line). The rest
// run with NSRIG_THOROUGH=1 (about ten seconds each).
import test from 'ava';
import { runCheck } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { WRAPPER_RUNTIMES, wrapperRuntimePath } from '../../harness/targets/runtime-wrappers/wrapper-runtimes.js';
import { OciTestHost } from './oci-test-host.js';

const THOROUGH = process.env.NSRIG_THOROUGH === '1';

OciTestHost.create('doubles-oci-test');

/** Which invariant guards the property each isolation wrapper breaks. */
const CAUGHT_BY: Record<string, string[]> = {
  'runc-leaks-fd': ['fd.no-host-directory', 'fd.only-stdio-inherited'],
  'runc-drops-uts': ['uts.hostname-isolated'],
  'runc-drops-pid': ['pid.init-is-pid1', 'ptrace.host-process-unreachable'],
  'runc-drops-namespace-path': ['ns.joined-as-declared'],
  'runc-drops-net': ['net.host-listener-unreachable'],
  'runc-shares-ipc': ['ipc.host-objects-invisible'],
  'runc-drops-user': ['user.foreign-namespace-join-refused'],
  'runc-wrong-uid-map': ['user.maps-equal-profile'],
  'runc-no-readonly-rootfs': ['mnt.readonly-refuses-writes'],
  'runc-keeps-all-caps': ['caps.sets-as-declared'],
  'runc-drops-seccomp': ['seccomp.mode-filter-when-declared'],
  'runc-writable-proc-sys': ['proc.readonly-paths-unwritable'],
  'runc-unmasks-paths': ['proc.masked-unreadable'],
  'runc-drops-no-new-privileges': ['nnp.as-declared'],
  'runc-drops-bind-propagation': ['mnt.no-host-mount-after-start'],
  'runc-private-binds': ['mnt.bind-propagation-as-declared'],
  'runc-follows-rootfs-symlinks': ['mnt.hostile-rootfs-contained'],
  'runc-no-new-keyring': ['keyring.host-key-invisible'],
  'runc-ignores-seccomp-args': ['seccomp.argument-filter-applies'],
  'runc-seccomp-actions-as-errno': ['seccomp.actions-as-declared'],
  'runc-maps-extra-uid': ['user.nested-map-within-parent'],
  'runc-exec-adds-cap': ['exec.caps-as-declared'],
  'runc-exec-leaks-fd': ['exec.only-stdio-fds'],
  'runc-ignores-pids-limit': ['resources.pids-limit-holds'],
  'runc-ignores-noexec': ['mnt.noexec-refuses-exec'],
  'runc-writable-cgroupfs': ['cgroup.filesystem-readonly'],
  'runc-ignores-nosuid': ['mnt.nosuid-ignores-setuid'],
  'runc-ignores-nodev': ['mnt.nodev-refuses-devices'],
  'runc-ignores-rro': ['mnt.recursive-readonly-submounts'],
  'runc-ignores-memory-limit': ['resources.memory-limit-oom-kills'],
  'runc-ignores-cpu-resources': ['resources.cpu-as-declared'],
  'runc-ignores-blockio-weight': ['resources.blockio-weight-as-declared'],
  'runc-hook-wrong-namespace': ['hooks.run-in-specified-namespaces'],
  'runc-ignores-rlimits-umask': ['process.limits-as-declared'],
  'runc-ignores-sysctl': ['sysctl.values-applied', 'sysctl.shared-namespace-refused'],
  'runc-start-rereads-config': ['lifecycle.edit-after-create-ignored'],
  'runc-create-runs-program': ['lifecycle.state-as-specified'],
  'runc-kill-sends-other-signal': ['lifecycle.kill-delivers-signal'],
  'runc-delete-leaves-cgroup': ['lifecycle.delete-leaves-nothing'],
  'runc-delete-removes-foreign-cgroup': ['lifecycle.delete-spares-foreign-resources'],
  'runc-delete-forces': ['lifecycle.delete-refused-while-running'],
  'runc-kill-stopped-deletes': ['lifecycle.kill-refused-once-stopped'],
  'runc-start-running-succeeds': ['lifecycle.start-refused-unless-created'],
  // runc 1.1 itself, claiming 1.1.0: its ignored domainname is a violation, not a target limit.
  'runc-claims-spec-1.1': ['uts.hostname-isolated'],
};

test('every isolation wrapper has the invariant meant to catch it', (t) => {
  t.deepEqual(Object.keys(CAUGHT_BY).sort(), WRAPPER_RUNTIMES.filter((w) => w.kind === 'isolation').map((w) => w.name).sort());
});

const runcMissing = new OciTarget('runc').preflight();

/** Wrappers that break a lifecycle operation itself (create, start, kill, delete), which no built-in double reaches. */
const LIFECYCLE_OPERATIONS = ['runc-start-rereads-config', 'runc-create-runs-program', 'runc-kill-sends-other-signal', 'runc-delete-leaves-cgroup',
  'runc-delete-removes-foreign-cgroup', 'runc-delete-forces',
  'runc-kill-stopped-deletes', 'runc-start-running-succeeds'];

for (const [wrapper, ids] of Object.entries(CAUGHT_BY)) {
  const always = wrapper === 'runc-leaks-fd' || wrapper.startsWith('runc-exec-') || LIFECYCLE_OPERATIONS.includes(wrapper);
  (always || THOROUGH ? test.serial : test.skip)(`${wrapper} is caught by ${ids.join(' and ')}, shrunk and replayed`, async (t) => {
    t.deepEqual(await runcMissing, [], 'runc runs containers here (the suite needs it)');
    const options = {
      target: new OciTarget(wrapperRuntimePath(wrapper)), targetFlag: `--runtime ${wrapper}`,
      invariants: INVARIANTS.filter((i) => ids.includes(i.id)), runs: 10, seed: 1, jobs: 2,
    };
    const results = await runCheck(options);
    // What a probe crash said, so a failure here names its cause.
    const observed = results.invariants.map((r) => `${r.id}: ${r.counterexample?.observed ?? r.status}`).join('\n');
    t.deepEqual(results.invariants.map((r) => `${r.id} ${r.status}${r.counterexample?.expected === 'the probe to report its observations' ? ' (probe crash)' : ''}`), ids.map((id) => `${id} fail`).sort(), observed);
    for (const r of results.invariants) {
      t.true((r.counterexample?.shrinks ?? 0) > 0, `${r.id} shrank`);
      // The one printed command replays the shrunk case alone, and it fails again.
      const path = r.counterexample!.path;
      t.is(r.replay, `nsrig check --runtime ${wrapper} --seed 1 --runs 10 --only ${r.id} --replay '${path}'`);
      const [replayed] = (await runCheck({ ...options, invariants: INVARIANTS.filter((i) => i.id === r.id), replayPath: path })).invariants;
      t.deepEqual([replayed!.status, replayed!.cases], ['fail', 1], `${r.id} replayed`);
    }
  });
}
