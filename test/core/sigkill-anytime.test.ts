// SIGKILL of nsrig at any moment of a launch leaves nothing for good. Each `nsrig run` starts in a
// cgroup of this test's own, so whatever it cloned is found there even before the engine moved it
// into a container cgroup, and is killed after a random delay that spans node's start, the launch
// and the running program. Children not yet released must die with nsrig on their own (parent-death
// signal, end-of-file on the wait pipe); container cgroups are the next run's to sweep, with any
// process still in them.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { CGROUP_PARENT, baselineMounts, ourCgroupDirs, ourTempEntries, processRuns, processesInOurCgroups, suspectHostMounts } from '../../harness/host-leftovers.js';
import { projectRoot } from '../../harness/probe-rig.js';

const RUNS = 60;
const AT_ONCE = 6;
const NSRIG = path.join(projectRoot(), 'bin', 'nsrig.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-sigkill-test-'));
/** Not named like a container cgroup (nsrig-PID-HEX), so no sweep takes it for one. */
const holding = path.join(path.dirname(CGROUP_PARENT), `nsrig-sigkill-test-${process.pid}`);
const profile = path.join(dir, 'quick.yaml');
const sleeper = path.join(dir, 'sleeper.yaml');
fs.writeFileSync(sleeper, 'name: sleeper\nprocess:\n  args: [/bin/sh, -c, "sleep 30"]\n  timeout: 60\n');
fs.writeFileSync(profile, 'name: quick\nprocess:\n  args: [/bin/true]\n');

test.after.always(async () => {
  try {
    fs.writeFileSync(path.join(holding, 'cgroup.kill'), '1');
  } catch {
    // not there, or empty
  }
  // Waits without blocking: the killed children are this process's, and only the event loop reaps
  // them (a blocking wait kept them as zombies, the cgroup busy, and the directory left behind).
  for (let i = 0; i < 500; i++) {
    try {
      fs.rmdirSync(holding);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
      await sleep(20);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts nsrig run in the holding cgroup (the shell puts itself there, then becomes nsrig). */
function startInHolding(file = profile): Promise<{ pid: number; exited: Promise<number | null> }> {
  const child = spawn('/bin/sh', ['-c', 'echo $$ > "$0" && exec "$@"', path.join(holding, 'cgroup.procs'), process.execPath, NSRIG, 'run', file], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.on('spawn', () => resolve({ pid: child.pid!, exited }));
    child.on('error', reject);
  });
}

/** Most of a run's first half is node starting up: the kills fall in its second half and a little past it. */
async function killAfterRandomDelay(runMs: number): Promise<number> {
  const { pid, exited } = await startInHolding(sleeper);
  await sleep(Math.floor(runMs * (0.4 + Math.random() * 0.8)));
  process.kill(pid, 'SIGKILL');
  await exited;
  return pid;
}

function holdingProcesses(): number[] {
  return fs.readFileSync(path.join(holding, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).filter(processRuns);
}

/** What the killed runs left: processes anywhere of theirs, their container cgroups, temp entries. */
function leftBehind(killed: number[]): string[] {
  const found = holdingProcesses().map((pid) => `process ${pid} (${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()}) outlived its nsrig`);
  for (const pid of killed) {
    const prefix = `nsrig-${pid}-`;
    for (const p of processesInOurCgroups(prefix)) found.push(`process ${p} in a container cgroup of killed nsrig ${pid}`);
    for (const d of ourCgroupDirs(prefix)) found.push(`cgroup ${d}`);
    for (const e of ourTempEntries(prefix)) found.push(`temp entry ${e}`);
  }
  for (const line of suspectHostMounts()) if (!baselineMounts.has(line)) found.push(`host mount ${line}`);
  return found;
}

test.serial(`nsrig run SIGKILLed ${RUNS} times at random moments of its launch: nothing is left once the next run has swept`, async (t) => {
  t.timeout(300_000);
  fs.mkdirSync(holding);
  // Delays scale with how long one run takes on this host now, from node's start to the program's exit.
  const started = Date.now();
  const { exited: timed } = await startInHolding();
  t.is(await timed, 0);
  const runMs = Date.now() - started;
  const killed: number[] = [];
  for (let n = 0; n < RUNS; n += AT_ONCE) {
    killed.push(...await Promise.all(Array.from({ length: Math.min(AT_ONCE, RUNS - n) }, () => killAfterRandomDelay(runMs))));
  }
  // Children that were not yet released die with their parent, without anyone's help.
  for (let i = 0; i < 100 && holdingProcesses().length > 0; i++) await sleep(50);
  const beforeSweep = leftBehind(killed);
  const containerCgroups = beforeSweep.filter((l) => l.startsWith('cgroup ')).length;
  t.deepEqual(holdingProcesses(), [], 'a cloned child outlived the nsrig that cloned it');

  // The next run sweeps the container cgroups of the dead ones, with whatever is still in them.
  const { exited } = await startInHolding();
  t.is(await exited, 0);
  const afterSweep = leftBehind(killed);
  t.log(`${RUNS} runs killed between ${Math.round(runMs * 0.4)} and ${Math.round(runMs * 1.2)} ms after their start; before the next run: ${beforeSweep.length} leftovers (${containerCgroups} container cgroups); after it: ${afterSweep.length}`);
  t.deepEqual(afterSweep, []);
});
