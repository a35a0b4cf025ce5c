// The order of stage 2's setup steps, as data: setupSteps(plan) for plans compiled from real
// profiles. Each rule below is one the kernel imposes (see the comments in core/setup-steps.ts);
// the exact lists pin the whole order so a change to it is a visible, reviewed change.
import test from 'ava';
import { compilePlan } from '../../core/plan.js';
import { setupSteps } from '../../core/setup-steps.js';
import { parseProfile } from '../../policy/profile/load.js';

const FDS = { report: 3, stdin: 4, stdout: 5, stderr: 6 };
const A_FILTER = Buffer.alloc(8);

function stepNames(doc: Record<string, unknown>, seccompPrograms: Buffer[] = []): string[] {
  const plan = compilePlan(parseProfile(doc, 'order.yaml'), FDS, { seccompPrograms });
  return setupSteps(plan).map((s) => s.name);
}

const ALL_NAMESPACES = ['user', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'mnt', 'time'];
const PLANS: Record<string, { doc: Record<string, unknown>; seccomp: boolean }> = {
  default: { doc: { process: { args: ['/bin/true'] } }, seccomp: false },
  'default with a filter': { doc: { process: { args: ['/bin/true'] } }, seccomp: true },
  everything: {
    doc: {
      namespaces: ALL_NAMESPACES, hostname: 'h', domainname: 'd', timeOffsets: { monotonic: 5 },
      mounts: [{ type: 'proc' }, { type: 'bind', source: '/usr', destination: '/mnt' }], sysctl: { 'net.ipv4.ip_forward': '1' },
      process: { args: ['/bin/true'], rlimits: [{ type: 'nofile', soft: 10, hard: 10 }], umask: '077', personality: 'linux32' },
    },
    seccomp: true,
  },
  'filter without no_new_privs': { doc: { namespaces: ALL_NAMESPACES, process: { args: ['/bin/true'], noNewPrivileges: false } }, seccomp: true },
  'directory rootfs': { doc: { rootfs: { path: '/usr', readonly: true }, mounts: [{ type: 'bind', source: '/etc', destination: '/lib' }], process: { args: ['/bin/true'] } }, seccomp: false },
  'host namespaces': { doc: { namespaces: [], process: { args: ['/bin/true'], env: { HOME: '/' } } }, seccomp: true },
  'joined network namespace': {
    doc: { namespaces: ['pid', 'net', 'mnt'], namespacePaths: { net: '/proc/self/ns/net' }, sysctl: { 'net.ipv4.ip_forward': '1' }, process: { args: ['/bin/true'] } },
    seccomp: false,
  },
  'no mount namespace': { doc: { namespaces: ['user', 'pid', 'uts', 'net'], hostname: 'x', process: { args: ['/bin/true'] } }, seccomp: false },
  'no masks, loopback down, all capabilities kept': {
    doc: {
      maskedPaths: [], readonlyPaths: [], network: { loopback: false },
      process: { args: ['/bin/true'], capabilities: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
        'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
        'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
        'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG',
        'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN',
        'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'] },
    },
    seccomp: false,
  },
};

const names = Object.fromEntries(Object.entries(PLANS).map(([k, p]) => [k, stepNames(p.doc, p.seccomp ? [A_FILTER] : [])]));
const MOUNT_STEPS = ['make-mounts-private', 'clone-bind-sources', 'clone-rootfs', 'attach-rootfs', 'build-host-root-view', 'mount-filesystems',
  'mask-paths', 'make-paths-readonly', 'make-root-readonly', 'pivot-root', 'set-root-propagation'];

const before = (list: string[], a: string, b: string) => list.indexOf(a) >= 0 && list.indexOf(b) >= 0 && list.indexOf(a) < list.indexOf(b);

test('the default profile: the whole order', (t) => {
  t.deepEqual(names.default, [
    'make-mounts-private', 'clone-bind-sources', 'build-host-root-view', 'mount-filesystems', 'mask-paths', 'make-paths-readonly',
    'make-root-readonly', 'pivot-root', 'set-root-propagation', 'bring-loopback-up', 'set-home', 'change-directory', 'new-session', 'prepare-stdio',
    'reset-signals', 'drop-bounding-set', 'switch-credentials', 'join-session-keyring', 'set-capabilities', 'set-parent-death-signal', 'set-no-new-privileges',
  ]);
});

test('every namespace and field: the whole order, seccomp last', (t) => {
  t.deepEqual(names.everything, [
    'make-mounts-private', 'enter-cgroup-namespace', 'enter-time-namespace', 'write-sysctls', 'clone-bind-sources', 'build-host-root-view',
    'mount-filesystems', 'mask-paths', 'make-paths-readonly', 'make-root-readonly', 'pivot-root', 'set-root-propagation', 'set-hostname', 'set-domainname',
    'bring-loopback-up', 'set-rlimits', 'set-home', 'set-umask', 'set-personality', 'change-directory', 'new-session', 'prepare-stdio', 'reset-signals',
    'drop-bounding-set', 'switch-credentials', 'join-session-keyring', 'set-capabilities', 'set-parent-death-signal', 'set-no-new-privileges', 'install-seccomp',
  ]);
});

test('with a mount namespace, propagation is made private before anything else', (t) => {
  for (const [plan, list] of Object.entries(names)) {
    // Joining a network, IPC or UTS namespace touches no mount, so it may come first.
    if (list.includes('pivot-root')) t.is(list.filter((s) => s !== 'join-namespaces')[0], 'make-mounts-private', plan);
  }
});

test('the mount steps run in the order the kernel needs, pivot_root after every mount', (t) => {
  for (const [plan, list] of Object.entries(names)) {
    const present = MOUNT_STEPS.filter((s) => list.includes(s));
    t.deepEqual(list.filter((s) => MOUNT_STEPS.includes(s)), present, plan);
    if (list.includes('pivot-root')) {
      // Everything but the propagation change, which pivot_root would refuse on a shared root.
      for (const s of present.filter((x) => x !== 'pivot-root' && x !== 'set-root-propagation')) t.true(before(list, s, 'pivot-root'), `${plan}: ${s} after pivot-root`);
      t.true(before(list, 'pivot-root', 'set-root-propagation'), `${plan}: propagation set after pivot-root`);
    }
  }
});

test('bind sources are cloned before the new root covers the staging directory', (t) => {
  t.true(before(names.everything!, 'clone-bind-sources', 'build-host-root-view'));
  t.true(before(names['directory rootfs']!, 'clone-bind-sources', 'attach-rootfs'));
});

test('a directory rootfs is cloned whole; only the host root is rebuilt as a view', (t) => {
  t.true(before(names['directory rootfs']!, 'clone-rootfs', 'attach-rootfs'));
  t.false(names['directory rootfs']!.includes('build-host-root-view'));
  t.false(names.default!.includes('clone-rootfs'));
});

test('time offsets are written before the root is pivoted, while the host /proc is reachable', (t) => {
  t.true(before(names.everything!, 'enter-time-namespace', 'build-host-root-view'));
  t.true(before(names.everything!, 'enter-time-namespace', 'pivot-root'));
});

test('with no_new_privs, install-seccomp is the last step', (t) => {
  for (const plan of ['default with a filter', 'everything', 'host namespaces']) {
    t.is(names[plan]!.at(-1), 'install-seccomp', plan);
    t.is(names[plan]!.filter((s) => s.startsWith('install-seccomp')).length, 1, plan);
  }
});

test('without no_new_privs the filter goes in while CAP_SYS_ADMIN is still held, before any privilege is dropped', (t) => {
  const list = names['filter without no_new_privs']!;
  t.false(list.includes('install-seccomp'));
  t.false(list.includes('set-no-new-privileges'));
  for (const later of ['drop-bounding-set', 'switch-credentials', 'set-capabilities']) t.true(before(list, 'install-seccomp-early', later), later);
  // A policy may deny keyctl (Docker's does): the keyring is joined before the filter, as runc joins it.
  t.true(before(list, 'join-session-keyring', 'install-seccomp-early'));
  // Everything that is not about credentials is already done.
  for (const earlier of ['pivot-root', 'prepare-stdio', 'reset-signals']) t.true(before(list, earlier, 'install-seccomp-early'), earlier);
});

test('credentials: bounding set while CAP_SETPCAP is held, then ids, then the sets, then the death signal', (t) => {
  for (const [plan, list] of Object.entries(names)) {
    if (list.includes('drop-bounding-set')) t.true(before(list, 'drop-bounding-set', 'switch-credentials'), plan);
    t.true(before(list, 'switch-credentials', 'set-capabilities'), plan);
    t.true(before(list, 'set-capabilities', 'set-parent-death-signal'), plan);
    if (list.includes('set-no-new-privileges')) t.true(before(list, 'set-parent-death-signal', 'set-no-new-privileges'), plan);
  }
});

test('steps a plan does not need are left out', (t) => {
  t.deepEqual(names['host namespaces'], [
    'change-directory', 'new-session', 'prepare-stdio', 'reset-signals', 'drop-bounding-set', 'switch-credentials', 'join-session-keyring', 'set-capabilities',
    'set-parent-death-signal', 'set-no-new-privileges', 'install-seccomp',
  ]);
  const noMnt = names['no mount namespace']!;
  t.deepEqual(noMnt.filter((s) => MOUNT_STEPS.includes(s)), []);
  t.true(noMnt.includes('set-hostname'));
  t.false(noMnt.includes('set-domainname'));
  const bare = names['no masks, loopback down, all capabilities kept']!;
  for (const absent of ['mask-paths', 'make-paths-readonly', 'bring-loopback-up', 'drop-bounding-set', 'set-rlimits', 'install-seccomp']) {
    t.false(bare.includes(absent), absent);
  }
  t.false(names.default!.some((s) => s.startsWith('install-seccomp')));
  t.false(names.default!.includes('enter-cgroup-namespace'));
  t.false(names.default!.includes('enter-time-namespace'));
});

test('step names are unique within a plan and every step can run', (t) => {
  for (const [plan, p] of Object.entries(PLANS)) {
    const steps = setupSteps(compilePlan(parseProfile(p.doc, 'order.yaml'), FDS, { seccompPrograms: p.seccomp ? [A_FILTER] : [] }));
    t.is(new Set(steps.map((s) => s.name)).size, steps.length, plan);
    t.true(steps.every((s) => typeof s.run === 'function'), plan);
  }
});

test('a joined namespace is entered first, so sysctls and names act on it; its interfaces are left alone', (t) => {
  const list = names['joined network namespace']!;
  t.is(list[0], 'join-namespaces');
  t.true(before(list, 'join-namespaces', 'write-sysctls'));
  t.false(list.includes('bring-loopback-up'));
});

test('sysctls are written inside the namespaces before any root is read-only; HOME is read from the container\'s passwd', (t) => {
  for (const plan of ['everything', 'joined network namespace']) {
    const list = names[plan]!;
    t.true(before(list, 'write-sysctls', 'make-root-readonly'), plan);
    t.true(before(list, 'enter-time-namespace', 'write-sysctls') || !list.includes('enter-time-namespace'), plan);
    t.true(before(list, 'pivot-root', 'set-home'), plan);
  }
  t.false(names['host namespaces']!.includes('set-home'));
});

test('umask after every file setup creates; personality before the filter that may forbid it', (t) => {
  const list = names.everything!;
  t.true(before(list, 'mount-filesystems', 'set-umask'));
  t.true(before(list, 'set-personality', 'install-seccomp'));
});
