// nsrig report RESULTS.json... : merge results files (shards, several targets) and render them.
import { parseArgs } from 'node:util';
import type { Results } from '../../harness/results.js';
import { buildReportModel, loadResultsFiles, mergeResults, writeReports, type ReportPaths } from '../../reports/index.js';
import { UsageError } from '../usage.js';

/**
 * Writes the JSON first, then renders HTML and JUnit from that file as read back, so the report
 * names the sha256 of the exact evidence it was made from.
 */
export async function writeResultOutputs(results: Results[], paths: ReportPaths): Promise<void> {
  if (paths.json) {
    await writeReports({ json: paths.json }, buildReportModel(results));
    process.stderr.write(`results: ${paths.json}\n`);
  }
  if (!paths.html && !paths.junit) return;
  const model = buildReportModel(paths.json ? await loadResultsFiles([paths.json]) : results);
  for (const w of await writeReports({ html: paths.html, junit: paths.junit }, model)) process.stderr.write(`${w.kind}: ${w.path} (${w.bytes} bytes)\n`);
}

const STATUS_CELL: Record<string, string> = { pass: 'pass', fail: 'FAIL', skip: 'skip', error: 'error' };

/** The differential view: one row per invariant, one column per target. */
export function printDifferential(all: Results[]): void {
  const targets = all.map((r) => `${r.target.name} ${r.target.version}`);
  const ids = [...new Set(all.flatMap((r) => r.invariants.map((i) => i.id)))].sort();
  const width = Math.max(...ids.map((i) => i.length), 9);
  const col = Math.max(...targets.map((t) => t.length), 6);
  const lines = [`${'invariant'.padEnd(width)}  ${targets.map((t) => t.padEnd(col)).join('  ')}`];
  for (const id of ids) {
    const cells = all.map((r) => STATUS_CELL[r.invariants.find((i) => i.id === id)?.status ?? ''] ?? '-');
    const differs = new Set(cells).size > 1 ? '  <- differs' : '';
    lines.push(`${id.padEnd(width)}  ${cells.map((c) => c.padEnd(col)).join('  ')}${differs}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function report(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { html: { type: 'string' }, junit: { type: 'string' }, json: { type: 'string' } },
  });
  if (positionals.length === 0) throw new UsageError('usage: nsrig report RESULTS.json... [--html FILE] [--junit FILE] [--json FILE]');
  if (!values.html && !values.junit && !values.json) throw new UsageError('nsrig report: name at least one output: --html, --junit or --json');
  const files = await loadResultsFiles(positionals);
  const merged = mergeResults(files);
  if (merged.length > 1) printDifferential(merged);
  const model = buildReportModel(files);
  for (const w of await writeReports({ html: values.html, junit: values.junit, json: values.json }, model)) {
    process.stderr.write(`${w.kind}: ${w.path} (${w.bytes} bytes)\n`);
  }
  return merged.some((r) => r.summary.failed > 0 || r.summary.errors > 0) ? 1 : 0;
}
