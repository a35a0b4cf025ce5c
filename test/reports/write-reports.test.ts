import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReportModel, loadResultsFiles, renderHtml, renderJunit, writeReports } from '../../reports/index.js';
import { fixture } from './fixture-paths.js';

test('writeReports creates missing folders and writes each requested output whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsrig-reports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const model = buildReportModel(await loadResultsFiles([fixture('builtin-failures.json')]));
  const paths = { html: join(dir, 'a/b/report.html'), junit: join(dir, 'c/report.xml'), json: join(dir, 'results.json') };
  const written = await writeReports(paths, model);
  t.deepEqual(written.map((w) => w.kind).sort(), ['html', 'json', 'junit']);
  for (const w of written) t.is(readFileSync(w.path).byteLength, w.bytes);
  t.is(readFileSync(paths.html, 'utf8'), renderHtml(model));
  t.is(readFileSync(paths.junit, 'utf8'), renderJunit(model));
  // No temporary file is left beside the outputs.
  t.deepEqual(readdirSync(join(dir, 'c')), ['report.xml']);
  // The JSON output is a results file the loader accepts.
  const [again] = await loadResultsFiles([paths.json]);
  t.is(again!.results[0]!.seed, 42);
});

test('writeReports writes only what is asked for', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsrig-reports-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const model = buildReportModel(await loadResultsFiles([fixture('builtin-pass.json')]));
  const written = await writeReports({ junit: join(dir, 'only.xml') }, model);
  t.deepEqual(written.map((w) => w.kind), ['junit']);
  t.false(existsSync(join(dir, 'report.html')));
  t.deepEqual(readdirSync(dir), ['only.xml']);
});
