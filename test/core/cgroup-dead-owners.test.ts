// The sweep of dead owners' cgroups on real cgroup directories: a dead owner's cgroup is killed
// and removed with what is below it, a live owner's cgroup below it is spared with its process,
// and a record of nsrig before .record files is still honoured in the host's view. The whole
// story through bin/nsrig.js (SIGKILL, a pure-v2 view, the next run) is in sigkill-anytime.test.ts.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { readCgroupLayout } from '../../core/cgroup-layout.js';
import { removeCgroupTree, sweepDeadOwnersCgroups } from '../../core/cgroup-dead-owners.js';
import { processRuns } from '../../harness/host-leftovers.js';

const layout = readCgroupLayout();
const noCgroup2 = layout.unifiedMount === undefined ? 'this host mounts no cgroup2 hierarchy' : undefined;
const pidsV1 = layout.v1Mounts.get('pids')?.[0];

/** A pid no process has now: one that just exited (a pid is not handed on at once). */
function deadPid(): number {
  return spawnSync('/bin/true').pid!;
}

/**
 * A sleep in the cgroup, not our child (its shell exits at once): the sweep waits blocking, and a
 * child of ours would stay a zombie meanwhile, its cgroup busy.
 */
async function sleeperIn(dir: string): Promise<number> {
  const started = spawnSync('/bin/sh', ['-c', '/bin/sh -c \'echo $$ > "$0" && exec sleep 60\' "$0" </dev/null >/dev/null 2>&1 & echo $!', path.join(dir, 'cgroup.procs')], { encoding: 'utf8' });
  const pid = Number(started.stdout.trim());
  for (let i = 0; i < 200 && !fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').includes(String(pid)); i++) await sleep(10);
  return pid;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 200 && processRuns(pid); i++) await sleep(10);
  return !processRuns(pid);
}

(noCgroup2 ? test.skip : test.serial)(`a dead owner's cgroup goes with its process and what is below it; a live owner's cgroup below it stays, its process running${noCgroup2 ? ` (skipped: ${noCgroup2})` : ''}`, async (t) => {
  const dead = path.join(layout.unifiedMount!, 'nsrig', `nsrig-${deadPid()}-${process.pid.toString(16)}0d`);
  const deadChild = path.join(dead, 'made-by-the-container');
  const live = path.join(dead, 'nsrig', `nsrig-${process.pid}-11fe`);
  fs.mkdirSync(deadChild, { recursive: true });
  fs.mkdirSync(live, { recursive: true });
  const orphan = await sleeperIn(deadChild);
  const kept = await sleeperIn(live);
  try {
    sweepDeadOwnersCgroups();
    t.true(await gone(orphan), 'the dead owner\'s process was killed');
    t.true(processRuns(kept), 'the live owner\'s process was left running');
    t.true(fs.existsSync(live), 'the live owner\'s cgroup was left');
    t.false(fs.existsSync(deadChild), 'the cgroup below the dead owner\'s went');
    // The dead one stays only as long as it holds the live one.
    t.deepEqual(fs.readdirSync(dead, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name), ['nsrig']);
  } finally {
    process.kill(kept, 'SIGKILL');
    await gone(kept);
    for (let i = 0; i < 200 && !removeCgroupTree(dead); i++) await sleep(10);
  }
  // With the live one gone, the next sweep takes the rest, and the nsrig/ parent if it was the last.
  sweepDeadOwnersCgroups();
  t.false(fs.existsSync(dead));
});

(pidsV1 === undefined ? test.skip : test.serial)(`a record of nsrig before .record files, of a dead owner: its directories and the record go in the host's view${pidsV1 === undefined ? ' (skipped: no v1 pids hierarchy here)' : ''}`, (t) => {
  const top = path.join(pidsV1!, `nsrig-legacy-test-${process.pid}`);
  const dirs = [top, path.join(top, 'leaf')];
  fs.mkdirSync(dirs[1]!, { recursive: true });
  const record = path.join('/run/nsrig-cgroups', `nsrig-legacy-test-${process.pid}.json`);
  fs.mkdirSync(path.dirname(record), { recursive: true, mode: 0o700 });
  fs.writeFileSync(record, JSON.stringify({ owner: deadPid(), dirs }));
  try {
    sweepDeadOwnersCgroups();
    t.deepEqual(dirs.filter((d) => fs.existsSync(d)), []);
    t.false(fs.existsSync(record));
  } finally {
    removeCgroupTree(top);
    fs.rmSync(record, { force: true });
  }
});
