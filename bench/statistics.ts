// Summaries of timing samples. Percentiles interpolate linearly between the two nearest ranks
// (numpy's default), so a p95 of 50 runs sits between the 47th and 48th fastest.

export interface TimingSummary {
  runs: number;
  medianMs: number;
  p95Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  const rank = (sorted.length - 1) * q;
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

/** Samples in milliseconds. */
export function summarize(samplesMs: readonly number[]): TimingSummary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    medianMs: round(percentile(sorted, 0.5)),
    p95Ms: round(percentile(sorted, 0.95)),
    meanMs: round(sorted.reduce((s, x) => s + x, 0) / sorted.length),
    minMs: round(sorted[0]!),
    maxMs: round(sorted[sorted.length - 1]!),
  };
}

/** a / b to three significant digits; what the tables call "× nsrig" or "× untraced". */
export function ratio(a: number, b: number): number {
  return Number((a / b).toPrecision(3));
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
