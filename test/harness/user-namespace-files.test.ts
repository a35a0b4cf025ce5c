// The user namespaces user.foreign-namespace-join-refused hands a container: two nsfs binds in a
// private directory of their own, gone with the fixtures and swept after a SIGKILL; and the
// probe's join, read from nsenter on the host itself, where the kernel's answers are known.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HostFixtures } from '../../harness/host-facts.js';
import { joinUserNamespaces } from '../../harness/probe/user-namespace-join.js';

function mountLine(dir: string): string | undefined {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === dir);
}

/** The processes whose user namespace is this inode. */
function processesIn(inode: number): number[] {
  return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return fs.statSync(`/proc/${pid}/ns/user`).ino === inode;
    } catch {
      return false;
    }
  });
}

test.serial('a sibling user namespace and the host\'s, as binds in a private directory, gone with the fixtures', async (t) => {
  const fixtures = await HostFixtures.create();
  const fact = fixtures.facts.userNamespaceFiles;
  if (!('dir' in fact)) throw new Error(fact.unavailable);
  const files = fact;
  const ours = fs.statSync('/proc/self/ns/user').ino;
  try {
    const line = mountLine(files.dir) ?? '';
    t.not(line, '', 'the directory is a mount point of its own');
    t.notRegex(line.split(' - ')[0], /shared:|master:/, 'with private propagation: the binds below it reach no other mount namespace');
    const sibling = fs.statSync(path.join(files.dir, files.sibling)).ino;
    t.is(fs.statSync(path.join(files.dir, files.host)).ino, ours, "the host file is nsrig's own user namespace");
    t.not(sibling, ours, 'the sibling is another namespace');
    t.deepEqual(files.inodes, { sibling, host: ours }, 'the inodes the invariant expects the probe to open');
    for (const name of [files.sibling, files.host]) t.regex(mountLine(path.join(files.dir, name)) ?? '', / - nsfs /, `${name} is an nsfs bind`);
    // The holder ran true(1) once its namespace was bound: the bind alone keeps it.
    for (let i = 0; i < 50 && processesIn(sibling).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    t.deepEqual(processesIn(sibling), [], 'no process is left in the sibling namespace');

    // On the host, nsrig's root holds CAP_SYS_ADMIN over the sibling (its parent's), and is already in its own.
    const joins = joinUserNamespaces([path.join(files.dir, files.sibling), path.join(files.dir, files.host), path.join(files.dir, 'absent')]);
    t.deepEqual(joins.map((j) => [j.open.code, j.inode, j.setns === null ? 'not tried' : j.setns.code]), [[null, sibling, null], [null, ours, 'EINVAL'], ['ENOENT', null, 'not tried']]);
    t.regex(joins[1].message ?? '', /Invalid argument$/);
  } finally {
    await fixtures.close();
  }
  t.false(fs.existsSync(files.dir));
  t.is(mountLine(files.dir), undefined, 'the directory and its binds are unmounted');
});

test.serial("a SIGKILLed run's user namespace files are swept by the next run", async (t) => {
  const hostFacts = fileURLToPath(new URL('../../harness/host-facts.js', import.meta.url));
  const script = `import(${JSON.stringify(hostFacts)}).then(async (m) => { const f = await m.HostFixtures.create(); console.log(f.facts.userNamespaceFiles.dir); setInterval(() => {}, 1000); });`;
  const run = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = await new Promise<string>((resolve, reject) => {
    let out = '';
    run.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    run.once('exit', (code) => reject(new Error(`the run exited with ${code} before making its fixtures`)));
  });
  const exited = new Promise((resolve) => run.once('exit', resolve));
  run.kill('SIGKILL');
  await exited;
  try {
    t.not(mountLine(dir), undefined, 'the killed run left its directory mounted');
    const fixtures = await HostFixtures.create();
    await fixtures.close();
    t.is(mountLine(dir), undefined, 'the next run unmounted it');
    t.false(fs.existsSync(dir), 'and removed it');
  } finally {
    if (mountLine(dir) !== undefined) spawn('umount', ['-l', dir]);
  }
});
