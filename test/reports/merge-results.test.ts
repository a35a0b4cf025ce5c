import test from 'ava';
import type { InvariantStatus, Results } from '../../harness/results.js';
import { buildReportModel, loadResultsFiles, mergeResults, mergeRuns, ResultsMergeError } from '../../reports/index.js';
import { DIFFERENTIAL, fixture, SHARDS } from './fixture-paths.js';

test('two shards of one run merge into one Results whose cases add up', async (t) => {
  const files = await loadResultsFiles(SHARDS);
  const [a, b] = files.map((f) => f.results[0]!);
  const [merged, ...rest] = mergeResults(files);
  t.is(rest.length, 0);
  t.is(merged!.shard, undefined);
  // The harness cuts shards as disjoint slices of the catalogue: together they hold all 32.
  t.is(a!.invariants.length + b!.invariants.length, 32);
  t.is(merged!.invariants.length, 32);
  for (const inv of merged!.invariants) {
    const ca = a!.invariants.find((i) => i.id === inv.id)?.cases ?? 0;
    const cb = b!.invariants.find((i) => i.id === inv.id)?.cases ?? 0;
    t.is(inv.cases, ca + cb, inv.id);
  }
  const total = (r: Results) => r.invariants.reduce((n, i) => n + i.cases, 0);
  t.is(total(merged!), total(a!) + total(b!));
  const ids = merged!.invariants.map((i) => i.id);
  t.deepEqual(ids, [...ids].sort((x, y) => x.localeCompare(y)));
  t.is(merged!.startedAt, '2025-06-03T12:00:00.000Z');
  // The run spans from the first shard's start to the last shard's end.
  const endB = Date.parse(b!.startedAt) + b!.durationMs;
  const endA = Date.parse(a!.startedAt) + a!.durationMs;
  t.is(merged!.durationMs, Math.max(endA, endB) - Date.parse(a!.startedAt));
  t.is(merged!.syscallProfiles!.length, 2);
  t.deepEqual(merged!.summary, { passed: 30, failed: 1, skipped: 1, errors: 0 });
});

test('a failure in one shard fails the merged invariant and keeps its counterexample and replay', async (t) => {
  const files = await loadResultsFiles(SHARDS);
  const [merged] = mergeResults(files);
  const sysv = merged!.invariants.find((i) => i.id === 'ipc.sysv-isolated')!;
  t.is(sysv.status, 'fail');
  t.is(sysv.counterexample!.path, '30:2:0');
  t.is(sysv.replay, "nsrig check --target builtin --seed 7 --runs 200 --only ipc.sysv-isolated --replay '30:2:0'");
  const root = merged!.invariants.find((i) => i.id === 'mnt.root-not-shared')!;
  t.is(root.status, 'skip');
  t.is(root.reason, 'no generated profile used a shared rootfs propagation');
});

function shardsWith(statuses: InvariantStatus[], base: Results): Results[] {
  return statuses.map((status, i) => ({
    ...base,
    shard: { index: i + 1, count: statuses.length },
    invariants: [{ ...base.invariants[0]!, status, reason: `${status} in shard ${i + 1}`, cases: 5 }],
  }));
}

test('statuses combine: fail beats error beats pass beats skip', async (t) => {
  const [file] = await loadResultsFiles([fixture('builtin-pass.json')]);
  const base = file!.results[0]!;
  const table: [InvariantStatus[], InvariantStatus][] = [
    [['skip', 'pass'], 'pass'],
    [['pass', 'skip', 'pass'], 'pass'],
    [['pass', 'error'], 'error'],
    [['skip', 'error', 'pass'], 'error'],
    [['error', 'fail'], 'fail'],
    [['fail', 'pass', 'error', 'skip'], 'fail'],
    [['skip', 'skip'], 'skip'],
  ];
  for (const [statuses, expected] of table) {
    const [merged] = mergeResults(shardsWith(statuses, base));
    const inv = merged!.invariants[0]!;
    t.is(inv.status, expected, statuses.join('+'));
    t.is(inv.cases, 5 * statuses.length);
    // The reason comes from the lowest shard that had the winning status.
    if (expected !== 'pass') t.is(inv.reason, `${expected} in shard ${statuses.indexOf(expected) + 1}`);
  }
});

test('a missing shard makes the report FAIL and says which shards were given', async (t) => {
  const files = await loadResultsFiles([SHARDS[0]!]);
  const model = buildReportModel(files);
  t.is(model.verdict, 'FAIL');
  t.true(model.warnings.some((w) => w.includes('1 of 2 shards given (1/2)')));
  t.true(model.verdictReasons.some((r) => r.startsWith('Incomplete run')));
});

test('the same shard twice, or runs that are not shards of one run, are refused with the files named', async (t) => {
  const [s0] = await loadResultsFiles([SHARDS[0]!]);
  const again = { ...s0!, path: 'copy.json' };
  const dup = t.throws(() => mergeRuns([s0!, again]), { instanceOf: ResultsMergeError });
  t.deepEqual(dup.sources, [SHARDS[0], 'copy.json']);
  t.regex(dup.message, /shard 1\/2 of builtin seed 7 given twice/);

  const files = await loadResultsFiles([fixture('builtin-pass.json'), fixture('builtin-failures.json')]);
  const seeds = t.throws(() => mergeRuns(files), { instanceOf: ResultsMergeError });
  t.regex(seeds.message, /differ in seed \(1729 against 42\)/);

  const mixed = await loadResultsFiles([fixture('builtin-pass.json'), SHARDS[0]!]);
  t.throws(() => mergeRuns(mixed.map((f) => ({ ...f, results: f.results.map((r) => ({ ...r, seed: 7 })) }))), {
    instanceOf: ResultsMergeError,
  });
});

test('results of three targets become a matrix with one column per target, in the order given', async (t) => {
  const files = await loadResultsFiles(DIFFERENTIAL);
  const model = buildReportModel(files);
  t.true(model.multiTarget);
  t.deepEqual(model.targets, ['builtin', 'runc', 'crun']);
  t.deepEqual(model.summary, { passed: 93, failed: 1, errors: 1, skipped: 1, total: 96, cases: 9403 });
  const rows = model.areas.flatMap((a) => a.invariants);
  t.is(rows.length, 32);
  const statuses = (id: string) => rows.find((r) => r.id === id)!.outcomes.map((o) => o.status);
  t.deepEqual(statuses('proc.readonly-paths'), ['pass', 'pass', 'fail']);
  t.deepEqual(statuses('time.offsets-applied'), ['pass', 'error', 'pass']);
  t.deepEqual(statuses('mnt.root-not-shared'), ['pass', 'skip', 'pass']);
  t.deepEqual(rows.filter((r) => r.disagreement).map((r) => r.id).sort(), ['mnt.root-not-shared', 'proc.readonly-paths', 'time.offsets-applied']);
  t.deepEqual(model.failures.map((f) => `${f.target}:${f.id}`), ['crun:proc.readonly-paths']);
  t.deepEqual(model.targetErrors.map((f) => `${f.target}:${f.id}`), ['runc:time.offsets-applied']);
  t.deepEqual(model.runs.map((r) => r.verdict), ['PASS', 'FAIL', 'FAIL']);
  t.is(model.verdict, 'FAIL');
});

test('merging merged results again changes nothing', async (t) => {
  const once = mergeResults(await loadResultsFiles(SHARDS));
  t.deepEqual(mergeResults(once), once);
});

test('a target error alone makes the verdict FAIL, and a run with only skips verifies nothing', async (t) => {
  const files = await loadResultsFiles([fixture('runc-errors-skips.json')]);
  const model = buildReportModel(files);
  t.is(model.verdict, 'FAIL');
  t.deepEqual(model.summary, { passed: 28, failed: 0, errors: 2, skipped: 2, total: 32, cases: 1500 });
  t.true(model.verdictReasons[0]!.startsWith('2 invariants could not be run (target error)'));

  const base = files[0]!.results[0]!;
  const allSkipped = { ...base, invariants: base.invariants.map((i) => ({ ...i, status: 'skip' as const, cases: 0 })) };
  const skipped = buildReportModel([allSkipped]);
  t.is(skipped.verdict, 'FAIL');
  t.deepEqual(skipped.verdictReasons, ['No invariant was verified.']);

  const passing = buildReportModel(await loadResultsFiles([fixture('builtin-pass.json')]));
  t.is(passing.verdict, 'PASS');
  t.deepEqual(passing.verdictReasons, ['Every invariant that ran held: 31 invariants over 3,100 generated cases; 1 invariant skipped.']);
});
