// The one view of merged results that the HTML, JUnit and JSON writers share. Everything a
// template prints is computed here, so the templates hold layout and no logic.
import { fixedInWords, type HostInfo, type InvariantLevel, type InvariantResult, type InvariantStatus, type Results } from '../harness/results.js';
import { formatBytes, formatDuration, formatTimestamp, plural } from './display-format.js';
import type { ResultsFile } from './load-results.js';
import { mergeRuns, type MergedRun, type ResultsInput } from './merge-results.js';
import { profileAsYaml } from './profile-yaml.js';
import { buildSyscallChart, type SyscallChart } from './syscall-chart.js';

export type Verdict = 'PASS' | 'FAIL';
/** "absent": the invariant is in another target's results but not in this one's. */
export type OutcomeStatus = InvariantStatus | 'absent';

export interface StatusCounts {
  passed: number;
  failed: number;
  errors: number;
  skipped: number;
  /** Invariant outcomes counted (one per invariant and target). */
  total: number;
  /** Generated cases run. */
  cases: number;
}

export interface ReferenceView {
  label: string;
  /** Only http(s) links are kept: a reference is data and must not become a script URL. */
  href: string | null;
  /** The cited sentence, or null for results written before references quoted one. */
  quote: string | null;
}

export interface OutcomeView {
  target: string;
  status: OutcomeStatus;
  statusLabel: string;
  /** A symbol beside the label, so status never rests on colour alone. */
  icon: string;
  cases: number;
  duration: string;
  /** Where this outcome is explained (failure, target error or skip), when it needs explaining. */
  detailAnchor: string | null;
  reason: string | null;
}

export interface InvariantRow {
  id: string;
  /** The id without its area prefix, for the compact matrix. */
  shortId: string;
  area: string;
  title: string;
  level: InvariantLevel;
  reference: ReferenceView;
  anchor: string;
  outcomes: OutcomeView[];
  /** The targets did not all reach the same status: the point of a differential run. */
  disagreement: boolean;
  /** The worst status over all targets (fail, error, pass, skip). */
  status: OutcomeStatus;
  statusLabel: string;
  icon: string;
}

export interface AreaGroup {
  area: string;
  counts: StatusCounts;
  invariants: InvariantRow[];
}

interface DetailBase {
  anchor: string;
  target: string;
  id: string;
  title: string;
  level: InvariantLevel;
  reference: ReferenceView;
}

export interface KnownDefectView {
  reference: string;
  href: string | null;
  /** "fixed in 1.1.8", or "not fixed in any release yet". */
  fixed: string;
  summary: string;
}

export interface FailureView extends DetailBase {
  /** The recorded upstream defect this failure matches, or null. */
  knownDefect: KnownDefectView | null;
  expected: string | null;
  observed: string | null;
  /** The shrunk profile as YAML. */
  profileYaml: string | null;
  counterexamplePath: string | null;
  shrinks: number | null;
  replay: string | null;
  cases: string;
  duration: string;
}

export interface NoteView extends DetailBase {
  reason: string;
}

export interface RunView {
  target: string;
  kindLabel: string;
  version: string;
  path: string | null;
  seed: number;
  runs: number;
  startedAt: string;
  duration: string;
  shards: string;
  sources: string[];
  toolVersion: string;
  /** What the target could not carry out, so generated profiles avoided it. */
  limits: string[];
  /** The config every case ran (nsrig check --config); null for generated profiles. */
  config: { file: string; sha256: string } | null;
  host: HostInfo;
  counts: StatusCounts;
  verdict: Verdict;
  /** The merged data behind this column: what JUnit and JSON are written from. */
  results: Results;
}

export interface FileView {
  path: string;
  sha256: string;
  size: string;
  holds: string;
}

export interface ReportModel {
  verdict: Verdict;
  verdictReasons: string[];
  summary: StatusCounts;
  /** summary.cases with thousands separators. */
  generatedCases: string;
  multiTarget: boolean;
  targets: string[];
  /** "builtin · seed 42 · 100 runs per invariant", or the targets side by side. */
  headline: string;
  startedAt: string;
  runs: RunView[];
  areas: AreaGroup[];
  failures: FailureView[];
  targetErrors: NoteView[];
  skipped: NoteView[];
  syscallCharts: SyscallChart[];
  files: FileView[];
  warnings: string[];
  toolVersions: string;
  /** Column counts of the matrix and invariant tables, for their full-width area rows. */
  matrixColumns: number;
  invariantColumns: number;
}

const STATUS_LABEL: Readonly<Record<OutcomeStatus, string>> = {
  pass: 'Pass',
  fail: 'Fail',
  error: 'Error',
  skip: 'Skip',
  absent: 'Not run',
};
const STATUS_ICON: Readonly<Record<OutcomeStatus, string>> = { pass: '✓', fail: '✗', error: '!', skip: '–', absent: '·' };
const STATUS_RANK: Readonly<Record<OutcomeStatus, number>> = { fail: 4, error: 3, pass: 2, skip: 1, absent: 0 };
const KIND_LABEL: Readonly<Record<Results['target']['kind'], string>> = {
  builtin: 'Built-in engine',
  oci: 'OCI runtime',
  double: 'Test double',
};

function count(outcomes: readonly { status: OutcomeStatus; cases: number }[]): StatusCounts {
  const c: StatusCounts = { passed: 0, failed: 0, errors: 0, skipped: 0, total: 0, cases: 0 };
  for (const o of outcomes) {
    if (o.status === 'absent') continue;
    c.total += 1;
    c.cases += o.cases;
    if (o.status === 'pass') c.passed += 1;
    else if (o.status === 'fail') c.failed += 1;
    else if (o.status === 'error') c.errors += 1;
    else c.skipped += 1;
  }
  return c;
}

export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Makes fragment ids from data: readable, and unique even when two ids slug alike. */
class Anchors {
  private readonly used = new Set<string>();
  make(...parts: string[]): string {
    const base = parts.map((p) => p.toLowerCase().replace(/[^a-z0-9._-]+/g, '-')).join('--');
    let anchor = base;
    for (let n = 2; this.used.has(anchor); n += 1) anchor = `${base}-${n}`;
    this.used.add(anchor);
    return anchor;
  }
}

function verdictOf(counts: StatusCounts, incomplete: boolean): Verdict {
  return counts.failed === 0 && counts.errors === 0 && counts.passed > 0 && !incomplete ? 'PASS' : 'FAIL';
}

function runView(run: MergedRun): RunView {
  const r = run.results;
  const counts = count(r.invariants);
  const shards =
    run.shardCount === null
      ? 'not sharded'
      : `${run.shards.length} of ${run.shardCount} merged (${run.shards.map((s) => `${s.index}/${s.count}`).join(', ')})`;
  return {
    target: r.target.name,
    kindLabel: KIND_LABEL[r.target.kind],
    version: r.target.version,
    path: r.target.path ?? null,
    seed: r.seed,
    runs: r.runs,
    startedAt: formatTimestamp(r.startedAt),
    duration: formatDuration(r.durationMs),
    shards,
    sources: run.sources,
    toolVersion: r.tool.version,
    limits: r.targetLimits ?? [],
    config: r.config ?? null,
    host: r.host,
    counts,
    verdict: verdictOf(counts, run.incomplete !== null),
    results: r,
  };
}

function verdictReasons(runs: readonly RunView[], summary: StatusCounts, incomplete: string[], multi: boolean): string[] {
  const reasons: string[] = [];
  const on = (run: RunView) => (multi ? ` on ${run.target}` : '');
  for (const run of runs) {
    if (run.counts.failed > 0) reasons.push(`${plural(run.counts.failed, 'invariant')} failed${on(run)}.`);
    if (run.counts.errors > 0) {
      reasons.push(
        `${plural(run.counts.errors, 'invariant')} could not be run${on(run)} (target error), so ` +
          `${run.counts.errors === 1 ? 'it is' : 'they are'} unverified.`,
      );
    }
  }
  for (const warning of incomplete) reasons.push(`Incomplete run: ${warning}.`);
  if (summary.passed === 0) reasons.push('No invariant was verified.');
  if (reasons.length === 0) {
    const unit = multi ? 'invariant result' : 'invariant';
    const skipped = summary.skipped > 0 ? `; ${plural(summary.skipped, unit)} skipped` : '';
    reasons.push(
      `Every invariant that ran held: ${plural(summary.passed, unit)} over ${plural(summary.cases, 'generated case')}` +
        `${multi ? ` on ${runs.length} targets` : ''}${skipped}.`,
    );
  }
  return reasons;
}

function detail(anchor: string, target: string, inv: InvariantResult, reference: ReferenceView): DetailBase {
  return { anchor, target, id: inv.id, title: inv.title, level: inv.level, reference };
}

function fileView(file: ResultsFile): FileView {
  const holds = file.results
    .map((r) => `${r.target.name} seed ${r.seed}${r.shard === undefined ? '' : ` shard ${r.shard.index}/${r.shard.count}`}`)
    .join('; ');
  return { path: file.path, sha256: file.sha256, size: formatBytes(file.sizeBytes), holds };
}

/**
 * Merges the given results (shards add up; several targets become columns) and computes
 * everything the renderers print. Pass the loaded files (or give ResultsFile inputs directly)
 * so the report lists each file's sha256 and errors name the file.
 */
export function buildReportModel(inputs: readonly ResultsInput[], files: readonly ResultsFile[] = []): ReportModel {
  const allFiles = [...files];
  for (const input of inputs) if ('sha256' in input && !allFiles.includes(input)) allFiles.push(input);
  const fileOf = new Map<Results, string>();
  for (const f of allFiles) f.results.forEach((r, i) => fileOf.set(r, f.results.length === 1 ? f.path : `${f.path}[${i}]`));

  const merged = mergeRuns(inputs, (r) => fileOf.get(r));
  const runs = merged.map(runView);
  const multi = runs.length > 1;
  const targets = runs.map((r) => r.target);
  const anchors = new Anchors();

  // Rows in the order invariants first appear, grouped by area in the order areas first appear.
  const rowsById = new Map<string, { first: InvariantResult; byTarget: Map<string, InvariantResult> }>();
  for (const run of runs) {
    for (const inv of run.results.invariants) {
      let row = rowsById.get(inv.id);
      if (row === undefined) rowsById.set(inv.id, (row = { first: inv, byTarget: new Map() }));
      row.byTarget.set(run.target, inv);
    }
  }

  const failures: FailureView[] = [];
  const targetErrors: NoteView[] = [];
  const skipped: NoteView[] = [];
  const areas = new Map<string, InvariantRow[]>();
  for (const { first, byTarget } of rowsById.values()) {
    const reference: ReferenceView = { label: first.reference.label, href: safeHref(first.reference.url), quote: first.reference.quote ?? null };
    const outcomes: OutcomeView[] = targets.map((target) => {
      const inv = byTarget.get(target);
      if (inv === undefined) {
        return {
          target,
          status: 'absent',
          statusLabel: STATUS_LABEL.absent,
          icon: STATUS_ICON.absent,
          cases: 0,
          duration: '',
          detailAnchor: null,
          reason: null,
        };
      }
      let detailAnchor: string | null = null;
      if (inv.status !== 'pass') {
        detailAnchor = anchors.make(inv.status, target, inv.id);
        const base = detail(detailAnchor, target, inv, reference);
        if (inv.status === 'fail') {
          const c = inv.counterexample;
          failures.push({
            ...base,
            expected: c?.expected ?? null,
            observed: c?.observed ?? null,
            profileYaml: c === undefined || c.profile === undefined ? null : profileAsYaml(c.profile),
            counterexamplePath: c?.path ?? null,
            shrinks: c?.shrinks ?? null,
            replay: inv.replay ?? null,
            knownDefect: inv.knownDefect
              ? { reference: inv.knownDefect.reference, href: safeHref(inv.knownDefect.url), fixed: fixedInWords(inv.knownDefect.fixedIn), summary: inv.knownDefect.summary }
              : null,
            cases: plural(inv.cases, 'case'),
            duration: formatDuration(inv.durationMs),
          });
        } else {
          const reason = inv.reason ?? (inv.status === 'skip' ? 'No reason was recorded.' : 'The target gave no message.');
          (inv.status === 'error' ? targetErrors : skipped).push({ ...base, reason });
        }
      }
      return {
        target,
        status: inv.status,
        statusLabel: STATUS_LABEL[inv.status],
        icon: STATUS_ICON[inv.status],
        cases: inv.cases,
        duration: formatDuration(inv.durationMs),
        detailAnchor,
        reason: inv.reason ?? null,
      };
    });
    const status = outcomes.reduce<OutcomeStatus>((w, o) => (STATUS_RANK[o.status] > STATUS_RANK[w] ? o.status : w), 'absent');
    const row: InvariantRow = {
      id: first.id,
      shortId: first.id.startsWith(`${first.area}.`) ? first.id.slice(first.area.length + 1) : first.id,
      area: first.area,
      title: first.title,
      level: first.level,
      reference,
      anchor: anchors.make('inv', first.id),
      outcomes,
      disagreement: multi && new Set(outcomes.map((o) => o.status)).size > 1,
      status,
      statusLabel: STATUS_LABEL[status],
      icon: STATUS_ICON[status],
    };
    const group = areas.get(first.area);
    if (group === undefined) areas.set(first.area, [row]);
    else group.push(row);
  }

  const areaGroups: AreaGroup[] = [...areas.entries()].map(([area, invariants]) => ({
    area,
    counts: count(invariants.flatMap((i) => i.outcomes)),
    invariants,
  }));
  const summary = count(areaGroups.flatMap((a) => a.invariants.flatMap((i) => i.outcomes)));
  const incomplete = merged.flatMap((m) => (m.incomplete === null ? [] : [m.incomplete]));
  const warnings = [...incomplete, ...merged.flatMap((m) => m.warnings)];
  const toolVersions = [...new Set(runs.map((r) => r.toolVersion))];
  if (toolVersions.length > 1) warnings.push(`The runs were made by different nsrig versions (${toolVersions.join(', ')}).`);
  const verdict: Verdict = runs.every((r) => r.verdict === 'PASS') && summary.passed > 0 ? 'PASS' : 'FAIL';

  const syscallCharts = runs
    .map((run, i) => buildSyscallChart(`syscalls-${i + 1}`, run.target, run.results.syscallProfiles ?? []))
    .filter((c): c is SyscallChart => c !== null);

  const first = runs[0]!;
  const headline = multi
    ? `${targets.join(' · ')} side by side · seed ${[...new Set(runs.map((r) => r.seed))].join(', ')}`
    : `${first.target} ${first.version} · seed ${first.seed} · ${plural(first.runs, 'run')} per invariant`;
  return {
    verdict,
    verdictReasons: verdictReasons(runs, summary, incomplete, multi),
    summary,
    generatedCases: summary.cases.toLocaleString('en-US'),
    multiTarget: multi,
    targets,
    headline,
    startedAt: first.startedAt,
    runs,
    areas: areaGroups,
    failures,
    targetErrors,
    skipped,
    syscallCharts,
    files: allFiles.map(fileView),
    warnings,
    toolVersions: toolVersions.join(', '),
    matrixColumns: 2 + targets.length,
    invariantColumns: 3 + (multi ? targets.length : 3),
  };
}
