// What tracing costs: each workload untraced, under `strace -f -c`, under `strace -f
// --seccomp-bpf -c`, and under `nsrig trace` (host mode) with each backend, all through hyperfine;
// then nsrig's tracer library from this long-lived process, beside an untraced launch through the
// same engine, so the tracer's own share can be told from the launch's. Last, what an active eBPF
// trace costs the host's other processes: an untraced syscall loop, with and without one running.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describeExit, launchContainer } from '../core/container.js';
import { killLiveContainersOnExit } from '../core/live-containers.js';
import { ebpfAvailability, hostProfile, traceCommand, type TraceBackend } from '../core/tracer/index.js';
import type { BenchContext } from './bench-context.js';
import { NSRIG_CLI } from './bench-context.js';
import { runHyperfine } from './hyperfine.js';
import { describeMachine, machineLine, type Machine } from './machine.js';
import { markdownTable } from './markdown-table.js';
import { ratio, summarize, type TimingSummary } from './statistics.js';

export interface Workload {
  name: string;
  argv: string[];
}

export const WORKLOADS: Workload[] = [
  { name: 'syscall-heavy', argv: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=200000'] },
  { name: 'process-heavy', argv: ['sh', '-c', 'for i in $(seq 200); do /bin/true; done'] },
  { name: 'ordinary', argv: ['ls', '-lR', '/usr/share/doc'] },
  // read + write per byte: 200,000 traced calls and a few dozen more.
  { name: 'dd-200k-calls', argv: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=100000'] },
];

/** The host's other work while a trace runs: an untraced loop of system calls outside any container. */
export const BYSTANDER: Workload = { name: 'bystander', argv: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=100000'] };

export interface TracingSettings {
  runs: number;
  warmup: number;
  /** hyperfine rounds the runs are split into (see runHyperfine); the library rows alternate run by run. */
  rounds: number;
}

export interface TracingRow {
  workload: string;
  variant: string;
  /** hyperfine's command line, or the library call made from this process. */
  command: string;
  timing: TimingSummary;
  medianRatioToUntraced: number;
  medianRatioToStrace: number;
}

export interface SyscallTotals {
  workload: string;
  /** Calls counted by `strace -f -c` (its "total" line) and by nsrig's tracer, in one run each. */
  strace: { calls: number; errors: number };
  nsrig: { calls: number; errors: number; processes: number };
  /** Extra time per system call over each variant's own untraced baseline, in microseconds. */
  extraMicrosecondsPerCall: Record<string, number>;
}

export interface TracingReport {
  benchmark: 'tracing';
  machine: Machine;
  settings: TracingSettings;
  workloads: Workload[];
  rows: TracingRow[];
  syscalls: SyscallTotals[];
  /** The bystander loop untraced, then while an eBPF trace of another cgroup is active. */
  bystander?: { quiet: TimingSummary; duringEbpfTrace: TimingSummary; ratio: number };
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

export const VARIANTS = {
  untraced: 'untraced',
  strace: 'strace -f -c',
  straceBpf: 'strace -f --seccomp-bpf -c',
  nsrigCli: 'nsrig trace --backend ptrace (CLI)',
  nsrigCliEbpf: 'nsrig trace --backend ebpf (CLI)',
  libraryLaunch: 'library: launch, untraced',
  libraryTrace: 'library: traceCommand',
  libraryTraceNoErrors: 'library: traceCommand, countErrors false',
  libraryTraceEbpf: 'library: traceCommand, backend ebpf',
} as const;

/**
 * Each variant `runs` times after `warmup` runs, taken in turn (A B C A B C ...) so that load
 * drifting on the host falls on all of them alike. The library drains its own pipes.
 */
async function timeInTurn(runs: number, warmup: number, variants: (() => Promise<void>)[]): Promise<TimingSummary[]> {
  for (let i = 0; i < warmup; i++) for (const once of variants) await once();
  const samples = variants.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, once] of variants.entries()) {
      const t0 = performance.now();
      await once();
      samples[k]!.push(performance.now() - t0);
    }
  }
  return samples.map(summarize);
}

async function launchUntraced(argv: string[]): Promise<void> {
  const container = await launchContainer(hostProfile(argv), { stdio: 'pipe', stdin: 'null' });
  container.stdout?.resume();
  container.stderr?.resume();
  const exit = await container.wait();
  if (exit.code !== 0) throw new Error(`${argv.join(' ')} (untraced, library) ended with ${describeExit(exit)}`);
}

async function traceOnce(argv: string[], countErrors: boolean, backend: TraceBackend = 'ptrace'): Promise<{ calls: number; errors: number; processes: number }> {
  const r = await traceCommand(argv, { stdio: 'pipe', stdin: 'null', countErrors, backend });
  if (r.exit.code !== 0) throw new Error(`${argv.join(' ')} (traced, library) ended with ${describeExit(r.exit)}`);
  return {
    calls: r.totals.reduce((n, t) => n + t.count, 0),
    errors: r.totals.reduce((n, t) => n + t.errors, 0),
    processes: r.processes.length,
  };
}

/** The "total" line of `strace -c`: calls and errors over every process followed. */
export function readStraceTotal(summary: string): { calls: number; errors: number } {
  const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?total\s*$/m.exec(summary);
  if (!m) throw new Error(`no total line in strace's summary:\n${summary}`);
  return { calls: Number(m[1]), errors: Number(m[2] ?? 0) };
}

function straceTotals(ctx: BenchContext, argv: string[]): { calls: number; errors: number } {
  const file = path.join(ctx.workDir, 'strace-summary.txt');
  // Output into a pipe, as in the tracer's run: ls makes one ioctl fewer on a pipe than on /dev/null.
  const r = spawnSync('strace', ['-f', '-c', '-o', file, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`strace -f -c ${argv.join(' ')} ended with ${r.error?.message ?? `exit ${r.status}`}`);
  return readStraceTotal(fs.readFileSync(file, 'utf8'));
}

/** The bystander loop through hyperfine, alone and while `nsrig trace --backend ebpf -- sleep` runs. */
async function bystanderCost(ctx: BenchContext, settings: TracingSettings): Promise<TracingReport['bystander']> {
  const options = { runs: settings.runs, warmup: settings.warmup, rounds: settings.rounds, workDir: ctx.workDir, interactive: ctx.interactive, output: 'pipe' as const, teardown: ctx.teardown };
  const [quiet] = await runHyperfine([{ name: 'bystander, no trace', argv: BYSTANDER.argv }], options);
  const tracer = spawn(process.execPath, [NSRIG_CLI, 'trace', '--backend', 'ebpf', '--', 'sleep', '3600'], { stdio: 'ignore' });
  try {
    // The programs are attached once the traced sleep runs: its process is then in the tree.
    for (let i = 0; i < 200 && !spawnSync('pgrep', ['-P', String(tracer.pid), '-x', 'sleep'], { encoding: 'utf8' }).stdout?.trim(); i++) await new Promise((r) => setTimeout(r, 50));
    const [during] = await runHyperfine([{ name: 'bystander, eBPF trace active', argv: BYSTANDER.argv }], options);
    return { quiet: quiet!.timing, duringEbpfTrace: during!.timing, ratio: ratio(during!.timing.medianMs, quiet!.timing.medianMs) };
  } finally {
    tracer.kill('SIGTERM');
    await new Promise((r) => tracer.once('exit', r));
  }
}

export async function runTracingBench(ctx: BenchContext, settings: TracingSettings): Promise<TracingReport> {
  killLiveContainersOnExit();
  const machine = describeMachine();
  const loadAverageBefore = os.loadavg().map((l) => Math.round(l * 100) / 100);
  const ebpf = ebpfAvailability().available;
  if (!ebpf) ctx.progress(`eBPF rows left out: ${(ebpfAvailability() as { reason: string }).reason}`);
  const rows: TracingRow[] = [];
  const syscalls: SyscallTotals[] = [];
  for (const workload of WORKLOADS) {
    const { argv } = workload;
    ctx.progress(`${workload.name}: hyperfine, ${settings.runs} runs of each variant`);
    const measured = await runHyperfine([
      { name: VARIANTS.untraced, argv },
      { name: VARIANTS.strace, argv: ['strace', '-f', '-c', '-o', '/dev/null', ...argv] },
      { name: VARIANTS.straceBpf, argv: ['strace', '-f', '--seccomp-bpf', '-c', '-o', '/dev/null', ...argv] },
      { name: VARIANTS.nsrigCli, argv: [process.execPath, NSRIG_CLI, 'trace', '--backend', 'ptrace', '--', ...argv] },
      ...(ebpf ? [{ name: VARIANTS.nsrigCliEbpf, argv: [process.execPath, NSRIG_CLI, 'trace', '--backend', 'ebpf', '--', ...argv] }] : []),
    ], {
      runs: settings.runs, warmup: settings.warmup, rounds: settings.rounds, workDir: ctx.workDir, interactive: ctx.interactive, output: 'pipe', teardown: ctx.teardown,
    });

    ctx.progress(`${workload.name}: the tracer library from this process, ${settings.runs} runs of each variant`);
    const [launchTiming, traceTiming, traceNoErrorsTiming, traceEbpfTiming] = await timeInTurn(settings.runs, settings.warmup, [
      () => launchUntraced(argv),
      async () => void await traceOnce(argv, true),
      async () => void await traceOnce(argv, false),
      ...(ebpf ? [async () => void await traceOnce(argv, true, 'ebpf')] : []),
    ]);
    const library = [
      { variant: VARIANTS.libraryLaunch, command: 'launchContainer(hostProfile(argv))', timing: launchTiming! },
      { variant: VARIANTS.libraryTrace, command: 'traceCommand(argv)', timing: traceTiming! },
      { variant: VARIANTS.libraryTraceNoErrors, command: 'traceCommand(argv, { countErrors: false })', timing: traceNoErrorsTiming! },
      ...(traceEbpfTiming ? [{ variant: VARIANTS.libraryTraceEbpf, command: "traceCommand(argv, { backend: 'ebpf' })", timing: traceEbpfTiming }] : []),
    ];

    const untraced = measured[0]!.timing.medianMs;
    const strace = measured[1]!.timing.medianMs;
    const all = [...measured.map((m) => ({ variant: m.name, command: m.command, timing: m.timing })), ...library];
    for (const row of all) {
      rows.push({
        workload: workload.name, ...row,
        medianRatioToUntraced: ratio(row.timing.medianMs, untraced),
        medianRatioToStrace: ratio(row.timing.medianMs, strace),
      });
    }

    const counted = await traceOnce(argv, true);
    const perCall = (variant: number, baseline: number): number => Math.round(((variant - baseline) * 1000 / counted.calls) * 1000) / 1000;
    const libraryLaunch = library[0]!.timing.medianMs;
    syscalls.push({
      workload: workload.name,
      strace: straceTotals(ctx, argv),
      nsrig: counted,
      extraMicrosecondsPerCall: {
        [VARIANTS.strace]: perCall(strace, untraced),
        [VARIANTS.straceBpf]: perCall(measured[2]!.timing.medianMs, untraced),
        [VARIANTS.nsrigCli]: perCall(measured[3]!.timing.medianMs, untraced),
        [VARIANTS.libraryTrace]: perCall(library[1]!.timing.medianMs, libraryLaunch),
        [VARIANTS.libraryTraceNoErrors]: perCall(library[2]!.timing.medianMs, libraryLaunch),
        ...(ebpf ? {
          [VARIANTS.nsrigCliEbpf]: perCall(measured[4]!.timing.medianMs, untraced),
          [VARIANTS.libraryTraceEbpf]: perCall(library[3]!.timing.medianMs, libraryLaunch),
        } : {}),
      },
    });
  }
  return {
    benchmark: 'tracing',
    machine,
    settings,
    workloads: WORKLOADS,
    rows,
    syscalls,
    ...(ebpf ? { bystander: await bystanderCost(ctx, settings) } : {}),
    loadAverageBefore,
    loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export function tracingTables(report: TracingReport): string {
  const times = markdownTable(
    ['workload', 'variant', 'median ms', 'p95 ms', '× untraced', '× strace -f -c'],
    report.rows.map((r) => [r.workload, r.variant, r.timing.medianMs, r.timing.p95Ms, r.medianRatioToUntraced, r.medianRatioToStrace]),
    new Set([2, 3, 4, 5]),
  );
  const perCallVariants = Object.keys(report.syscalls[0]?.extraMicrosecondsPerCall ?? {});
  const counts = markdownTable(
    ['workload', 'calls (strace)', 'calls (nsrig)', 'processes', ...perCallVariants.map((v) => `µs/call: ${v}`)],
    report.syscalls.map((s) => [s.workload, s.strace.calls, s.nsrig.calls, s.nsrig.processes, ...perCallVariants.map((v) => s.extraMicrosecondsPerCall[v])]),
    new Set([1, 2, 3, ...perCallVariants.map((_, i) => 4 + i)]),
  );
  const s = report.settings;
  return [
    `Tracing overhead — ${machineLine(report.machine)}`,
    '',
    `${s.runs} runs per row after ${s.warmup} warm-up run(s); hyperfine rows (-N, output into a pipe, ${s.rounds} interleaved rounds) first, ` +
      'then the library from one Node process (variants alternating run by run):',
    '',
    times,
    '',
    'System calls counted in one run each, and the extra time per call over each variant\'s untraced baseline ' +
      '(the CLI rows: the untraced command; the library rows: the untraced library launch):',
    '',
    counts,
    ...(report.bystander ? [
      '',
      `What an active eBPF trace costs the host's other processes: \`${BYSTANDER.argv.join(' ')}\`, untraced, outside the traced cgroup:`,
      '',
      markdownTable(['bystander', 'median ms', 'p95 ms', '× quiet'], [
        ['no trace running', report.bystander.quiet.medianMs, report.bystander.quiet.p95Ms, 1],
        ['an eBPF trace running', report.bystander.duringEbpfTrace.medianMs, report.bystander.duringEbpfTrace.p95Ms, report.bystander.ratio],
      ], new Set([1, 2, 3])),
    ] : []),
    '',
    `Load average before: ${report.loadAverageBefore.join(' ')}; after: ${report.loadAverageAfter.join(' ')}`,
  ].join('\n');
}
