// The real built-in engine against the whole catalogue: every invariant holds on three seeds,
// and the runs leave nothing of theirs on the host.
import test from 'ava';
import { runCheck } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import type { InvariantResult } from '../../harness/results.js';
import { leftovers } from '../../harness/host-leftovers.js';

/** Cases per invariant and seed: small, so the three seeds stay within the suite's time budget. */
const RUNS = 2;

const target = new BuiltinTarget();

/** What the engine cannot check yet and skips with its reason: exec, until `nsrig exec` joins a running container. */
const NOT_YET = INVARIANTS.filter((i) => i.scenario === 'exec').map((i) => i.id).sort();

function describe(r: InvariantResult): string {
  if (r.status === 'fail') return `${r.id} fails: expected ${r.counterexample?.expected}, observed ${r.counterexample?.observed}; ${r.replay}`;
  return `${r.id} is ${r.status}${r.reason ? `: ${r.reason}` : ''}`;
}

for (const seed of [1, 2, 3]) {
  test.serial(`the built-in engine holds every invariant (seed ${seed})`, async (t) => {
    const results = await runCheck({ target, targetFlag: '--target builtin', invariants: [...INVARIANTS], runs: RUNS, seed, jobs: 2 });
    const checked = results.invariants.filter((r) => !NOT_YET.includes(r.id));
    t.deepEqual(checked.filter((r) => r.status !== 'pass').map(describe), []);
    t.is(results.invariants.length, INVARIANTS.length);
    t.deepEqual(checked.filter((r) => r.cases !== RUNS).map((r) => r.id), []);
    t.deepEqual(results.invariants.filter((r) => NOT_YET.includes(r.id)).map((r) => `${r.id} ${r.status}: ${r.reason}`).sort(),
      NOT_YET.map((id) => `${id} skip: builtin cannot join a process to a running container (exec) yet`));
    t.deepEqual(results.summary, { passed: INVARIANTS.length - NOT_YET.length, failed: 0, skipped: NOT_YET.length, errors: 0 });
  });
}

test.after.always('no process, cgroup or mount of these runs is left on the host', (t) => {
  t.deepEqual(leftovers(), []);
});
