// The command line of `make bench`: which parts run, how many runs, where results go. Each part
// prints its tables (on a TTY or not) and writes bench/results/<part>.json; progress lines and
// hyperfine's bars appear only on a terminal. Everything the run created is removed at the end.
import { parseArgs } from 'node:util';
import { createBenchContext, DEFAULT_RESULTS_DIR, writeResult, type BenchContext } from './bench-context.js';
import { launchTables, runLaunchBench, type LaunchSettings } from './launch-bench.js';
import { runTracingBench, tracingTables, type TracingSettings } from './tracing-bench.js';

export type BenchPart = 'launch' | 'tracing';

const USAGE = `usage: node dist/bench/launch.js [options]     (make bench; both parts)
       node dist/bench/tracing.js [options]    (the tracing part alone)
  --only launch|tracing   run one part (default: both)
  --runs N                hyperfine runs per launch row (default 50)
  --launches N            launches per in-process row (default 200)
  --in-flight N           containers in flight in the concurrent rows (default 8)
  --warmup N              warm-up runs or launches per row (default 5)
  --tracing-runs N        runs per tracing row (default 10)
  --rounds N              interleaved rounds each row's runs are split into (default 5)
  --out DIR               where the JSON results go (default bench/results)
`;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(value)}\n${USAGE}`);
  return n;
}

interface Settings {
  launch: LaunchSettings;
  tracing: TracingSettings;
}

/** Every number checked before anything runs: a typo must not surface after a 15-minute part. */
function readSettings(values: Record<string, string | undefined>): Settings {
  const warmup = positiveInteger('warmup', values.warmup, 5);
  const rounds = positiveInteger('rounds', values.rounds, 5);
  return {
    launch: {
      runs: positiveInteger('runs', values.runs, 50),
      warmup,
      launches: positiveInteger('launches', values.launches, 200),
      inFlight: positiveInteger('in-flight', values['in-flight'], 8),
      rounds,
    },
    // A traced dd run takes seconds: one warm-up run is enough to settle caches.
    tracing: { runs: positiveInteger('tracing-runs', values['tracing-runs'], 10), warmup: 1, rounds },
  };
}

async function runPart(ctx: BenchContext, part: BenchPart, settings: Settings): Promise<void> {
  if (part === 'launch') {
    const report = await runLaunchBench(ctx, settings.launch);
    process.stdout.write(`${launchTables(report)}\n\n`);
    process.stdout.write(`written: ${writeResult(ctx.resultsDir, 'launch.json', report)}\n\n`);
  } else {
    const report = await runTracingBench(ctx, settings.tracing);
    process.stdout.write(`${tracingTables(report)}\n\n`);
    process.stdout.write(`written: ${writeResult(ctx.resultsDir, 'tracing.json', report)}\n\n`);
  }
}

/** Runs the parts `defaults` names unless --only says otherwise; returns the exit code. */
export async function benchMain(argv: string[], defaults: BenchPart[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv, strict: true,
      options: {
        only: { type: 'string' }, runs: { type: 'string' }, launches: { type: 'string' }, 'in-flight': { type: 'string' },
        warmup: { type: 'string' }, 'tracing-runs': { type: 'string' }, rounds: { type: 'string' }, out: { type: 'string' },
        help: { type: 'boolean' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = values.only as string | undefined;
  if (only !== undefined && only !== 'launch' && only !== 'tracing') {
    process.stderr.write(`--only: expected launch or tracing, got ${JSON.stringify(only)}\n${USAGE}`);
    return 2;
  }
  const parts = only === undefined ? defaults : [only as BenchPart];
  let settings: Settings;
  try {
    settings = readSettings(values as Record<string, string | undefined>);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const ctx = createBenchContext((values.out as string | undefined) ?? DEFAULT_RESULTS_DIR);
  let status = 0;
  try {
    for (const part of parts) await runPart(ctx, part, settings);
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
    status = 1;
  } finally {
    for (const problem of ctx.teardown.runAll()) {
      process.stderr.write(`bench: cleanup failed: ${problem}\n`);
      status = 1;
    }
  }
  return status;
}
