// Several results files become one view: the shards of one run (same target, seed and runs,
// different shard index) are added up into one Results; runs of different targets stay separate
// and become the columns of a differential report.
import type { InvariantResult, InvariantStatus, Results } from '../harness/results.js';
import type { ResultsFile } from './load-results.js';

/** Inputs that cannot form one report, with the files or runs that conflict. */
export class ResultsMergeError extends Error {
  readonly sources: string[];
  constructor(message: string, sources: string[]) {
    super(`${message} (${sources.join(', ')})`);
    this.name = 'ResultsMergeError';
    this.sources = sources;
  }
}

export interface MergedRun {
  /** One Results for the whole run: shards added up, summary recomputed, no `shard` field. */
  results: Results;
  /** The files (or "results #N") it came from, in shard order. */
  sources: string[];
  /** The shards that were merged, sorted by index; empty when the run was not sharded. */
  shards: { index: number; count: number }[];
  /** Shard count the run declared, when it was sharded. */
  shardCount: number | null;
  /** Set when shards are missing: says which run and which shards were given. */
  incomplete: string | null;
  /** Other things a reader must know about the data, such as a summary that disagreed. */
  warnings: string[];
}

/** What can be merged: plain Results, or loaded files (whose paths then name them in errors). */
export type ResultsInput = Results | ResultsFile;

interface Named {
  results: Results;
  name: string;
}

/** Precedence when shards disagree: one failing shard fails the invariant, and so on down. */
const STATUS_RANK: Readonly<Record<InvariantStatus, number>> = { fail: 3, error: 2, pass: 1, skip: 0 };

function isFile(input: ResultsInput): input is ResultsFile {
  return 'sha256' in input && Array.isArray((input as ResultsFile).results);
}

function flatten(inputs: readonly ResultsInput[], nameOf: (r: Results) => string | undefined): Named[] {
  const named: Named[] = [];
  inputs.forEach((input, i) => {
    if (isFile(input)) {
      input.results.forEach((results, j) => {
        named.push({ results, name: input.results.length === 1 ? input.path : `${input.path}[${j}]` });
      });
    } else {
      named.push({ results: input, name: nameOf(input) ?? `results #${i + 1}` });
    }
  });
  return named;
}

export function summarize(invariants: readonly InvariantResult[]): Results['summary'] {
  const summary = { passed: 0, failed: 0, skipped: 0, errors: 0 };
  for (const inv of invariants) {
    if (inv.status === 'pass') summary.passed += 1;
    else if (inv.status === 'fail') summary.failed += 1;
    else if (inv.status === 'skip') summary.skipped += 1;
    else summary.errors += 1;
  }
  return summary;
}

function runLabel(r: Results): string {
  return `${r.target.name} seed ${r.seed}`;
}

/** Everything that must be equal for files to be shards of one run. */
function checkSameRun(group: Named[]): void {
  const first = group[0]!.results;
  const fields: [string, (r: Results) => unknown][] = [
    ['seed', (r) => r.seed],
    ['runs', (r) => r.runs],
    ['target kind', (r) => r.target.kind],
    ['target version', (r) => r.target.version],
    ['target path', (r) => r.target.path ?? ''],
    ['tool version', (r) => r.tool.version],
    ['shard count', (r) => r.shard?.count ?? 'none'],
    ['config', (r) => (r.config ? `${r.config.file} sha256 ${r.config.sha256}` : 'none')],
  ];
  for (const [label, get] of fields) {
    const differing = group.filter((n) => get(n.results) !== get(first));
    if (differing.length > 0) {
      throw new ResultsMergeError(
        `results for target "${first.target.name}" differ in ${label} (${String(get(first))} against ` +
          `${String(get(differing[0]!.results))}), so they are not shards of one run; give one run per target`,
        group.map((n) => n.name),
      );
    }
  }
  if (first.shard === undefined) {
    if (group.length === 1) return;
    throw new ResultsMergeError(
      `${group.length} unsharded results for target "${first.target.name}" seed ${first.seed}; give one run per target`,
      group.map((n) => n.name),
    );
  }
  const byIndex = new Map<number, string>();
  for (const n of group) {
    const index = n.results.shard!.index;
    const seen = byIndex.get(index);
    if (seen !== undefined) {
      throw new ResultsMergeError(`shard ${index}/${n.results.shard!.count} of ${runLabel(first)} given twice`, [seen, n.name]);
    }
    byIndex.set(index, n.name);
  }
}

function mergeInvariant(parts: InvariantResult[], sources: string[]): InvariantResult {
  const first = parts[0]!;
  for (const part of parts) {
    if (part.area !== first.area || part.level !== first.level || part.title !== first.title) {
      throw new ResultsMergeError(`invariant ${first.id} has a different area, level or title across shards`, sources);
    }
  }
  // parts are in shard order, so ties keep the lowest shard's reason and counterexample.
  let winner = first;
  for (const part of parts) if (STATUS_RANK[part.status] > STATUS_RANK[winner.status]) winner = part;
  const merged: InvariantResult = {
    id: first.id,
    area: first.area,
    level: first.level,
    title: first.title,
    reference: first.reference,
    status: winner.status,
    cases: parts.reduce((sum, p) => sum + p.cases, 0),
    durationMs: parts.reduce((sum, p) => sum + p.durationMs, 0),
  };
  if (winner.reason !== undefined && winner.status !== 'pass') merged.reason = winner.reason;
  const failing = parts.find((p) => p.status === 'fail');
  if (failing?.counterexample !== undefined) merged.counterexample = failing.counterexample;
  if (failing?.replay !== undefined) merged.replay = failing.replay;
  if (failing?.knownDefect !== undefined) merged.knownDefect = failing.knownDefect;
  if (first.target !== undefined) merged.target = first.target;
  return merged;
}

function sameSummary(a: Results['summary'], b: Results['summary']): boolean {
  return a.passed === b.passed && a.failed === b.failed && a.skipped === b.skipped && a.errors === b.errors;
}

function mergeGroup(group: Named[]): MergedRun {
  checkSameRun(group);
  const sorted = [...group].sort((a, b) => (a.results.shard?.index ?? 0) - (b.results.shard?.index ?? 0));
  const sources = sorted.map((n) => n.name);
  const warnings: string[] = [];
  for (const n of sorted) {
    if (!sameSummary(n.results.summary, summarize(n.results.invariants))) {
      warnings.push(`${n.name}: its summary disagrees with its invariants; the report counts the invariants`);
    }
  }

  const partsById = new Map<string, InvariantResult[]>();
  for (const n of sorted) {
    for (const inv of n.results.invariants) {
      const parts = partsById.get(inv.id);
      if (parts === undefined) partsById.set(inv.id, [inv]);
      else parts.push(inv);
    }
  }
  const invariants = [...partsById.values()].map((parts) => mergeInvariant(parts, sources));
  // Shards slice the catalogue; merged, the run lists its invariants in id order, as an
  // unsharded run of the harness does.
  if (sorted.length > 1) invariants.sort((a, b) => a.id.localeCompare(b.id));

  const first = sorted[0]!.results;
  const starts = sorted.map((n) => Date.parse(n.results.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...sorted.map((n, i) => starts[i]! + n.results.durationMs));
  const results: Results = {
    tool: first.tool,
    target: first.target,
    seed: first.seed,
    runs: first.runs,
    startedAt: sorted[starts.indexOf(start)]!.results.startedAt,
    durationMs: end - start,
    host: first.host,
    invariants,
    summary: summarize(invariants),
  };
  if (first.config !== undefined) results.config = first.config;
  const profiles = sorted.flatMap((n) => n.results.syscallProfiles ?? []);
  if (sorted.some((n) => n.results.syscallProfiles !== undefined)) results.syscallProfiles = profiles;
  const limits = [...new Set(sorted.flatMap((n) => n.results.targetLimits ?? []))];
  if (limits.length) results.targetLimits = limits;

  const shardCount = first.shard?.count ?? null;
  const shards = first.shard === undefined ? [] : sorted.map((n) => n.results.shard!);
  const incomplete =
    shardCount !== null && shards.length < shardCount
      ? `${runLabel(first)}: ${shards.length} of ${shardCount} shards given ` +
        `(${shards.map((s) => `${s.index}/${s.count}`).join(', ')}); the rest of the run is missing`
      : null;
  return { results, sources, shards, shardCount, incomplete, warnings };
}

/**
 * Groups inputs by target, merges each group's shards, and returns one run per target in the
 * order targets first appear. Throws ResultsMergeError when a group is not one run. `nameOf`
 * names plain Results in messages (the report model passes the file each came from).
 */
export function mergeRuns(
  inputs: readonly ResultsInput[],
  nameOf: (r: Results) => string | undefined = () => undefined,
): MergedRun[] {
  const groups = new Map<string, Named[]>();
  for (const n of flatten(inputs, nameOf)) {
    const group = groups.get(n.results.target.name);
    if (group === undefined) groups.set(n.results.target.name, [n]);
    else group.push(n);
  }
  if (groups.size === 0) throw new ResultsMergeError('no results to merge', []);
  return [...groups.values()].map(mergeGroup);
}

/** The merged Results, one per target. */
export function mergeResults(inputs: readonly ResultsInput[]): Results[] {
  return mergeRuns(inputs).map((run) => run.results);
}
