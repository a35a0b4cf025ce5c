// Mounts as the contained program sees them (mountinfo, errnos of real writes) and as the host
// sees them: proc, sysfs, mqueue, tmpfs size and mode, read-only and read-write binds, a /dev
// with a subset of devices, masked paths, read-only paths, EROFS on the read-only root, a rootfs
// directory of our own, and nothing of it on the host's mount table.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MountEntry } from '../../harness/probe/protocol.js';
import { DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from '../../policy/profile/types.js';
import { run, runProbe, shell, assertNoLeftovers } from './container-run.js';
import { baselineMounts, suspectHostMounts } from '../../harness/host-leftovers.js';

test.afterEach.always(assertNoLeftovers);

/** uid 0 of the default mapping, which owns what the container writes. */
const CONTAINER_ROOT_ON_HOST = 100000;
let fixtures: string;
let roDir: string;
let rwDir: string;

test.before(() => {
  fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-mounts-'));
  // The container's root is host uid 100000: it must be able to reach the bind sources.
  fs.chmodSync(fixtures, 0o755);
  roDir = path.join(fixtures, 'ro');
  rwDir = path.join(fixtures, 'rw');
  fs.mkdirSync(roDir);
  fs.mkdirSync(rwDir);
  fs.writeFileSync(path.join(roDir, 'hello'), 'hello');
  fs.chownSync(rwDir, CONTAINER_ROOT_ON_HOST, CONTAINER_ROOT_ON_HOST);
});

test.after.always(() => {
  fs.rmSync(fixtures, { recursive: true, force: true });
});

/** The topmost mount at a mount point (mountinfo lists stacked mounts in mount order). */
/** The visible mount at a mount point: the one no other mount at the same point is stacked on. */
function top(mounts: MountEntry[], mountPoint: string): MountEntry | undefined {
  const here = mounts.filter((m) => m.mountPoint === mountPoint);
  return here.find((m) => !here.some((other) => other.parent === m.id));
}

/**
 * With CAP_NET_ADMIN the container's root may open its network namespace's sysctls for writing,
 * so a refusal can only come from the read-only mount (EROFS), not from permissions (EACCES).
 */
const WITH_NET_ADMIN = [...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN'];
const NET_SYSCTL = '/proc/sys/net/ipv4/ip_forward';

/** A file masked by /dev/null bound on it, or a directory by an empty read-only tmpfs. */
function isMask(mount: MountEntry | undefined): boolean {
  if (!mount) return false;
  return mount.root === '/null' || (mount.fsType === 'tmpfs' && mount.options.includes('ro') && mount.superOptions.includes('mode=000'));
}

function manyMounts() {
  return {
    mounts: [
      { type: 'proc' },
      { type: 'dev', devices: ['null', 'zero', 'urandom'] },
      { type: 'tmpfs', destination: '/dev/shm', size: '1m', mode: '1777' },
      { type: 'mqueue' },
      { type: 'tmpfs', destination: '/tmp', size: '2m', mode: '0750' },
      { type: 'sysfs' },
      { type: 'bind', source: roDir, destination: '/mnt', readonly: true },
      { type: 'bind', source: rwDir, destination: '/srv', readonly: false },
      { type: 'tmpfs', destination: '/media', readonly: true },
    ],
    maskedPaths: ['/proc/keys', '/sys/firmware', '/etc/hostname'],
    readonlyPaths: ['/proc/sys', '/dev/shm'],
    process: { args: ['/bin/true'], capabilities: WITH_NET_ADMIN },
  };
}

test.serial('every mount type, seen inside through mountinfo and real writes', async (t) => {
  const { observations: o, outside } = await runProbe(manyMounts(), {
    writeInto: ['/', '/etc', '/tmp', '/mnt', '/srv', '/media', '/dev/shm', '/sys', '/dev/mqueue'],
    writeFile: [NET_SYSCTL, '/dev/null'],
    read: ['/proc/keys', '/sys/firmware', '/etc/hostname', '/mnt/hello'],
  }, (c) => ({ mountinfo: fs.readFileSync(`/proc/${c.pid}/mountinfo`, 'utf8'), hostMounts: suspectHostMounts() }));
  const m = o.mounts;
  const opts = (point: string) => top(m, point)?.options ?? [];
  const superOpts = (point: string) => top(m, point)?.superOptions ?? [];

  t.is(top(m, '/proc')?.fsType, 'proc');
  for (const flag of ['nosuid', 'nodev', 'noexec']) t.true(opts('/proc').includes(flag), `/proc ${flag}`);
  t.is(top(m, '/sys')?.fsType, 'sysfs');
  t.true(opts('/sys').includes('ro'));
  t.is(top(m, '/dev/mqueue')?.fsType, 'mqueue');
  t.is(top(m, '/dev')?.fsType, 'tmpfs');
  t.true(opts('/dev').includes('noexec') && opts('/dev').includes('nosuid'));

  t.is(top(m, '/tmp')?.fsType, 'tmpfs');
  t.true(superOpts('/tmp').includes('size=2048k'), superOpts('/tmp').join(','));
  t.true(superOpts('/tmp').includes('mode=750'), superOpts('/tmp').join(','));
  // The container's /dev/shm is two mounts: the tmpfs, and the read-only bind of it that
  // readonlyPaths put on top. (The host's own /dev/shm lies further down, under the new /dev.)
  const [shm, shmReadonly] = m.filter((e) => e.mountPoint === '/dev/shm').slice(-2);
  t.true(shm!.superOptions.includes('size=1024k') && shm!.options.includes('rw'), shm!.superOptions.join(','));
  t.is(shmReadonly!.parent, shm!.id);
  t.true(shmReadonly!.options.includes('ro'));
  t.true(opts('/media').includes('ro'));

  t.is(top(m, '/mnt')?.root, roDir);
  t.true(opts('/mnt').includes('ro'));
  t.is(top(m, '/srv')?.root, rwDir);
  t.true(opts('/srv').includes('rw'));
  t.true(opts('/').includes('ro'), 'the host root is mounted read-only');

  const writes = Object.fromEntries(o.writeInto.map((w) => [w.path, w.code]));
  t.deepEqual(writes, {
    '/': 'EROFS', '/etc': 'EROFS', '/tmp': null, '/mnt': 'EROFS', '/srv': null, '/media': 'EROFS', '/dev/shm': 'EROFS', '/sys': 'EROFS',
    '/dev/mqueue': null,
  });
  const fileWrites = Object.fromEntries(o.writeFile.map((w) => [w.path, w.code]));
  t.deepEqual(fileWrites, { [NET_SYSCTL]: 'EROFS', '/dev/null': null });

  const reads = Object.fromEntries(o.read.map((r) => [r.path, [r.code, r.bytes]]));
  t.deepEqual(reads, { '/proc/keys': [null, 0], '/sys/firmware': [null, 0], '/etc/hostname': [null, 0], '/mnt/hello': [null, 5] });
  // Reading nothing could also be an empty file: each masked path must be covered by a mask.
  for (const p of ['/proc/keys', '/sys/firmware', '/etc/hostname']) t.true(isMask(top(m, p)), `${p} has no mask mounted on it`);
  t.deepEqual(o.devices.sort(), ['null:c', 'urandom:c', 'zero:c']);

  // From the host: the container's mount table is the one it reported, and the host's is untouched.
  t.deepEqual(outside.mountinfo.trim().split('\n').length, m.length);
  t.deepEqual(outside.hostMounts.filter((l) => !baselineMounts.has(l)), [], 'a container mount propagated to the host');
});

test.serial('tmpfs size and mode are enforced, and a read-write bind writes through to the host', async (t) => {
  const script = [
    'stat -c %a /tmp /dev/shm',
    'head -c 3000000 /dev/zero > /tmp/fill 2>/dev/null; echo "fill=$?"',
    'stat -c %s /tmp/fill',
    'echo written-inside > /srv/from-inside',
  ].join('; ');
  const { stdout, exit } = await run(manyMounts(), { args: shell(script) });
  t.is(exit.code, 0);
  const [tmpMode, shmMode, fill, size] = stdout.trim().split('\n');
  t.is(tmpMode, '750');
  t.is(shmMode, '1777');
  t.not(fill, 'fill=0', 'writing 3 MB into a 2 MB tmpfs succeeded');
  t.is(Number(size), 2 * 1024 * 1024);
  const written = path.join(rwDir, 'from-inside');
  t.is(fs.readFileSync(written, 'utf8'), 'written-inside\n');
  t.is(fs.statSync(written).uid, CONTAINER_ROOT_ON_HOST);
  fs.rmSync(written);
});

test.serial('the default profile: its mounts, masked paths and read-only paths', async (t) => {
  const { observations: o } = await runProbe({ process: { args: ['/bin/true'] } }, {
    writeInto: ['/', '/usr', '/tmp', '/dev/shm', '/sys'],
    read: DEFAULT_MASKED_PATHS.filter((p) => fs.existsSync(p)),
  });
  const points = o.mounts.map((e) => e.mountPoint);
  for (const p of ['/proc', '/dev', '/dev/shm', '/dev/mqueue', '/tmp', '/sys']) t.true(points.includes(p), p);
  t.deepEqual(o.devices.sort(), ['full:c', 'null:c', 'random:c', 'tty:c', 'urandom:c', 'zero:c']);
  t.deepEqual(Object.fromEntries(o.writeInto.map((w) => [w.path, w.code])), { '/': 'EROFS', '/usr': 'EROFS', '/tmp': null, '/dev/shm': null, '/sys': 'EROFS' });
  t.true(o.read.length >= 3, 'too few of the default masked paths exist on this host to test');
  for (const r of o.read) t.deepEqual([r.code, r.bytes], [null, 0], `${r.path} is not masked`);
  for (const r of o.read) t.true(isMask(top(o.mounts, r.path)), `${r.path} has no mask mounted on it`);
  // Each default read-only path this kernel has is a read-only mount of its own.
  for (const p of DEFAULT_READONLY_PATHS.filter((p) => fs.existsSync(p))) t.true(top(o.mounts, p)?.options.includes('ro'), p);
});

test.serial('the read-only path is what refuses the write: without it the same open succeeds', async (t) => {
  const { observations: o } = await runProbe({ readonlyPaths: [], process: { args: ['/bin/true'], capabilities: WITH_NET_ADMIN } }, {
    writeFile: [NET_SYSCTL],
  });
  t.is(o.writeFile[0]!.code, null);
});

test.serial('the host root with readonly: false: its own top level is writable, the host\'s directories never are', async (t) => {
  const { observations: o } = await runProbe({ rootfs: { path: '/', readonly: false }, process: { args: ['/bin/true'] } }, {
    writeInto: ['/', '/usr', '/etc', '/var', '/work'].filter((p) => p === '/' || fs.existsSync(p)),
  });
  const writes = Object.fromEntries(o.writeInto.map((w) => [w.path, w.code]));
  t.is(writes['/'], null);
  for (const [p, code] of Object.entries(writes)) if (p !== '/') t.is(code, 'EROFS', p);
});

test.serial('a rootfs directory: writable when readonly is false (seen on the host), EROFS when true', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-rootfs-'));
  try {
    for (const dir of ['usr', 'proc', 'dev', 'tmp']) fs.mkdirSync(path.join(root, dir));
    for (const [link, to] of [['bin', 'usr/bin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64'], ['sbin', 'usr/sbin']]) fs.symlinkSync(to!, path.join(root, link!));
    fs.chownSync(root, CONTAINER_ROOT_ON_HOST, CONTAINER_ROOT_ON_HOST);
    const doc = (readonly: boolean) => ({
      rootfs: { path: root, readonly },
      mounts: [{ type: 'bind', source: '/usr', destination: '/usr' }, { type: 'proc' }, { type: 'dev' }, { type: 'tmpfs', destination: '/tmp' }],
      maskedPaths: [], readonlyPaths: [],
      process: { args: ['/bin/true'] },
    });
    const writable = await run(doc(false), { args: shell('echo from-container > /written && ls /') });
    t.is(writable.exit.code, 0, writable.stderr);
    // The test's containers bind the probe's rig at /run/nsrig-rig, which adds a mount point 'run' to this rootfs.
    const expected = new Set(['bin', 'dev', 'lib', 'lib64', 'proc', 'run', 'sbin', 'tmp', 'usr', 'written']);
    t.deepEqual(writable.stdout.trim().split('\n').sort(), [...expected].sort());
    t.is(fs.readFileSync(path.join(root, 'written'), 'utf8'), 'from-container\n');
    fs.rmSync(path.join(root, 'written'));
    const readonly = await run(doc(true), { args: shell('echo x > /written') });
    t.not(readonly.exit.code, 0);
    t.regex(readonly.stderr, /Read-only file system/);
    t.false(fs.existsSync(path.join(root, 'written')));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

// A recursive clone of the host's whole root would bring the host's own /proc, /sys and /dev
// along under the container's, and a container root holding CAP_SYS_ADMIN may unmount its own
// mounts. The host root view (build-host-root-view) leaves those entries as empty directories.
test.serial('unmounting its own /proc, /sys or /dev uncovers nothing of the host\'s', async (t) => {
  // /proc last: umount(8) finds mounts through /proc/self/mountinfo.
  const script = [
    'umount -l /sys && ls /sys | wc -l',
    'umount -l /dev && ls /dev | wc -l',
    'umount -l /proc && ls /proc | grep -c "^[0-9]"',
  ].join('; ');
  const { stdout, stderr } = await run({ process: { args: ['/bin/true'], capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN'] } }, {
    args: shell(script),
  });
  const [sysEntries, devEntries, procPids] = stdout.trim().split('\n').map(Number);
  t.is(stderr, '');
  t.is(procPids, 0, 'the host\'s /proc (its processes) lies under the container\'s');
  t.is(sysEntries, 0, 'the host\'s /sys lies under the container\'s');
  t.is(devEntries, 0, 'the host\'s /dev lies under the container\'s');
});

// CVE-2019-19921 class: a rootfs whose mount destination is a symlink pointing out of it. Before
// pivot_root such a link resolves in the engine's own tree, so following it would create or
// mount outside the rootfs: the launch is refused, naming the field and the symlink.
test.serial('a mount destination that is a rootfs symlink pointing out of the rootfs is refused, naming it, and nothing is made outside', async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-hostile-rootfs-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-hostile-victim-'));
  try {
    for (const dir of ['usr', 'tmp', 'srv']) fs.mkdirSync(path.join(root, dir));
    fs.chownSync(root, CONTAINER_ROOT_ON_HOST, CONTAINER_ROOT_ON_HOST);
    const cases: [string, string, number][] = [
      ['proc', path.join(outside, 'proc'), 1],
      ['dev', path.join(outside, 'dev'), 2],
      ['mnt', `../../../../../../..${path.join(outside, 'mnt')}`, 3],
    ];
    for (const [name, target, index] of cases) {
      const link = path.join(root, name);
      fs.symlinkSync(target, link);
      const before = suspectHostMounts();
      const error = await t.throwsAsync(run({
        rootfs: { path: root, readonly: false },
        mounts: [{ type: 'bind', source: '/usr', destination: '/usr' }, { type: 'proc' }, { type: 'dev' }, { type: 'tmpfs', destination: '/mnt' }],
        maskedPaths: [], readonlyPaths: [],
        process: { args: ['/bin/true'] },
      }));
      t.true(error!.message.includes(`mounts[${index}].destination /${name}: /${name} in the rootfs is a symlink to ${target}, which leads out of the rootfs`), error!.message);
      t.deepEqual(fs.readdirSync(outside), [], `nothing created through /${name}`);
      t.deepEqual(suspectHostMounts().filter((l) => !baselineMounts.has(l) && !before.includes(l)), []);
      fs.rmSync(link);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});
