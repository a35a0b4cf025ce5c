// The process fields config.json files carry, seen from inside the container and from the host:
// umask, HOME from the container's /etc/passwd, oom_score_adj, the execution domain, sysctls
// written in the container's own namespaces (the host's values untouched), and a network
// namespace joined by path.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchContainer, LaunchError } from '../../core/container.js';
import { profileOf, run, shell, HOLD, heldReady, assertNoLeftovers, SOURCE } from './container-run.js';
import { parseProfile } from '../../policy/profile/load.js';
import { buildTinyRootfs, tinyRootfsProblem } from '../fixtures/oci-configs/tiny-rootfs.js';

test.afterEach.always(assertNoLeftovers);

const statusField = (text: string, name: string): string | undefined =>
  text.split('\n').find((l) => l.startsWith(`${name}:`))?.slice(name.length + 1).trim();

test.serial('umask: the program starts with the profile\'s mask', async (t) => {
  const { stdout } = await run({ process: { args: ['/bin/true'], umask: '027' } }, { args: shell('umask; cat /proc/self/status') });
  t.is(stdout.split('\n')[0], '0027');
  t.is(statusField(stdout, 'Umask'), '0027');
});

test.serial('oomScoreAdj: written for the container\'s process, read back inside and from the host', async (t) => {
  const { stdout, outside } = await run({ process: { args: ['/bin/true'], oomScoreAdj: 537 } }, {
    args: shell(`cat /proc/self/oom_score_adj; ${HOLD}`), ready: heldReady,
    outside: (c) => fs.readFileSync(`/proc/${c.pid}/oom_score_adj`, 'utf8').trim(),
  });
  t.is(stdout.split('\n')[0], '537');
  t.is(outside, '537');
});

test.serial('personality linux32: uname reports a 32-bit machine inside, the host\'s own is unchanged', async (t) => {
  if (os.machine() !== 'x86_64') return t.pass(`the linux32 domain is checked on x86_64; this host is ${os.machine()}`);
  const { stdout, outside } = await run({ process: { args: ['/bin/true'], personality: 'linux32' } }, {
    args: shell(`cat /proc/self/personality; uname -m; ${HOLD}`), ready: heldReady,
    outside: (c) => fs.readFileSync(`/proc/${c.pid}/personality`, 'utf8').trim(),
  });
  t.deepEqual(stdout.split('\n').slice(0, 2), ['00000008', 'i686']);
  t.is(outside, '00000008');
  t.is(fs.readFileSync('/proc/self/personality', 'utf8').trim(), '00000000');
});

test.serial('HOME comes from the container\'s /etc/passwd when the env has none, "/" for a uid it does not list', async (t) => {
  const problem = tinyRootfsProblem();
  if (problem !== undefined) return t.pass(`skipped: cannot build a rootfs here: ${problem}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-home-'));
  // mkdtemp makes it 0700; a rootfs is the container's / and must be searchable by any uid.
  fs.chmodSync(dir, 0o755);
  try {
    buildTinyRootfs(dir, 'root:x:0:0:root:/root:/bin/sh\nu:x:1234:1234:u:/home/nsrig-u:/bin/sh\n');
    const doc = (uid: number, env?: Record<string, string>) => ({
      namespaces: ['pid', 'mnt', 'ipc', 'uts', 'net'], rootfs: { path: dir, readonly: false },
      mounts: [{ type: 'proc', destination: '/proc' }], maskedPaths: [], readonlyPaths: [],
      process: { args: ['/bin/sh', '-c', 'echo "HOME=$HOME"'], user: { uid, gid: uid }, ...(env ? { env } : {}) },
    });
    t.is((await run(doc(1234))).stdout, 'HOME=/home/nsrig-u\n');
    t.is((await run(doc(0))).stdout, 'HOME=/root\n');
    t.is((await run(doc(4321))).stdout, 'HOME=/\n');
    t.is((await run(doc(1234, { HOME: '/elsewhere' }))).stdout, 'HOME=/elsewhere\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const HOST_SYSCTLS = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4/tcp_keepalive_time', '/proc/sys/kernel/shmmni',
  '/proc/sys/fs/mqueue/msg_max', '/proc/sys/kernel/domainname'];

test.serial('sysctls are written in the container\'s namespaces: read back inside, the host\'s values unchanged', async (t) => {
  const hostBefore = HOST_SYSCTLS.map((f) => fs.readFileSync(f, 'utf8'));
  const flipped = hostBefore[0]!.trim() === '1' ? '0' : '1';
  const sysctl = {
    'net.ipv4.ip_forward': flipped, 'net.ipv4.tcp_keepalive_time': '4321', 'kernel.shmmni': '2345', 'fs.mqueue.msg_max': '17',
    'kernel.domainname': 'nsrig-sysctl.invalid',
  };
  // No user namespace, as runc spec's default: the IPC and UTS sysctl files belong to the host's root
  // (only net's follow the namespace's owner), so a user namespace's root could not write them.
  const { stdout, exit } = await run({ namespaces: ['pid', 'net', 'ipc', 'uts', 'mnt'], sysctl, process: { args: ['/bin/true'] } },
    { args: shell(HOST_SYSCTLS.map((f) => `cat ${f}`).join('; ')) });
  t.is(exit.code, 0);
  t.deepEqual(stdout.trim().split('\n'), [flipped, '4321', '2345', '17', 'nsrig-sysctl.invalid']);
  t.deepEqual(HOST_SYSCTLS.map((f) => fs.readFileSync(f, 'utf8')), hostBefore);
});

test.serial('a sysctl of a namespace the container shares with the host is refused before anything is made, the host\'s value unchanged', async (t) => {
  // The loader refuses such a profile; one built in code reaches the engine, which must refuse it too.
  const valid = profileOf({ namespaces: ['pid', 'net', 'ipc', 'mnt'], sysctl: { 'net.ipv4.tcp_keepalive_time': '4321', 'kernel.shmmni': '2345' }, process: { args: ['/bin/true'] } });
  const before = ['net/ipv4/tcp_keepalive_time', 'kernel/shmmni'].map((f) => fs.readFileSync(`/proc/sys/${f}`, 'utf8'));
  for (const shared of ['net', 'ipc'] as const) {
    const profile = { ...valid, namespaces: valid.namespaces.filter((ns) => ns !== shared) };
    const e = await t.throwsAsync(launchContainer(profile, { stdio: 'pipe' }), { instanceOf: LaunchError });
    t.is(e?.step, 'sysctl');
    t.regex(e?.message ?? '', new RegExp(`${shared === 'net' ? 'net\\.ipv4\\.tcp_keepalive_time' : 'kernel\\.shmmni'} belongs to the ${shared} namespace`));
  }
  // Joined, but nsrig's own network namespace: the host's too (runc's rule).
  const joinedOwn = { ...valid, namespacePaths: { net: '/proc/self/ns/net' } };
  const e = await t.throwsAsync(launchContainer(joinedOwn, { stdio: 'pipe' }), { instanceOf: LaunchError });
  t.is(e?.step, 'sysctl');
  t.regex(e?.message ?? '', /net\.ipv4\.tcp_keepalive_time: namespacePaths\.net \(\/proc\/self\/ns\/net\) is nsrig's own network namespace/);
  t.deepEqual(['net/ipv4/tcp_keepalive_time', 'kernel/shmmni'].map((f) => fs.readFileSync(`/proc/sys/${f}`, 'utf8')), before);
});

/** A network namespace of the test's own, made and always removed with ip-netns(8). */
function withNetns(name: string): { path: string; remove: () => void } | string {
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'pipe' });
  } catch (e) {
    return `ip netns add failed: ${(e as Error).message}`;
  }
  return { path: `/run/netns/${name}`, remove: () => execFileSync('ip', ['netns', 'delete', name], { stdio: 'pipe' }) };
}

test.serial('namespacePaths.net joins an existing network namespace: the same inode inside, its interfaces left alone', async (t) => {
  const netns = withNetns(`nsrig-fixture-${process.pid}-join`);
  if (typeof netns === 'string') return t.pass(`skipped: ${netns}`);
  try {
    const inode = fs.statSync(netns.path).ino;
    const doc = {
      namespaces: ['pid', 'net', 'mnt', 'uts', 'ipc'], namespacePaths: { net: netns.path }, sysctl: { 'net.ipv4.tcp_keepalive_time': '3210' },
      process: { args: ['/bin/true'] },
    };
    const { stdout } = await run(doc, { args: shell('readlink /proc/self/ns/net; cat /proc/sys/net/ipv4/tcp_keepalive_time; cat /sys/class/net/lo/operstate') });
    t.deepEqual(stdout.trim().split('\n'), [`net:[${inode}]`, '3210', 'down']);
    // The sysctl stayed in the joined namespace, where the host can read it back.
    t.is(execFileSync('ip', ['netns', 'exec', path.basename(netns.path), 'cat', '/proc/sys/net/ipv4/tcp_keepalive_time'], { encoding: 'utf8' }).trim(), '3210');
  } finally {
    netns.remove();
  }
});

test.serial('a namespace path that is no namespace, or one of another type, is refused at load, and again at launch, before anything is created', async (t) => {
  t.throws(() => profileOf({ namespaces: ['pid', 'net', 'mnt'], namespacePaths: { net: '/proc/self/ns/ipc' }, process: { args: ['/bin/true'] } }),
    { message: /namespacePaths\.net: expected a net namespace file .*got \/proc\/self\/ns\/ipc, a namespace of type ipc/ });
  // A profile loaded without the host check (as the harness loads generated ones) meets the launch's own NS_GET_NSTYPE check.
  const unchecked = (paths: Record<string, string>) => parseProfile({ namespaces: ['pid', 'net', 'mnt'], namespacePaths: paths, process: { args: ['/bin/true'] } },
    SOURCE, { checkPaths: false });
  const wrongType = await t.throwsAsync(launchContainer(unchecked({ net: '/proc/self/ns/ipc' }), { stdio: 'pipe' }), { instanceOf: LaunchError });
  t.regex(wrongType.message, /namespacePaths\.net: \/proc\/self\/ns\/ipc is a namespace of another type, not net/);
  const plainFile = await t.throwsAsync(launchContainer(unchecked({ net: '/etc/passwd' }), { stdio: 'pipe' }), { instanceOf: LaunchError });
  t.regex(plainFile.message, /namespacePaths\.net: \/etc\/passwd is not a namespace file/);
  assertNoLeftovers(t);
});

test.serial('with a user namespace, net sysctls are written by the namespace\'s own root', async (t) => {
  const { stdout } = await run({ namespaces: ['user', 'pid', 'net', 'mnt'], sysctl: { 'net.ipv4.tcp_keepalive_time': '2109' }, process: { args: ['/bin/true'] } },
    { args: shell('cat /proc/sys/net/ipv4/tcp_keepalive_time') });
  t.is(stdout, '2109\n');
});

test('a seccomp name no architecture of the policy knows is skipped with one warning line, not silently', async (t) => {
  const { compileProfilePolicy } = await import('../../core/seccomp-program.js');
  const policy = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
    syscalls: [{ names: ['no_such_call', 'mmap2', 'getpid'], action: 'SCMP_ACT_ERRNO' }] };
  const warnings: string[] = [];
  const program = compileProfilePolicy(profileOf({ seccomp: policy, process: { args: ['/bin/true'] } }), (m) => warnings.push(m));
  t.truthy(program);
  // mmap2 exists on i386, which the policy covers: only the name no table holds is reported.
  t.deepEqual(warnings, ['core-test.yaml: seccomp: 1 system call names that no architecture of the policy knows are skipped: no_such_call']);
});
