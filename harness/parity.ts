// The parity table: for each invariant, the checks of runtime-tools, youki's contest, crun's tests
// and LTP's containers runtest that observe the same property (each invariant's `anchors`), and the
// anchors' checks nsrig does not cover yet, with why. Generated from the catalogue itself into
// docs/parity.md (`nsrig check --parity`), so it cannot drift from the invariants it describes.
import type { AnchorChecks, Invariant } from './invariant.js';

export const ANCHOR_SUITES: readonly { key: keyof AnchorChecks; name: string; where: string }[] = [
  { key: 'runtimeTools', name: 'runtime-tools', where: 'opencontainers/runtime-tools validation/ and runtimetest' },
  { key: 'contest', name: 'youki contest', where: 'youki-dev/youki tests/contest' },
  { key: 'crun', name: 'crun tests', where: 'containers/crun tests/*.py' },
  { key: 'ltp', name: 'LTP', where: 'linux-test-project/ltp runtest/containers' },
];

export interface UncoveredChecks {
  suite: keyof AnchorChecks;
  checks: string[];
  why: string;
}

/** The anchors' checks with no invariant yet, grouped by the reason. */
export const UNCOVERED: readonly UncoveredChecks[] = [
  {
    suite: 'runtimeTools',
    checks: ['misc_props'],
    why: 'config.json extensibility: an unknown annotation key or top-level property, and an invalid ociVersion, are not tried yet',
  },
  {
    suite: 'runtimeTools',
    checks: ['poststart_fail', 'poststop_fail'],
    why: 'a failing poststart or poststop hook is a warning on stderr (runtime-spec 1.0-1.2); no invariant reads a target\'s warnings yet',
  },
  {
    suite: 'runtimeTools',
    checks: ['linux_cgroups_hugetlb', 'linux_cgroups_network', 'linux_cgroups_devices', 'linux_cgroups_relative_*'],
    why: 'linux.resources beyond pids, memory, cpu and the blockIO weight: hugetlb, the network classes, the device allow-list and relative cgroupsPath are applied but not judged yet',
  },
  { suite: 'runtimeTools', checks: ['validateOOMScoreAdj'], why: 'oomScoreAdj is applied but not judged yet' },
  { suite: 'runtimeTools', checks: ['validateMountsExist', 'validateDefaultFS', 'validateDefaultSymlinks'], why: '/dev/pts, /dev/shm and the /dev symlinks are not mounted by the engine yet' },
  { suite: 'runtimeTools', checks: ['linux_process_apparmor_profile', 'linux_mount_label'], why: 'no LSM fields: AppArmor and SELinux are not configured by nsrig' },
  {
    suite: 'contest',
    checks: ['cgroups', 'process_rlimits_fail', 'process_oom_score_adj', 'scheduler', 'io_priority', 'memory_policy',
      'intel_rdt', 'personality', 'exec_cpu_affinity'],
    why: 'process and resource fields nsrig profiles do not have yet',
  },
  {
    suite: 'contest',
    checks: ['lifecycle', 'create_runtime', 'delete', 'kill_no_effect_test', 'killsig', 'pidfile', 'exec', 'exec_env', 'checkpoint_restore', 'update'],
    why: 'lifecycle, exec and checkpoint: not scenarios yet',
  },
  {
    suite: 'contest',
    checks: ['rnosuid_test', 'rnodev_test', 'rnosymfollow_test', 'ratime_test', 'prohibit_symlink', 'no_pivot', 'net_devices', 'set_empty_host_name_test'],
    why: 'the recursive flags on submounts and symlink rules are not tried yet (noexec, nosuid and nodev are on one mount: mnt.noexec-refuses-exec, mnt.nosuid-ignores-setuid, mnt.nodev-refuses-devices); netDevices and no_pivot are not profile fields',
  },
  {
    suite: 'crun',
    checks: ['test_devices.py::test_mknod_device', 'test_devices.py::test_allow_device',
      'test_uid_gid.py::test_dev_null_no_chown'],
    why: 'the device allow-list: not judged yet',
  },
  {
    suite: 'crun',
    checks: ['test_seccomp.py::test_seccomp_comparison_ops', 'test_seccomp.py::test_seccomp_listener'],
    why: 'generated policies use one SCMP_CMP_EQ argument condition; the other comparisons, SCMP_ACT_NOTIFY and an errno default action are not generated',
  },
  { suite: 'crun', checks: ['test_exec.py', 'test_update.py', 'test_checkpoint_restore.py', 'test_tty.py', 'test_detach.py'], why: 'lifecycle' },
  {
    suite: 'crun',
    checks: ['test_hooks.py::test_hook_with_timeout', 'test_hooks.py::test_hook_env_no_inherit', 'test_hooks.py::test_fail_poststart'],
    why: 'hook timeouts and environments are tested on the engine (test/core/container-hooks), not judged across targets; a failing poststart is an error only from runtime-spec 1.3',
  },
  { suite: 'ltp', checks: ['userns07', 'userns08'], why: 'user.nested-map-within-parent tries one-extent nested maps only, not the 32-level depth limit nor the six-extent maps of CVE-2018-18955 (a kernel fault, not a runtime one)' },
  { suite: 'ltp', checks: ['userns05', 'pidns04', 'pidns12', 'pidns13', 'pidns20', 'pidns30', 'pidns31', 'pidns32'], why: 'signal delivery, mq_notify and nesting inside the container: kernel behaviour more than runtime behaviour' },
  { suite: 'ltp', checks: ['mountns01', 'utsname01', 'utsname02'], why: 'shared propagation both ways, and plain uname(2): no profile declares a shared bind yet' },
];

function cell(checks: readonly string[] | undefined): string {
  return checks && checks.length > 0 ? checks.map((c) => `\`${c}\``).join(', ') : '—';
}

/** docs/parity.md, from the catalogue. */
export function renderParity(invariants: readonly Invariant[], uncovered: readonly UncoveredChecks[] = UNCOVERED): string {
  const lines = [
    '# Parity with the anchors\' suites',
    '',
    'Generated from the invariant catalogue by `nsrig check --parity` (each invariant file\'s `anchors`, and',
    '`UNCOVERED` in harness/parity.ts); do not edit by hand. Names are the anchors\' own:',
    ...ANCHOR_SUITES.map((s) => `- **${s.name}**: ${s.where}`),
    '',
    '## Each invariant and the anchors\' checks that observe the same property',
    '',
    `| invariant | level | ${ANCHOR_SUITES.map((s) => s.name).join(' | ')} |`,
    `|---|---|${ANCHOR_SUITES.map(() => '---').join('|')}|`,
    ...invariants.map((i) => `| \`${i.id}\` | ${i.level} | ${ANCHOR_SUITES.map((s) => cell(i.anchors?.[s.key])).join(' | ')} |`),
    '',
    `${invariants.filter((i) => !ANCHOR_SUITES.some((s) => (i.anchors?.[s.key]?.length ?? 0) > 0)).length} of ${invariants.length} invariants observe something no anchor checks.`,
    '',
    '## The anchors\' checks nsrig does not cover yet, and why',
    '',
    '| suite | checks | why |',
    '|---|---|---|',
    ...uncovered.map((u) => `| ${ANCHOR_SUITES.find((s) => s.key === u.suite)!.name} | ${cell(u.checks)} | ${u.why} |`),
    '',
  ];
  return lines.join('\n');
}
