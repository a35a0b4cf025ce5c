// The host guard catches what it is there for. Every change is made where it cannot reach the
// host: the guard's snapshot is taken inside a private mount or UTS namespace that has a mount
// named nsrig, a /dev/null node of our own chowned to 300000, or another hostname.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { takeHostSnapshot, type HostSnapshot } from './host-snapshot.js';
import { diffSnapshots, ownerNamed } from './snapshot-diff.js';

const GUARD = fileURLToPath(new URL('./host-guard.js', import.meta.url));
const checkout = fs.realpathSync(fileURLToPath(new URL('../../..', import.meta.url)));
const lives = (pid: number) => fs.existsSync(`/proc/${pid}`);
const hasUnshare = spawnSync('sh', ['-c', 'command -v unshare && command -v mknod']).status === 0;
const maybe = hasUnshare ? test : test.skip;
if (!hasUnshare) console.log('host-guard: namespace tests skipped, unshare(1) or mknod(1) not found');

/** The guard's snapshot as a shell script's last step sees it, inside the namespaces unshare makes. */
function snapshotInside(unshareArgs: string[], script: string): HostSnapshot {
  const run = spawnSync('unshare', [...unshareArgs, 'sh', '-c', `${script} && exec "$0" "$1" print`, process.execPath, GUARD],
    { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`unshare ${unshareArgs.join(' ')}: exit ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as HostSnapshot;
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'host-guard-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a snapshot compared with itself shows no change', (t) => {
  const snapshot = takeHostSnapshot(checkout);
  t.deepEqual(diffSnapshots(snapshot, snapshot, lives).changes, []);
  t.regex(snapshot.values['/dev/null']!, /^\d+:\d+ mode [0-7]+ char 1:3$/);
  t.is(snapshot.values['sysctl kernel.hostname'], os.hostname());
});

maybe('a /dev/null chowned to 300000 is named, before and after (in a private mount namespace)', (t) => {
  const dir = tempDir(t);
  const node = path.join(dir, 'null');
  const before = takeHostSnapshot(checkout);
  const after = snapshotInside(['--mount', '--propagation', 'private'],
    `mknod -m 666 "${node}" c 1 3 && chown 300000:300000 "${node}" && mount --bind "${node}" /dev/null`);
  const diff = diffSnapshots(before, after, lives);
  t.true(diff.changes.includes(`/dev/null: ${before.values['/dev/null']} → 300000:300000 mode 666 char 1:3`), diff.changes.join('\n'));
  t.is(fs.statSync(node).uid, 300000);
  t.is(fs.statSync('/dev/null').uid, Number(before.values['/dev/null']!.split(':')[0]), 'the host\'s /dev/null was touched');
});

maybe('a tmpfs named nsrig mounted below /tmp is named as a mount that appeared', (t) => {
  const dir = tempDir(t);
  const before = takeHostSnapshot(checkout);
  const after = snapshotInside(['--mount', '--propagation', 'private'], `mount -t tmpfs nsrig-guard-test "${dir}"`);
  const diff = diffSnapshots(before, after, lives);
  t.true(diff.changes.includes(`mount appeared: ${dir} (tmpfs from nsrig-guard-test)`), diff.changes.join('\n'));
});

maybe('another hostname is named (in a UTS namespace of its own)', (t) => {
  const before = takeHostSnapshot(checkout);
  const after = snapshotInside(['--uts'], 'hostname guard-test-name');
  const diff = diffSnapshots(before, after, lives);
  t.true(diff.changes.includes(`sysctl kernel.hostname: ${os.hostname()} → guard-test-name`), diff.changes.join('\n'));
  t.is(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), before.values['sysctl kernel.hostname']);
});

test('a namespace holder whose owner is gone is a leftover; one whose owner lives is that run\'s', async (t) => {
  const gone = spawnSync('true').pid!;
  const before = takeHostSnapshot(checkout);
  const orphan = spawn('sleep', ['60'], { env: { PATH: '/usr/bin:/bin', NSRIG_NS_HOLDER_OF: String(gone) }, stdio: 'ignore' });
  const owned = spawn('sleep', ['60'], { env: { PATH: '/usr/bin:/bin', NSRIG_NS_HOLDER_OF: String(process.pid) }, stdio: 'ignore' });
  t.teardown(() => {
    orphan.kill('SIGKILL');
    owned.kill('SIGKILL');
  });
  // Until both have exec'd sleep: before that, their environment is still this process's.
  const execd = (pid: number | undefined) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep');
  for (let i = 0; i < 200 && !(execd(orphan.pid) && execd(owned.pid)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const diff = diffSnapshots(before, takeHostSnapshot(checkout), lives);
  t.true(diff.changes.includes(`process appeared: pid ${orphan.pid} (sleep 60), a namespace holder of ${gone}`), diff.changes.join('\n'));
  t.true(diff.othersLive.includes(`process: pid ${owned.pid} (sleep 60), a namespace holder of ${process.pid}`), diff.othersLive.join('\n'));
});

test('the guard run as make test runs it: compare names the change and prints the line .ci/run counts', (t) => {
  const dir = tempDir(t);
  const saved = path.join(dir, 'before.json');
  t.is(spawnSync(process.execPath, [GUARD, 'save', saved]).status, 0);
  const snapshot = JSON.parse(fs.readFileSync(saved, 'utf8')) as HostSnapshot;
  // As if /dev/zero had been another owner's before the run: compare finds it changed since.
  snapshot.values['/dev/zero'] = '300000:300000 mode 666 char 1:5';
  fs.writeFileSync(saved, JSON.stringify(snapshot));
  const run = spawnSync(process.execPath, [GUARD, 'compare', saved], { encoding: 'utf8', timeout: 60_000 });
  t.is(run.status, 1, run.stdout);
  t.regex(run.stdout, /^not ok - host guard: the run changed the host/m);
  t.regex(run.stdout, /^ {2}\/dev\/zero: 300000:300000 mode 666 char 1:5 → \d+:\d+ mode 666 char 1:5$/m);
  t.regex(run.stdout, /^# host-guard fail 1$/m);
});

test('a process still running this checkout\'s code is named; one running only its node_modules is not', async (t) => {
  const before = takeHostSnapshot(checkout);
  const start = (file: string) => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', file], { stdio: 'ignore' });
  const ours = start(path.join(checkout, 'dist', 'harness', 'check.js'));
  const modules = start(path.join(checkout, 'node_modules', 'ava', 'lib', 'worker', 'base.js'));
  t.teardown(() => {
    ours.kill('SIGKILL');
    modules.kill('SIGKILL');
  });
  const started = (pid: number | undefined) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('setInterval');
  for (let i = 0; i < 200 && !(started(ours.pid) && started(modules.pid)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  const changes = diffSnapshots(before, takeHostSnapshot(checkout), lives).changes;
  t.true(changes.some((c) => c.startsWith(`process appeared: pid ${ours.pid} `) && c.endsWith('running this checkout\'s code')), changes.join('\n'));
  t.false(changes.some((c) => c.startsWith(`process appeared: pid ${modules.pid} `)), changes.join('\n'));
});

test('the owner a thing\'s name gives: nsrig-PID-hex, nsrig-KIND-PID(-…), a holder of PID; none in other names', (t) => {
  t.is(ownerNamed('/sys/fs/cgroup/pids/nsrig/nsrig-1964-c8a7d770'), 1964);
  t.is(ownerNamed('/sys/fs/cgroup/unified/nsrig-oci-31404-19-d3f33a'), 31404);
  t.is(ownerNamed('/sys/fs/cgroup/unified/nsrig-sigkill-test-15373'), 15373);
  t.is(ownerNamed('pid 9 (sleep 86400), a namespace holder of 31933'), 31933);
  t.is(ownerNamed('/sys/fs/cgroup/pids/nsrig'), undefined);
  t.is(ownerNamed('/tmp/nsrig-ci-checkout-aB3dE9/x (tmpfs from tmpfs)'), undefined);
  t.is(ownerNamed('/tmp/nsrig-ci-checkout-123abc/x (tmpfs from tmpfs)'), undefined);
});
