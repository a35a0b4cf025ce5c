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
import { CGROUP_PARENT, baselineMounts, cgroupDirsNamed, ourTempEntries, processRuns, processesInOurCgroups, suspectHostMounts } from '../../harness/host-leftovers.js';
import { projectRoot } from '../../harness/probe-rig.js';
import { distinctV1Hierarchies, readCgroupLayout, readProcessCgroups, temporaryV1MountPoints } from '../../core/cgroup-layout.js';
import { killTree, removeCgroupTree } from '../../core/cgroup-dead-owners.js';
import { nsrigOnPureV2, printed } from '../cli/nsrig-cli.js';

const RUNS = 60;
const AT_ONCE = 6;
const NSRIG = path.join(projectRoot(), 'bin', 'nsrig.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-sigkill-test-'));
/** Not named like a container cgroup (nsrig-PID-HEX), so no sweep takes it for one. */
const holding = path.join(path.dirname(CGROUP_PARENT), `nsrig-sigkill-test-${process.pid}`);
/**
 * A cgroup of this test's own in each v1 hierarchy, below ours (cpuset's would need its CPUs filled
 * first; one crun's host preparation mounts for a while may go meanwhile): an nsrig process
 * started there places its containers' v1 cgroups below it, not where the next run is.
 */
const own = readProcessCgroups();
const holdingV1 = distinctV1Hierarchies(readCgroupLayout())
  .filter((h) => !h.controllers.includes('cpuset') && !temporaryV1MountPoints().has(h.mountPoint))
  .map((h) => path.join(h.mountPoint, own.ofHierarchy(h) ?? '/', `nsrig-sigkill-test-${process.pid}`));
const profile = path.join(dir, 'quick.yaml');
const sleeper = path.join(dir, 'sleeper.yaml');
fs.writeFileSync(sleeper, 'name: sleeper\nprocess:\n  args: [/bin/sh, -c, "sleep 30"]\n  timeout: 60\n');
fs.writeFileSync(profile, 'name: quick\nprocess:\n  args: [/bin/true]\n');

test.after.always(async () => {
  for (const cgroup of [holding, ...holdingV1]) killTree(cgroup);
  // Waits without blocking: the killed children are this process's, and only the event loop reaps
  // them (a blocking wait kept them as zombies, the cgroup busy, and the directory left behind).
  // With whatever a failed sweep left below them: the host is left as found either way.
  for (const cgroup of [holding, ...holdingV1]) {
    for (let i = 0; i < 500 && !removeCgroupTree(cgroup); i++) await sleep(20);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts nsrig run in the holding cgroup (the shell puts itself there, then becomes nsrig), and
 * in the v1 ones too when `inV1`.
 */
function startInHolding(file = profile, inV1 = false): Promise<{ pid: number; exited: Promise<number | null> }> {
  const cgroups = [holding, ...(inV1 ? holdingV1 : [])].map((c) => path.join(c, 'cgroup.procs'));
  const join = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 1; shift; done; shift; exec "$@"';
  const child = spawn('/bin/sh', ['-c', join, 'join', ...cgroups, '--', process.execPath, NSRIG, 'run', file], { stdio: 'ignore' });
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
    for (const d of cgroupDirsNamed(prefix)) found.push(`cgroup ${d}`);
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

/** What is in a cgroup's directory: its child cgroups. */
const childCgroups = (cgroup: string) => (fs.existsSync(cgroup) ? fs.readdirSync(cgroup, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : []);

test.serial('nsrig run SIGKILLed while its container sleeps, started in v1 cgroups other than the next run\'s: no cgroup of it is left in any hierarchy, also when a run in a pure-v2 view swept first', async (t) => {
  t.timeout(120_000);
  fs.mkdirSync(holding, { recursive: true });
  for (const v1 of holdingV1) fs.mkdirSync(v1);
  const { pid, exited } = await startInHolding(sleeper, true);
  const prefix = `nsrig-${pid}-`;
  // Until its container sleeps: the v2 cgroup holds a process other than nsrig itself.
  for (let i = 0; i < 600 && !cgroupDirsNamed(prefix).some((d) => fs.readFileSync(path.join(d, 'cgroup.procs'), 'utf8').trim() !== ''); i++) await sleep(50);
  const made = cgroupDirsNamed(prefix);
  process.kill(pid, 'SIGKILL');
  await exited;
  // The default v1 placement is below the cgroup nsrig ran in: nsrig/<id> in each holding cgroup.
  t.deepEqual(made.filter((d) => holdingV1.some((v1) => d.startsWith(`${v1}/`))).sort(), holdingV1.map((v1) => path.join(v1, 'nsrig', made[0]!.split('/').at(-1)!)).sort());
  t.true(made.length > 0, 'the killed nsrig had made its container cgroups');

  // A run that cannot see the v1 hierarchies sweeps what it sees and keeps the record of the rest.
  const pureV2 = await nsrigOnPureV2(['run', profile]);
  t.is(pureV2.code, 0, printed(pureV2));
  t.deepEqual(cgroupDirsNamed(prefix).filter((d) => d.startsWith(`${CGROUP_PARENT}/`)), [], 'the pure-v2 run swept the v2 cgroup it sees');
  const { exited: next } = await startInHolding();
  t.is(await next, 0);
  t.deepEqual(leftBehind([pid]), []);
  t.deepEqual(holdingV1.filter((v1) => childCgroups(v1).length > 0), [], 'the nsrig/ parents below the holding cgroups went with the last container in them');
  t.false(fs.readdirSync('/run/nsrig-cgroups').some((n) => n.startsWith(prefix)), 'its cgroup record was removed with its cgroups');
});
