// The harness checks itself: each deliberately broken target is caught by the invariant meant for
// it, the failure shrinks to a profile the loader accepts, the printed replay reproduces it, and
// invariants the breakage does not touch still hold on the same double.
import test from 'ava';
import fs from 'node:fs';
import { runCheck, type CheckOptions } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import type { Invariant } from '../../harness/invariant.js';
import { BrokenTarget } from '../../harness/targets/doubles/broken-target.js';
import { BREAKAGES } from '../../harness/targets/doubles/breakages.js';
import { parseProfile } from '../../policy/profile/load.js';
import { leftovers } from '../../harness/host-leftovers.js';

const SEED = 1;
/** Enough for every double to meet a profile it breaks (the run stops at the first failure). */
const RUNS = 10;
const UNAFFECTED_RUNS = 2;
/** Doubles checked at once; each runs two containers at a time. */
const CONCURRENT_DOUBLES = 3;
/** NSRIG_THOROUGH=1 also checks every further invariant a double is known to break (slow: each one shrinks). */
const THOROUGH = process.env.NSRIG_THOROUGH === '1';

function byId(id: string): Invariant {
  const found = INVARIANTS.find((i) => i.id === id);
  if (!found) throw new Error(`no invariant ${id}`);
  return found;
}

/** The profile with its run's fixture directory named alike: each run makes its own (host-facts.ts). */
function sameRun(profile: unknown): unknown {
  return profile === undefined ? undefined : JSON.parse(JSON.stringify(profile).replace(/nsrig-fixture-\d+-[^"/]+/g, 'nsrig-fixture-RUN'));
}

let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(work: () => Promise<T>): Promise<T> {
  if (running >= CONCURRENT_DOUBLES) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** SysV keys of ipc.pair-objects-separate (0x6e74....): one on the host means a leak was left behind. */
function pairKeysOnHost(): string[] {
  return ['shm', 'sem', 'msg'].flatMap((kind) => fs.readFileSync(`/proc/sysvipc/${kind}`, 'utf8').split('\n').slice(1)
    .map((line) => line.trim().split(/\s+/)[0]).filter((key) => key && (Number(key) >>> 16) === 0x6e74).map((key) => `${kind} ${key}`));
}

for (const b of BREAKAGES) {
  const [intended, ...alsoCaughtBy] = b.caughtBy;

  test(`${b.name}: ${intended} catches it, shrinks it and replays it`, (t) => limited(async () => {
    const options: CheckOptions = {
      target: new BrokenTarget(b), targetFlag: `--target double:${b.name}`, invariants: [byId(intended)], runs: RUNS, seed: SEED, jobs: 1,
    };
    const [result] = (await runCheck(options)).invariants;
    t.is(result.status, 'fail', `${b.breaks}, yet ${intended} is ${result.status} ${result.reason ?? ''}`);
    const ce = result.counterexample!;
    t.true(ce.shrinks > 0, 'shrunk from the first failing profile');
    t.is(ce.path.split(':').length, ce.shrinks + 1, 'one path step per shrink');
    // A bind of the run's fixture directory names a directory that lives as long as its run (host-facts.ts); a replay makes a new one.
    t.notThrows(() => parseProfile(ce.profile as object, 'counterexample.json', { checkPaths: byId(intended).generate?.rwBind !== true }));
    t.not(ce.expected, 'the probe to report its observations', `the predicate judged, not a crash: ${ce.observed}`);
    t.true(ce.expected.length > 0 && ce.observed.length > 0 && ce.expected !== ce.observed);
    t.is(result.replay, `nsrig check --target double:${b.name} --seed ${SEED} --runs ${RUNS} --only ${intended} --replay '${ce.path}'`);

    const [replayed] = (await runCheck({ ...options, replayPath: ce.path })).invariants;
    t.is(replayed.status, 'fail', 'the replay fails too');
    t.is(replayed.cases, 1, 'the replay runs the counterexample alone');
    t.deepEqual(sameRun(replayed.counterexample?.profile), sameRun(ce.profile));
    t.is(replayed.counterexample?.path, ce.path);
  }));

  test(`${b.name}: ${b.unaffected.join(' and ')} still hold`, (t) => limited(async () => {
    const results = await runCheck({
      target: new BrokenTarget(b), targetFlag: `--target double:${b.name}`, invariants: b.unaffected.map(byId), runs: UNAFFECTED_RUNS, seed: SEED, jobs: 2,
    });
    t.deepEqual(results.invariants.map((r) => `${r.id} ${r.status} ${r.counterexample?.observed ?? r.reason ?? ''}`.trim()), b.unaffected.map((id) => `${id} pass`).sort());
  }));

  if (alsoCaughtBy.length > 0) {
    (THOROUGH ? test : test.skip)(`${b.name}: ${alsoCaughtBy.join(', ')} catch it too (NSRIG_THOROUGH=1)`, (t) => limited(async () => {
      const results = await runCheck({
        target: new BrokenTarget(b), targetFlag: `--target double:${b.name}`, invariants: alsoCaughtBy.map(byId), runs: RUNS, seed: SEED, jobs: 2,
      });
      const crashed = (r: (typeof results.invariants)[number]) => (r.counterexample?.expected === 'the probe to report its observations' ? ' (probe crash)' : '');
      t.deepEqual(results.invariants.map((r) => `${r.id} ${r.status}${crashed(r)}`), alsoCaughtBy.map((id) => `${id} fail`).sort());
    }));
  }
}

test.after.always('the doubles left no process, cgroup, mount or IPC object on the host', (t) => {
  t.deepEqual(leftovers(), []);
  t.deepEqual(pairKeysOnHost(), []);
});
