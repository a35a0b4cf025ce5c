// The one reader of /proc/PID/cgroup, against the kernel's own files: every hierarchy this host
// mounts (v1 controllers, named ones, cgroup2) is found and names a directory that holds the
// process; a cgroup whose name holds a colon; a process in a cgroup namespace of its own.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { CgroupFileError, cgroupDirsOf, distinctV1Hierarchies, parseProcCgroup, readCgroupLayout, readProcessCgroups } from '../../core/cgroup-layout.js';

const layout = readCgroupLayout();

const procsOf = (dir: string) => fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);

test('each mounted hierarchy has its line in /proc/self/cgroup, and the directory it names holds this process', (t) => {
  const own = readProcessCgroups();
  const dirs = cgroupDirsOf(own, layout);
  const expected = (layout.unifiedMount !== undefined ? 1 : 0)
    + distinctV1Hierarchies(layout).length;
  t.is(dirs.length, expected, `this host's hierarchies: ${JSON.stringify(layout.v1Hierarchies)}, cgroup2 at ${layout.unifiedMount}`);
  for (const d of dirs) t.true(procsOf(d.dir).includes(process.pid), `${d.dir} holds ${process.pid}`);
  if (layout.unifiedMount !== undefined) t.is(dirs[0]!.hierarchy, 'unified');
  for (const h of layout.v1Hierarchies) {
    for (const controller of h.controllers) t.is(own.ofController(controller), own.ofHierarchy(h), controller);
  }
  // The v2 line is told apart from v1 lines by its empty list, also from a named hierarchy's.
  t.is(own.v1.length + (own.unified !== undefined ? 1 : 0), own.memberships.length);
  t.true(own.v1.every((m) => m.hierarchyId > 0));
});

const named = layout.v1Hierarchies.find((h) => h.name !== undefined);
(named === undefined ? test.skip : test)(`a named v1 hierarchy (${named === undefined ? 'skipped: this host mounts none' : `name=${named.name}`}) is read as a name, not as a controller`, (t) => {
  const own = readProcessCgroups();
  const line = own.memberships.find((m) => m.name === named!.name)!;
  t.deepEqual(line.controllers, []);
  t.is(own.ofController(`name=${named!.name}`), undefined);
  t.true(procsOf(path.join(named!.mountPoint, own.ofHierarchy(named!)!)).includes(process.pid));
});

(layout.unifiedMount === undefined ? test.skip : test.serial)(`a cgroup whose name holds colons is read whole${layout.unifiedMount === undefined ? ' (skipped: no cgroup2 mount)' : ''}`, async (t) => {
  const dir = path.join(layout.unifiedMount!, `nsrig-test-${process.pid}-a:b::c`);
  fs.mkdirSync(dir);
  const sleeper = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
  try {
    await once(sleeper, 'spawn');
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(sleeper.pid));
    t.is(readProcessCgroups(sleeper.pid!).unified, `/${path.basename(dir)}`);
  } finally {
    sleeper.kill('SIGKILL');
    await once(sleeper, 'exit');
    for (let i = 0; i < 100; i++) {
      try {
        fs.rmdirSync(dir);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  }
  t.false(fs.existsSync(dir));
});

test('in a cgroup namespace of its own, a process is at the root of every hierarchy', (t) => {
  const text = execFileSync('/usr/bin/unshare', ['--cgroup', '/bin/cat', '/proc/self/cgroup'], { encoding: 'utf8' });
  const seen = parseProcCgroup(text);
  t.true(seen.memberships.length > 0);
  t.deepEqual(seen.memberships.map((m) => m.path), seen.memberships.map(() => '/'));
  t.is(seen.memberships.length, readProcessCgroups().memberships.length);
});

test('text that is not /proc/PID/cgroup is refused naming the file and the line', (t) => {
  const e = t.throws(() => parseProcCgroup('0::/\nnot a cgroup line\n', '/tmp/x'), { instanceOf: CgroupFileError });
  t.regex(e!.message, /^\/tmp\/x: "not a cgroup line" is not "hierarchy-ID:controller-list:cgroup-path"$/);
});

test('a process that is gone: ENOENT, as any read of its /proc', (t) => {
  const gone = spawnSyncPid();
  t.throws(() => readProcessCgroups(gone), { code: 'ENOENT' });
});

/** A pid that has exited and been reaped. */
function spawnSyncPid(): number {
  return Number(execFileSync('/bin/sh', ['-c', '/bin/true & echo $!; wait'], { encoding: 'utf8' }).trim());
}
