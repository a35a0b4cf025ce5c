// The merged results as JSON that `nsrig report` reads back: one run is written as a plain
// Results object, several targets as an array of them. Keys are sorted at every level so two
// writes of the same data are byte-identical and diff cleanly.
import type { ReportModel } from './report-model.js';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
    return sorted;
  }
  return value;
}

export function renderJson(model: ReportModel): string {
  const results = model.runs.map((run) => run.results);
  return `${JSON.stringify(sortKeys(results.length === 1 ? results[0] : results), null, 2)}\n`;
}
