import test from 'ava';
import { execFileSync } from 'node:child_process';
import { loadResultsFile, loadResultsFiles, parseResultsFile, ResultsFileError } from '../../reports/index.js';
import { fixture, FIXTURES } from './fixture-paths.js';
import { readdirSync, readFileSync } from 'node:fs';

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const passing = () => JSON.parse(readFileSync(fixture('builtin-pass.json'), 'utf8')) as Record<string, any>;

test('a results file loads with the sha256 that sha256sum computes for its bytes', async (t) => {
  const path = fixture('builtin-failures.json');
  const [file] = await loadResultsFiles([path]);
  const expected = execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0];
  t.is(file!.sha256, expected);
  t.is(file!.sizeBytes, readFileSync(path).byteLength);
  t.is(file!.results.length, 1);
  t.is(file!.results[0]!.seed, 42);
  t.is(file!.results[0]!.invariants.length, 32);
});

test('every committed fixture passes validation', async (t) => {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.json'));
  t.true(names.length >= 8);
  const files = await loadResultsFiles(names.map(fixture));
  for (const f of files) t.regex(f.sha256, /^[0-9a-f]{64}$/);
});

test('a file that is not JSON names the file', (t) => {
  const error = t.throws(() => parseResultsFile('broken.json', Buffer.from('{"tool": ')), { instanceOf: ResultsFileError });
  t.is(error.file, 'broken.json');
  t.regex(error.message, /^broken\.json: expected a JSON document in UTF-8, got /);
});

test('a wrong status names the file, the field path and the allowed values', (t) => {
  const doc = passing();
  doc['invariants'][2].status = 'passed';
  const error = t.throws(() => parseResultsFile('run.json', bytes(doc)), { instanceOf: ResultsFileError });
  t.is(error.fieldPath, 'invariants[2].status');
  t.is(error.message, 'run.json: invariants[2].status: expected one of "pass", "fail", "skip", "error", got "passed"');
});

test('a missing field is reported as missing', (t) => {
  const doc = passing();
  delete doc['seed'];
  const error = t.throws(() => parseResultsFile('run.json', bytes(doc)), { instanceOf: ResultsFileError });
  t.is(error.message, 'run.json: seed: expected a whole number, got nothing (the field is missing)');
});

test('nested fields of counterexamples, hosts and syscall profiles are checked', (t) => {
  const cases: [(doc: Record<string, any>) => void, string][] = [
    [(d) => (d['invariants'][0].counterexample = { profile: {}, expected: 'a', observed: 'b', path: '0', shrinks: -1 }), 'invariants[0].counterexample.shrinks'],
    [(d) => (d['host'].cgroupMode = 'v3'), 'host.cgroupMode'],
    [(d) => (d['syscallProfiles'][1].violations = [{ name: 'ptrace' }]), 'syscallProfiles[1].violations[0].count'],
    [(d) => (d['tool'].name = 'other'), 'tool.name'],
    [(d) => (d['startedAt'] = 'yesterday'), 'startedAt'],
    [(d) => (d['shard'] = { index: 3, count: 2 }), 'shard.index'],
    [(d) => (d['invariants'][5].durationMs = Number.NaN), 'invariants[5].durationMs'],
  ];
  for (const [spoil, path] of cases) {
    const doc = passing();
    spoil(doc);
    const error = t.throws(() => parseResultsFile('run.json', bytes(doc)), { instanceOf: ResultsFileError }, path);
    t.is(error.fieldPath, path);
  }
});

test('a file holding several runs is read as an array, with indexed field paths', (t) => {
  const good = passing();
  const bad = passing();
  bad['target'] = { kind: 'vm', name: 'x', version: '1' };
  t.is(parseResultsFile('two.json', bytes([good, good])).results.length, 2);
  const error = t.throws(() => parseResultsFile('two.json', bytes([good, bad])), { instanceOf: ResultsFileError });
  t.is(error.fieldPath, '[1].target.kind');
  t.throws(() => parseResultsFile('none.json', bytes([])), { message: /none\.json: expected at least one run/ });
});

test('a file that cannot be read is named with the reason', async (t) => {
  const error = await t.throwsAsync(loadResultsFile('/nonexistent/results.json'), { instanceOf: ResultsFileError });
  t.is(error.message, '/nonexistent/results.json: expected a readable results file, got ENOENT');
  await t.throwsAsync(loadResultsFiles([]), { instanceOf: ResultsFileError });
});

test('fields outside the schema are dropped, so renderers only see known data', (t) => {
  const doc = passing();
  doc['invariants'][0].extra = '<b>not in the schema</b>';
  const [results] = parseResultsFile('run.json', bytes(doc)).results;
  t.false('extra' in results!.invariants[0]!);
});
