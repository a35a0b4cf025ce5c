// maskedPaths and readonlyPaths beyond /proc: directories and files anywhere, paths that do not
// exist (skipped, nothing created), and symlinks, followed inside the container's root as the
// container itself would follow them, never out to the host's tree.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, shell, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

let fixtures: string;

test.before(() => {
  fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-masked-'));
  fs.chmodSync(fixtures, 0o755);
  // Absolute: inside the container it leads to the container's /srv, on the host to the host's.
  fs.symlinkSync('/srv', path.join(fixtures, 'to-srv'));
  fs.symlinkSync('/etc/os-release', path.join(fixtures, 'to-os-release'));
});

test.after.always(() => {
  fs.rmSync(fixtures, { recursive: true, force: true });
});

const mounts = () => [
  { type: 'proc' },
  { type: 'dev' },
  { type: 'tmpfs', destination: '/srv', options: ['mode=1777'] },
  { type: 'bind', source: fixtures, destination: '/mnt', readonly: true },
];

test.serial('masks and read-only paths anywhere: a directory, a file, an absent path, symlinks resolved inside the root', async (t) => {
  const hostSrv = fs.readdirSync('/srv');
  const script = [
    'ls -A /etc/default | wc -l', 'wc -c < /etc/hostname', 'wc -c < /etc/os-release',
    'test -e /nonexistent && echo created || echo absent',
    'touch /srv/x 2>/dev/null && echo srv-writable || echo srv-readonly',
  ].join('; ');
  const { stdout, stderr } = await run({
    mounts: mounts(),
    maskedPaths: ['/etc/default', '/etc/hostname', '/nonexistent/deeper', '/mnt/to-os-release'],
    readonlyPaths: ['/nonexistent', '/mnt/to-srv'],
    process: { args: ['/bin/true'] },
  }, { args: shell(script) });
  t.is(stderr, '');
  t.deepEqual(stdout.trim().split('\n'), ['0', '0', '0', 'absent', 'srv-readonly']);
  t.deepEqual(fs.readdirSync('/srv'), hostSrv, 'something reached the host\'s /srv');
  t.true(fs.statSync('/etc/os-release').size > 0);
});

test.serial('a masked symlink to a directory masks the directory it leads to inside the root', async (t) => {
  const { stdout } = await run({
    mounts: mounts(), maskedPaths: ['/mnt/to-srv'], readonlyPaths: [], process: { args: ['/bin/true'] },
  }, { args: shell('touch /srv/x 2>&1; ls -A /srv | wc -l') });
  t.regex(stdout, /Read-only file system/);
  t.is(stdout.trim().split('\n').at(-1), '0');
});

test.serial('linux.devices: nodes with their type, numbers, mode and owner where mknod is allowed; the host\'s nodes bound in a user namespace', async (t) => {
  const devices = [
    { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 },
    { path: '/dev/extra/kmsg-like', type: 'c', major: 1, minor: 11, fileMode: 0o600, uid: 0, gid: 0 },
    { path: '/dev/fifo', type: 'p', fileMode: 0o620, uid: 3, gid: 4 },
  ];
  const script = 'for d in /dev/null /dev/extra/kmsg-like /dev/fifo; do stat -c "%n %F %t:%T %a %u:%g" $d; done; echo x > /dev/null && echo written';
  const hostNull = fs.statSync('/dev/null');
  const plain = await run({
    namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'], mounts: [{ type: 'proc' }, { type: 'dev' }], devices, process: { args: ['/bin/true'] },
  }, { args: shell(script) });
  t.deepEqual(plain.stdout.trim().split('\n'), [
    '/dev/null character special file 1:3 640 7:8', '/dev/extra/kmsg-like character special file 1:b 600 0:0',
    '/dev/fifo fifo 0:0 620 3:4', 'written',
  ]);
  // In a user namespace: /dev/null is the host's node, bound with its own mode, and the FIFO made anew.
  const userns = await run({ mounts: [{ type: 'proc' }, { type: 'dev' }], devices: devices.filter((d) => d.path !== '/dev/extra/kmsg-like'),
    process: { args: ['/bin/true'] } }, { args: shell('stat -c "%n %t:%T %a" /dev/null /dev/fifo') });
  t.deepEqual(userns.stdout.trim().split('\n'), [`/dev/null 1:3 ${(hostNull.mode & 0o7777).toString(8)}`, '/dev/fifo 0:0 620']);
  const after = fs.statSync('/dev/null');
  t.deepEqual([after.mode, after.rdev], [hostNull.mode, hostNull.rdev], 'the host\'s /dev/null changed');
});

test.serial('linux.devices outside the container\'s own /dev tmpfs is refused before anything is made: the host\'s /dev, a host directory bound below /dev', async (t) => {
  const hostPath = '/dev/nsrig-devices-land-probe';
  const hostDir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-devices-'));
  const hostNull = fs.statSync('/dev/null');
  const node = (p: string) => ({ path: p, type: 'c', major: 1, minor: 3, fileMode: 0o640, uid: 7, gid: 8 });
  try {
    // No dev mount: the container's /dev is the host root view's, i.e. the host's own.
    const noDev = await t.throwsAsync(run({
      namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'], mounts: [{ type: 'proc' }], devices: [node(hostPath)], process: { args: ['/bin/true'] },
    }));
    t.regex(noDev!.message, /not inside a dev mount/);
    t.false(fs.existsSync(hostPath), 'a node was made in the host\'s /dev');
    const bound = await t.throwsAsync(run({
      namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'],
      mounts: [{ type: 'proc' }, { type: 'dev' }, { type: 'bind', source: hostDir, destination: '/dev/extra' }],
      devices: [node('/dev/extra/sub/x')], process: { args: ['/bin/true'] },
    }));
    t.regex(bound!.message, /not inside a dev mount/);
    t.deepEqual(fs.readdirSync(hostDir), [], 'something was made in the host directory bound below /dev');
    const after = fs.statSync('/dev/null');
    t.deepEqual([after.ino, after.mode, after.rdev, after.uid, after.gid], [hostNull.ino, hostNull.mode, hostNull.rdev, hostNull.uid, hostNull.gid]);
  } finally {
    fs.rmSync(hostPath, { force: true });
    fs.rmSync(hostDir, { recursive: true, force: true });
  }
});
