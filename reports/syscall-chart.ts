// The geometry of the syscall bar chart. The template draws these numbers as SVG elements, so
// every name in the chart goes through the template's escaping like any other text, and no
// chart library (or its network fetches) is involved.
import type { SyscallProfile } from '../harness/results.js';

export interface ChartBar {
  name: string;
  /** The name as drawn: long names are shortened; `name` stays whole in the bar's tooltip. */
  shownName: string;
  count: number;
  errors: number;
  /** Calls the policy does not allow; 0 when the syscall is allowed. */
  violationCount: number;
  violation: boolean;
  /** Top of the bar's row; a violation's whole row is tinted. */
  rowY: number;
  y: number;
  textY: number;
  barWidth: number;
  countX: number;
  countLabel: string;
}

export interface ChartTick {
  x: number;
  label: string;
}

export interface SyscallChart {
  /** Unique in the document: ties the SVG to its title and description for screen readers. */
  id: string;
  target: string;
  caseIds: string[];
  totalCalls: number;
  distinctSyscalls: number;
  width: number;
  height: number;
  labelX: number;
  plotX: number;
  plotWidth: number;
  plotTop: number;
  plotBottom: number;
  tickLabelY: number;
  barHeight: number;
  rowHeight: number;
  bars: ChartBar[];
  ticks: ChartTick[];
  /** One sentence saying what the chart shows, for screen readers and the print-out. */
  description: string;
  violations: { caseId: string; name: string; count: number }[];
}

const WIDTH = 960;
const LABEL_WIDTH = 180;
const VALUE_WIDTH = 250;
const ROW = 22;
const BAR = 14;
const TOP = 6;
const AXIS = 26;
const MAX_NAME = 24;

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A tick step of 1, 2, 2.5 or 5 times a power of ten, giving about `target` intervals. */
function tickStep(max: number, target: number): number {
  const raw = Math.max(max / target, 1);
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  // Counts are whole numbers: a step of 2.5 only makes sense from 25 up.
  return Math.max(1, nice * power === 2.5 ? 2 : nice * power);
}

function shorten(name: string): string {
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - 1)}…`;
}

/**
 * Adds up the traced cases of one target and lays out its `topN` most frequent syscalls as
 * horizontal bars. Syscalls the policy forbids are always drawn, even outside the top N:
 * a violation hidden by a cut-off would be the one thing an auditor needed to see.
 */
export function buildSyscallChart(
  id: string,
  target: string,
  profiles: readonly SyscallProfile[],
  topN = 15,
): SyscallChart | null {
  if (profiles.length === 0) return null;
  const totals = new Map<string, { count: number; errors: number; violations: number }>();
  const entry = (name: string) => {
    let e = totals.get(name);
    if (e === undefined) totals.set(name, (e = { count: 0, errors: 0, violations: 0 }));
    return e;
  };
  for (const p of profiles) {
    for (const s of p.syscalls) {
      const e = entry(s.name);
      e.count += s.count;
      e.errors += s.errors;
    }
    for (const v of p.violations) entry(v.name).violations += v.count;
  }
  // A violation the trace did not count still happened at least violation-count times.
  for (const e of totals.values()) e.count = Math.max(e.count, e.violations);

  const byCount = [...totals.entries()].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]));
  const top = byCount.slice(0, topN);
  const hiddenViolations = byCount.slice(topN).filter(([, e]) => e.violations > 0);
  const shown = [...top, ...hiddenViolations];

  const max = Math.max(1, ...shown.map(([, e]) => e.count));
  const step = tickStep(max, 5);
  const domain = Math.ceil(max / step) * step;
  const plotX = LABEL_WIDTH;
  const plotWidth = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const plotTop = TOP;
  const plotBottom = TOP + shown.length * ROW;
  const bars: ChartBar[] = shown.map(([name, e], i) => {
    // Never thinner than 2px, so a single forbidden call stays visible beside a thousand reads.
    const barWidth = Math.max(2, Math.round((e.count / domain) * plotWidth * 10) / 10);
    const violationText =
      e.violations === 0
        ? ''
        : e.violations >= e.count
          ? ' · policy violation'
          : ` · ${formatCount(e.violations)} policy violation${e.violations === 1 ? '' : 's'}`;
    return {
      name,
      shownName: shorten(name),
      count: e.count,
      errors: e.errors,
      violationCount: e.violations,
      violation: e.violations > 0,
      rowY: plotTop + i * ROW,
      y: plotTop + i * ROW + (ROW - BAR) / 2,
      textY: plotTop + i * ROW + ROW / 2 + 4,
      barWidth,
      countX: plotX + barWidth + 6,
      countLabel: `${formatCount(e.count)}${violationText}`,
    };
  });
  const ticks: ChartTick[] = [];
  for (let v = 0; v <= domain; v += step) {
    ticks.push({ x: Math.round((plotX + (v / domain) * plotWidth) * 10) / 10, label: formatCount(v) });
  }
  const violations = profiles.flatMap((p) => p.violations.map((v) => ({ caseId: p.caseId, name: v.name, count: v.count })));
  const totalCalls = [...totals.values()].reduce((sum, e) => sum + e.count, 0);
  const violatingNames = [...totals.entries()].filter(([, e]) => e.violations > 0).map(([n]) => n);
  const description =
    `${target}: ${formatCount(totalCalls)} system calls of ${totals.size} kinds over ${profiles.length} traced ` +
    `case${profiles.length === 1 ? '' : 's'}; ` +
    (violatingNames.length === 0 ? 'no policy violations.' : `policy violations: ${violatingNames.join(', ')}.`);
  return {
    id,
    target,
    caseIds: profiles.map((p) => p.caseId),
    totalCalls,
    distinctSyscalls: totals.size,
    width: WIDTH,
    height: plotBottom + AXIS,
    labelX: plotX - 8,
    plotX,
    plotWidth,
    plotTop,
    plotBottom,
    tickLabelY: plotBottom + 16,
    barHeight: BAR,
    rowHeight: ROW,
    bars,
    ticks,
    description,
    violations,
  };
}
