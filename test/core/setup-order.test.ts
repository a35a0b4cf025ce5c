// The order of stage 2's setup steps, as data: setupSteps(plan) for plans compiled from real
// profiles. Each rule below is one the kernel imposes (see the comments in core/setup-steps.ts);
// the exact lists pin the whole order so a change to it is a visible, reviewed change.
import test from 'ava';
import { compilePlan } from '../../core/plan.js';
import { launchSteps, setupSteps, type HostView, type SetupStep } from '../../core/setup-steps.js';
import { runSteps } from '../../core/launch-interpreter.js';
import { recordingKernel, type RecordedCall } from '../../core/recording-kernel.js';
import { MS } from '../../policy/kernel/mount-flags.js';
import { parseProfile } from '../../policy/profile/load.js';

const FDS = { report: 3, stdin: 4, stdout: 5, stderr: 6 };
const A_FILTER = Buffer.alloc(8);

/** A host with a directory, a symlink and the live-state entries a host-root view must not clone. */
const HOST: HostView = {
  rootEntries: [
    { name: 'usr', kind: 'dir' }, { name: 'etc', kind: 'dir' }, { name: 'bin', kind: 'symlink', link: 'usr/bin' },
    { name: 'proc', kind: 'dir' }, { name: 'tmp', kind: 'dir' }, { name: 'vmlinuz', kind: 'other' },
  ],
  isDirectory: (source) => source !== '/etc/hostname',
};

function stepNames(doc: Record<string, unknown>, seccompPrograms: Buffer[] = [], checkPaths = true): string[] {
  const plan = compilePlan(parseProfile(doc, 'order.yaml', { checkPaths }), FDS, { seccompPrograms });
  return setupSteps(plan, HOST).map((s) => s.name);
}

const ALL_NAMESPACES = ['user', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'mnt', 'time'];
/** unchecked: a joined namespace's path is not read, so the order needs no namespace of the test's own. */
const PLANS: Record<string, { doc: Record<string, unknown>; seccomp: boolean; unchecked?: boolean }> = {
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
    // Not nsrig's own network namespace, where net.* sysctls are refused (runc's rule).
    doc: { namespaces: ['pid', 'net', 'mnt'], namespacePaths: { net: '/run/netns/nsrig-order' }, sysctl: { 'net.ipv4.ip_forward': '1' }, process: { args: ['/bin/true'] } },
    seccomp: false,
    unchecked: true,
  },
  devices: {
    doc: {
      namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'], mounts: [{ type: 'proc' }, { type: 'dev' }],
      devices: [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229 }], process: { args: ['/bin/true'] },
    },
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

const names = Object.fromEntries(Object.entries(PLANS).map(([k, p]) => [k, stepNames(p.doc, p.seccomp ? [A_FILTER] : [], !p.unchecked)]));
const MOUNT_STEPS = ['clone-bind-sources', 'make-mounts-private', 'clone-rootfs', 'attach-rootfs', 'build-host-root-view', 'mount-filesystems',
  'create-devices', 'mask-paths', 'make-paths-readonly', 'make-root-readonly', 'pivot-root', 'set-root-propagation'];

const before = (list: string[], a: string, b: string) => list.indexOf(a) >= 0 && list.indexOf(b) >= 0 && list.indexOf(a) < list.indexOf(b);

test('the default profile: the whole order', (t) => {
  t.deepEqual(names.default, [
    'clone-bind-sources', 'make-mounts-private', 'build-host-root-view', 'mount-filesystems', 'mask-paths', 'make-paths-readonly',
    'make-root-readonly', 'pivot-root', 'set-root-propagation', 'bring-loopback-up', 'set-home', 'change-directory', 'new-session', 'prepare-stdio',
    'reset-signals', 'drop-bounding-set', 'switch-credentials', 'join-session-keyring', 'set-capabilities', 'set-parent-death-signal', 'set-no-new-privileges',
  ]);
});

test('every namespace and field: the whole order, seccomp last', (t) => {
  t.deepEqual(names.everything, [
    'clone-bind-sources', 'make-mounts-private', 'enter-cgroup-namespace', 'enter-time-namespace', 'write-sysctls', 'build-host-root-view',
    'mount-filesystems', 'mask-paths', 'make-paths-readonly', 'make-root-readonly', 'pivot-root', 'set-root-propagation', 'set-mount-propagation', 'set-hostname', 'set-domainname',
    'bring-loopback-up', 'set-rlimits', 'set-home', 'set-umask', 'set-personality', 'change-directory', 'new-session', 'prepare-stdio', 'reset-signals',
    'drop-bounding-set', 'switch-credentials', 'join-session-keyring', 'set-capabilities', 'set-parent-death-signal', 'set-no-new-privileges', 'install-seccomp',
  ]);
});

test('with a mount namespace, propagation is made private before anything else but the bind sources\' clones', (t) => {
  for (const [plan, list] of Object.entries(names)) {
    // Joining a network, IPC or UTS namespace, and checking every join, touches no mount, so they may
    // come first; the clones are taken while a bind declared slave or shared can still keep its source's peer group.
    if (list.includes('pivot-root')) {
      t.deepEqual(list.filter((s) => s !== 'join-namespaces' && s !== 'verify-joined-namespaces').slice(0, 2), ['clone-bind-sources', 'make-mounts-private'], plan);
    }
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

test('step names are unique within a plan and every step runs on the recording kernel', (t) => {
  for (const [plan, p] of Object.entries(PLANS)) {
    const steps = launchSteps(compilePlan(parseProfile(p.doc, 'order.yaml', { checkPaths: !p.unchecked }), FDS, { seccompPrograms: p.seccomp ? [A_FILTER] : [] }), HOST);
    t.is(new Set(steps.map((s) => s.name)).size, steps.length, plan);
    const kernel = recordingKernel();
    runSteps(steps, kernel);
    // Only calls with a condition on a path are skipped (the recording kernel reports every path missing).
    t.is(kernel.calls.filter((c) => c.call !== 'stat').length, steps.reduce((n, s) => n + s.calls.length, 0) - conditionalCalls(steps), plan);
    t.is(kernel.calls.at(-1)!.call, 'execve', plan);
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

// The calls themselves, recorded without root: each rule is a plain assertion on the call list.

function conditionalCalls(steps: SetupStep[]): number {
  return steps.flatMap((s) => s.calls).filter((c) => c.when).length;
}

function recorded(
  doc: Record<string, unknown>, seccompPrograms: Buffer[] = [], files: Record<string, 'dir' | 'non-dir'> = {}, resolved: Record<string, string | null> = {},
): RecordedCall[] {
  const kernel = recordingKernel({ files, resolved });
  runSteps(launchSteps(compilePlan(parseProfile(doc, 'order.yaml'), FDS, { seccompPrograms }), HOST), kernel);
  return kernel.calls.filter((c) => c.call !== 'stat');
}

const callNames = (calls: RecordedCall[]) => calls.map((c) => c.call);
const firstIndex = (calls: RecordedCall[], name: string) => calls.findIndex((c) => c.call === name);
const lastIndex = (calls: RecordedCall[], name: string) => calls.map((c) => c.call as string).lastIndexOf(name);

test('sethostname and setdomainname come after pivot_root, with the profile\'s names', (t) => {
  const calls = recorded(PLANS.everything!.doc, [A_FILTER]);
  t.true(firstIndex(calls, 'pivot_root') < firstIndex(calls, 'sethostname'));
  t.deepEqual(calls.find((c) => c.call === 'sethostname')!.args, { name: 'h' });
  t.deepEqual(calls.find((c) => c.call === 'setdomainname')!.args, { name: 'd' });
});

test('with no_new_privs, seccomp is the last call before execve, and execve gets the resolved program', (t) => {
  const calls = recorded(PLANS['default with a filter']!.doc, [A_FILTER, A_FILTER]);
  t.deepEqual(callNames(calls).slice(-6), ['prctl', 'find_executable', 'report_ready', 'seccomp', 'seccomp', 'execve']);
  t.deepEqual(calls.at(-6)!.args, { option: 'PR_SET_NO_NEW_PRIVS', value: 1 });
  t.deepEqual(calls.at(-3)!.args, { program: A_FILTER.toString('base64') });
  // The profile sets no HOME: execve gets the environment set-home made (the recording kernel's passwd lists no one).
  t.deepEqual(calls.at(-1)!.args, { path: '/bin/true', argv: ['/bin/true'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/'] });
});

test('the program is found and the parent told before the first seccomp call, in both seccomp positions', (t) => {
  for (const plan of ['default with a filter', 'filter without no_new_privs']) {
    const calls = recorded(PLANS[plan]!.doc, [A_FILTER]);
    const seccomp = firstIndex(calls, 'seccomp');
    t.true(firstIndex(calls, 'find_executable') < firstIndex(calls, 'report_ready'), plan);
    t.is(firstIndex(calls, 'report_ready'), seccomp - 1, plan);
    t.deepEqual(calls[seccomp - 1]!.args, { fd: FDS.report }, plan);
  }
  const unfiltered = recorded(PLANS.default!.doc);
  t.deepEqual(callNames(unfiltered).slice(-3), ['find_executable', 'report_ready', 'execve']);
});

test('without no_new_privs the filter goes in before the bounding set shrinks and the ids change', (t) => {
  const calls = recorded(PLANS['filter without no_new_privs']!.doc, [A_FILTER]);
  const seccomp = firstIndex(calls, 'seccomp');
  t.true(seccomp < calls.findIndex((c) => c.call === 'prctl' && c.args.option === 'PR_CAPBSET_DROP'));
  t.true(seccomp < firstIndex(calls, 'setresuid'));
  t.false(calls.some((c) => c.call === 'prctl' && c.args.option === 'PR_SET_NO_NEW_PRIVS'));
});

test('propagation is made private on / (MS_PRIVATE|MS_REC) before any other mount call; only bind clones, each made private, come first', (t) => {
  const calls = recorded(PLANS.everything!.doc, [A_FILTER]);
  const first = calls.findIndex((c) => c.call === 'mount' || c.call === 'move_mount');
  t.deepEqual(calls[first], { call: 'mount', args: { source: null, target: '/', fstype: null, flags: MS.PRIVATE | MS.REC, data: null } });
  t.true(first > 0);
  t.true(calls.slice(0, first).every((c, i) => (i % 2 === 0 ? c.call === 'open_tree'
    : c.call === 'mount_setattr' && c.args.propagation === 'private' && c.args.recursive === true)), JSON.stringify(calls.slice(0, first)));
});

test('every mount call before pivot_root lands in the staging root; after it only propagation changes: the root mount\'s, then the bind\'s, which declares none and gets the root\'s', (t) => {
  const calls = recorded(PLANS.everything!.doc, [A_FILTER]);
  const pivot = firstIndex(calls, 'pivot_root');
  for (const c of calls.slice(calls.findIndex((c) => c.call === 'mount') + 1, pivot)) {
    if (c.call === 'mount' || c.call === 'move_mount') t.true(String(c.args.target).startsWith('/tmp'), JSON.stringify(c));
  }
  t.deepEqual(callNames(calls).slice(pivot - 1, pivot + 3), ['chdir', 'pivot_root', 'umount2', 'chdir']);
  t.deepEqual(calls.slice(pivot + 3).filter((c) => c.call.startsWith('mount')).map((c) => c.args),
    [{ target: '/', attrSet: 0, recursive: false, propagation: 'private' }, { source: null, target: '/mnt', fstype: null, flags: MS.PRIVATE, data: null }]);
});

test('a bind source is cloned before the root covers /tmp, and attached from the very descriptor open_tree returned', (t) => {
  const calls = recorded(PLANS['directory rootfs']!.doc);
  const clone = calls.findIndex((c) => c.call === 'open_tree' && c.args.path === '/etc');
  const attachRoot = calls.findIndex((c) => c.call === 'move_mount' && c.args.target === '/tmp');
  t.true(clone >= 0 && clone < attachRoot);
  // The recording kernel hands out 1000, 1001, ... in call order: the bind tree came first.
  t.deepEqual(calls.find((c) => c.call === 'move_mount' && c.args.target === '/tmp/lib')!.args, { from: 1000, target: '/tmp/lib' });
  t.deepEqual(calls[attachRoot]!.args, { from: 1001, target: '/tmp' });
});

test('the host-root view clones directories read-only, copies symlinks and leaves live state out', (t) => {
  const calls = recorded(PLANS.default!.doc);
  t.deepEqual(calls.filter((c) => c.call === 'open_tree').map((c) => c.args.path), ['/usr', '/etc']);
  t.deepEqual(calls.find((c) => c.call === 'symlink')!.args, { target: 'usr/bin', path: '/tmp/bin' });
  t.deepEqual(calls.filter((c) => c.call === 'mkdir' && String(c.args.path).split('/').length === 3).map((c) => [c.args.path, c.args.mode]),
    [['/tmp/usr', 0o755], ['/tmp/etc', 0o755], ['/tmp/proc', 0o755], ['/tmp/tmp', 0o1777]]);
  const tmpfs = calls.findIndex((c) => c.call === 'mount' && c.args.target === '/tmp');
  t.true(lastIndex(calls.slice(0, tmpfs), 'open_tree') >= 0 && !calls.slice(tmpfs).some((c) => c.call === 'open_tree'));
});

test('masks: an empty read-only tmpfs over a directory, /dev/null over a file, nothing over a missing path', (t) => {
  const doc = { maskedPaths: ['/proc/acpi', '/proc/kcore', '/proc/nothing'], readonlyPaths: [], process: { args: ['/bin/true'] } };
  const calls = recorded(doc, [], { '/tmp/proc/acpi': 'dir', '/tmp/proc/kcore': 'non-dir' });
  const masks = calls.filter((c) => c.call === 'mount' && String(c.args.target).startsWith('/tmp/proc/'));
  t.deepEqual(masks.map((c) => c.args), [
    { source: 'tmpfs', target: '/tmp/proc/acpi', fstype: 'tmpfs', flags: MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, data: 'size=0,mode=000' },
    { source: '/dev/null', target: '/tmp/proc/kcore', fstype: null, flags: MS.BIND, data: null },
  ]);
});

test('credentials: bounding set, keep-caps, gid before uid, then capset, ambient, death signal, no_new_privs', (t) => {
  const calls = recorded({ process: { args: ['/bin/true'], user: { uid: 1000, gid: 100 }, capabilities: ['CAP_NET_BIND_SERVICE'] } });
  const from = calls.findIndex((c) => c.call === 'prctl');
  const tail = calls.slice(from, -3).filter((c) => !(c.call === 'prctl' && c.args.option === 'PR_CAPBSET_DROP'));
  t.deepEqual(tail.map((c) => [c.call, c.args.option ?? c.args.gid ?? c.args.uid ?? '']), [
    ['prctl', 'PR_SET_KEEPCAPS'], ['setresgid', 100], ['setresuid', 1000], ['keyctl_join_session_keyring', ''], ['capset', ''],
    ['prctl', 'PR_CAP_AMBIENT_CLEAR_ALL'], ['prctl', 'PR_SET_PDEATHSIG'], ['prctl', 'PR_SET_NO_NEW_PRIVS'],
  ]);
  const mask = (1n << 10n).toString();
  t.deepEqual(calls.find((c) => c.call === 'capset')!.args, { effective: mask, permitted: mask, inheritable: '0' });
  t.is(calls.filter((c) => c.call === 'prctl' && c.args.option === 'PR_CAPBSET_DROP').length, 40);
});

test('masks and read-only binds land where resolve_in_root put them, resolved after every mount; a path it found missing gets nothing', (t) => {
  const doc = {
    mounts: [{ type: 'proc' }, { type: 'tmpfs', destination: '/srv' }],
    maskedPaths: ['/mnt/to-srv', '/gone/deeper'], readonlyPaths: ['/mnt/to-etc'], process: { args: ['/bin/true'] },
  };
  const calls = recorded(doc, [], { '/tmp/srv': 'dir', '/tmp/etc': 'dir' }, { '/mnt/to-srv': '/tmp/srv', '/gone/deeper': null, '/mnt/to-etc': '/tmp/etc' });
  const resolves = calls.flatMap((c, i) => (c.call === 'resolve_in_root' ? [i] : []));
  t.deepEqual(resolves.map((i) => calls[i]!.args), [
    { root: '/tmp', path: '/mnt/to-srv' }, { root: '/tmp', path: '/gone/deeper' }, { root: '/tmp', path: '/mnt/to-etc' },
  ]);
  // Resolved in the finished tree: after the last mount the profile makes (a symlink may lead into it), before pivot_root.
  const srvMount = calls.findIndex((c) => c.call === 'mount' && c.args.target === '/tmp/srv' && c.args.fstype === 'tmpfs' && c.args.data !== 'size=0,mode=000');
  t.true(srvMount >= 0 && srvMount < resolves[0]!);
  t.true(resolves.at(-1)! < firstIndex(calls, 'pivot_root'));
  const after = calls.slice(resolves[0]!, firstIndex(calls, 'pivot_root')).filter((c) => c.call === 'mount' || c.call === 'mount_setattr');
  t.deepEqual(after.map((c) => [c.call, c.args.target]), [
    ['mount', '/tmp/srv'], ['mount', '/tmp/etc'], ['mount_setattr', '/tmp/etc'], ['mount_setattr', '/tmp'],
  ]);
  t.is(after[0]!.args.data, 'size=0,mode=000');
  t.deepEqual(after[1]!.args, { source: '/tmp/etc', target: '/tmp/etc', fstype: null, flags: MS.BIND | MS.REC, data: null });
});

test('devices: made after the /dev tmpfs is mounted and its filesystem recorded, only there, before masks and pivot_root', (t) => {
  const calls = recorded(PLANS.devices!.doc);
  const devMount = calls.findIndex((c) => c.call === 'mount' && c.args.target === '/tmp/dev' && c.args.fstype === 'tmpfs');
  const statDev = firstIndex(calls, 'stat_dev');
  const create = calls.filter((c) => c.call === 'create_device');
  t.true(devMount >= 0 && statDev === devMount + 1);
  t.deepEqual(calls[statDev]!.args, { path: '/tmp/dev' });
  t.is(create.length, 1);
  // The recording kernel numbers filesystems from 1: the device may be made on the /dev tmpfs and nowhere else.
  t.deepEqual(create[0]!.args, {
    root: '/tmp', device: { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }, inUserNamespace: false, devFilesystems: [1],
  });
  const made = calls.indexOf(create[0]!);
  // After the default nodes (the last symlink and mkdir of /dev's fill), so a default one is replaced, not made over.
  t.true(lastIndex(calls.slice(0, made), 'mknod') > statDev);
  t.true(made < firstIndex(calls, 'resolve_in_root'));
  t.true(made < firstIndex(calls, 'pivot_root'));
  // Without a dev mount the list names no filesystem, so create_device refuses (core/container-devices.ts).
  const noDev = recorded({ ...PLANS.devices!.doc, mounts: [{ type: 'proc' }] }).find((c) => c.call === 'create_device')!;
  t.deepEqual(noDev.args.devFilesystems, []);
  t.deepEqual(recorded({ ...PLANS.devices!.doc, namespaces: ALL_NAMESPACES }).find((c) => c.call === 'create_device')!.args.inUserNamespace, true);
});

/** The step that covers /tmp with the container's root: a directory rootfs attached, or the host-root view built. */
const mntStagingStep = (list: string[]) => (list.includes('attach-rootfs') ? 'attach-rootfs' : 'build-host-root-view');

test('createContainer hooks run right before pivot_root, startContainer hooks after the stdio and signals are set and before any filter or privilege drop', (t) => {
  const hooks = {
    createContainer: [{ path: '/usr/bin/env', args: ['env'], timeout: 2 }],
    startContainer: [{ path: '/bin/true' }, { path: '/bin/false', env: ['A=1'] }],
  };
  const state = { ociVersion: '1.0.2', id: 'c1', status: 'creating' as const, bundle: '/b', annotations: {} };
  for (const [title, doc] of [['everything', PLANS.everything!.doc], ['filter without no_new_privs', PLANS['filter without no_new_privs']!.doc]] as const) {
    const plan = compilePlan(parseProfile({ ...doc, hooks }, 'order.yaml'), FDS, { seccompPrograms: [A_FILTER], hookState: state });
    const list = launchSteps(plan, HOST).map((s) => s.name);
    t.is(list[list.indexOf('pivot-root') - 1], 'run-create-container-hooks', title);
    t.is(list[list.indexOf('reset-signals') + 1], 'run-start-container-hooks', title);
    for (const later of ['join-session-keyring', 'install-seccomp-early', 'install-seccomp', 'drop-bounding-set', 'switch-credentials', 'resolve-executable']) {
      if (list.includes(later)) t.true(before(list, 'run-start-container-hooks', later), `${title}: ${later}`);
    }
    const kernel = recordingKernel();
    runSteps(launchSteps(plan, HOST), kernel);
    // createContainer's executable is opened before the staging root is attached, and run through that descriptor.
    const opened = kernel.calls.find((c) => c.call === 'open' && c.args.path === '/usr/bin/env');
    t.truthy(opened, title);
    const list2 = launchSteps(plan, HOST).map((s) => s.name);
    t.true(before(list2, 'open-create-container-hooks', mntStagingStep(list2)), title);
    t.deepEqual(kernel.calls.filter((c) => c.call === 'run_hook').map((c) => c.args), [
      { hook: { what: 'hooks.createContainer[0]', path: '/usr/bin/env', argv: ['env'], env: [], timeoutMs: 2000 }, state, fd: 1000 + kernel.calls.filter((c) => c.call === 'open_tree' || c.call === 'open').indexOf(opened!) },
      { hook: { what: 'hooks.startContainer[0]', path: '/bin/true', argv: ['/bin/true'], env: [], timeoutMs: null }, state: { ...state, status: 'created' } },
      { hook: { what: 'hooks.startContainer[1]', path: '/bin/false', argv: ['/bin/false'], env: ['A=1'], timeoutMs: null }, state: { ...state, status: 'created' } },
    ], title);
  }
  t.false(names.everything!.some((s) => s.startsWith('run-')), 'no hook steps without hooks');
});
