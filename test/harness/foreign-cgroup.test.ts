// lifecycle.delete-spares-foreign-resources moves a container's init into a cgroup of its own
// making. An nsrig SIGKILLed before it removed that cgroup leaves it, with the init inside: the
// next sweep (every check's host fixtures, every new foreign cgroup) kills what is in it and
// removes it.
import test from 'ava';
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { sweepDeadOwnersCgroups } from '../../core/cgroup-dead-owners.js';
import { processRuns } from '../../harness/host-leftovers.js';

const HOLDINGS_MODULE = pathToFileURL(fileURLToPath(new URL('../../harness/container-holdings.js', import.meta.url))).href;

test('a foreign cgroup left by a SIGKILLed nsrig, its process still inside, is swept by the next', async (t) => {
  // The owner moves a process of its own into a foreign cgroup, says where, and is SIGKILLed before remove().
  const script = `import { spawn } from 'node:child_process';
    import { ForeignCgroup } from ${JSON.stringify(HOLDINGS_MODULE)};
    const init = spawn('sleep', ['120'], { stdio: 'ignore', detached: true });
    const cgroup = ForeignCgroup.adopt(init.pid);
    console.log(JSON.stringify({ dir: cgroup.dir, pid: init.pid }));
    setInterval(() => {}, 1 << 30);`;
  const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: owner.stdout! }).once('line', resolve));
  const { dir, pid } = JSON.parse(line) as { dir: string; pid: number };
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGKILL');
      fs.rmdirSync(dir);
    } catch {
      // swept
    }
  });
  owner.kill('SIGKILL');
  await new Promise((resolve) => owner.once('exit', resolve));
  t.true(fs.existsSync(dir), `${dir} was not left by the SIGKILLed owner`);
  t.true(fs.readFileSync(`${dir}/cgroup.procs`, 'utf8').split('\n').includes(String(pid)));

  sweepDeadOwnersCgroups();
  t.false(fs.existsSync(dir), `${dir} is still there after the sweep`);
  t.false(processRuns(pid), 'the process in it still runs');
});
