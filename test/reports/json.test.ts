import test from 'ava';
import { buildReportModel, loadResultsFiles, mergeResults, parseResultsFile, renderJson } from '../../reports/index.js';
import { DIFFERENTIAL, fixture, SHARDS } from './fixture-paths.js';

function keysSortedEverywhere(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(keysSortedEverywhere);
  if (typeof value !== 'object' || value === null) return true;
  const keys = Object.keys(value);
  return keys.join('\0') === [...keys].sort().join('\0') && Object.values(value).every(keysSortedEverywhere);
}

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
}

test('merged shards are written as one Results that nsrig report reads back', async (t) => {
  const files = await loadResultsFiles(SHARDS);
  const text = renderJson(buildReportModel(files));
  t.true(text.endsWith('}\n'));
  t.true(keysSortedEverywhere(JSON.parse(text)));
  const again = parseResultsFile('merged.json', Buffer.from(text));
  t.is(again.results.length, 1);
  t.deepEqual(again.results, mergeResults(files).map((r) => JSON.parse(JSON.stringify(r))));
  t.is(again.results[0]!.invariants.find((i) => i.id === 'pid.init-is-pid1')!.cases, 200);
});

test('several targets are written as an array of Results, in column order', async (t) => {
  const text = renderJson(buildReportModel(await loadResultsFiles(DIFFERENTIAL)));
  const again = parseResultsFile('differential.json', Buffer.from(text));
  t.deepEqual(again.results.map((r) => r.target.name), ['builtin', 'runc', 'crun']);
  // Read back, the array makes the same report.
  const model = buildReportModel([again]);
  t.deepEqual(model.summary, { passed: 93, failed: 1, errors: 1, skipped: 1, total: 96, cases: 9403 });
});

test('the same data gives byte-identical JSON whatever the input key order', async (t) => {
  const [file] = await loadResultsFiles([fixture('builtin-failures.json')]);
  const results = file!.results[0]!;
  const shuffled = reverseKeys(results);
  t.not(Object.keys(shuffled as object)[0], Object.keys(results)[0]);
  const a = renderJson(buildReportModel([results]));
  const b = renderJson(buildReportModel(parseResultsFile('x.json', Buffer.from(JSON.stringify(shuffled))).results));
  t.is(a, b);
});
