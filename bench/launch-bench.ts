// Launch latency of the built-in engine beside unshare, bwrap, crun and runc, in one run:
// one CLI process per container under hyperfine, then launches from one long-lived Node
// process (what the harness does), sequentially and several in flight.
import os from 'node:os';
import { killLiveContainersOnExit, liveContainers } from '../core/live-containers.js';
import {
  crunHostProblem, prepareHostForCrun, undoHostPreparation, type HostPreparation,
} from '../harness/targets/oci/crun-host-preparation.js';
import { NSRIG_CLI, type BenchContext } from './bench-context.js';
import {
  EQUIVALENT_PROFILE, leftoverContainers, prepareEquivalentContainers, probeContainer,
  type EquivalentContainer, type ProbeObservation,
} from './equivalent-containers.js';
import { runHyperfine, type HyperfineCommand } from './hyperfine.js';
import { launchWithCli, launchWithLibrary, measureThroughput, type NamedLaunch } from './in-process-launches.js';
import { describeMachine, machineLine, type Machine } from './machine.js';
import { markdownTable } from './markdown-table.js';
import { ratio, type TimingSummary } from './statistics.js';

export interface LaunchSettings {
  /** hyperfine runs per CLI row (enough for a p95) and warm-up runs. */
  runs: number;
  warmup: number;
  /** Launches per in-process row, and how many are in flight in the concurrent rows. */
  launches: number;
  inFlight: number;
  /** Rounds every row's runs or launches are split into, taken in turn (see runHyperfine). */
  rounds: number;
}

export interface CliRow {
  name: string;
  /** A reference row (no container) rather than a launcher. */
  reference: boolean;
  command: string;
  timing: TimingSummary;
  userMs: number;
  systemMs: number;
  medianRatioToNsrig: number;
  p95RatioToNsrig: number;
}

export interface InProcessRow {
  name: string;
  how: string;
  inFlight: number;
  launches: number;
  seconds: number;
  containersPerSecond: number;
  timing: TimingSummary;
  rateRatioToNsrig: number;
  medianRatioToNsrig: number;
}

export interface LaunchReport {
  benchmark: 'launch';
  machine: Machine;
  settings: LaunchSettings;
  profile: typeof EQUIVALENT_PROFILE;
  containers: { name: string; setup: string; probe: ProbeObservation }[];
  skipped: { name: string; reason: string }[];
  /**
   * What was done to the host so crun 1.8 runs here, and how it was undone. `needed` is why the
   * host needed it (null when it did not, or another process had already prepared it); `leaseHeld`
   * says this run held a lease on it (with no `changes`: another process made the mounts and undoes them).
   */
  hostPreparation: { needed: string | null; leaseHeld: boolean; changes: string[]; undone: string[] };
  cli: CliRow[];
  inProcess: InProcessRow[];
  /** Anything left once the bench was done; every list should be empty. */
  leftovers: { crunState: string[]; runcState: string[]; nsrigContainers: number };
  loadAverageAfter: number[];
}

const HYPERFINE_ID = 'nsrig-bench-hyperfine';
const TRUE = ['true'];

export async function runLaunchBench(ctx: BenchContext, settings: LaunchSettings): Promise<LaunchReport> {
  killLiveContainersOnExit();
  const machine = describeMachine();
  const skipped: LaunchReport['skipped'] = [];

  // crun 1.8 refuses this host's hybrid cgroup layout. The preparation is explicit and undone
  // below; it is asked for even when the host looks ready, because another nsrig process may have
  // prepared it, and only a lease of our own keeps that holder from undoing it under us.
  const needed = crunHostProblem() ?? null;
  let preparation: HostPreparation | undefined;
  let undone: string[] | undefined;
  const undoPreparation = (): string[] => {
    if (preparation !== undefined && undone === undefined) undone = undoHostPreparation(preparation);
    return undone ?? [];
  };
  ctx.progress('preparing the host for crun where it needs it (cgroup controllers off cgroup2)');
  try {
    preparation = prepareHostForCrun();
    ctx.teardown.add('undo the crun host preparation', () => void undoPreparation());
  } catch (error) {
    skipped.push({ name: 'crun run', reason: `host preparation failed: ${(error as Error).message}` });
  }

  const workspace = prepareEquivalentContainers(ctx);
  const containers: LaunchReport['containers'] = [];
  const usable: EquivalentContainer[] = [];
  for (const container of workspace.containers) {
    if (skipped.some((s) => s.name === container.name)) continue;
    ctx.progress(`probing ${container.name}`);
    try {
      const probe = probeContainer(container, 'nsrig-bench-probe');
      if (probe.sharedWithHost.length > 0) throw new Error(`${container.name} shares ${probe.sharedWithHost.join(', ')} with the host`);
      containers.push({ name: container.name, setup: container.setup, probe });
      usable.push(container);
    } catch (error) {
      if (container.name === 'nsrig run') throw error;
      skipped.push({ name: container.name, reason: (error as Error).message });
    }
  }

  ctx.progress(`hyperfine: ${usable.length} launchers and 3 references, ${settings.runs} runs each`);
  const commands: HyperfineCommand[] = [
    ...usable.map((c) => ({ name: c.name, argv: c.argv(HYPERFINE_ID, TRUE) })),
    { name: 'nsrig --version (reference: CLI start-up)', argv: [process.execPath, NSRIG_CLI, '--version'] },
    { name: 'node -e 0 (reference: Node start-up)', argv: [process.execPath, '-e', '0'] },
    { name: 'true (reference: no container)', argv: TRUE },
  ];
  const measured = await runHyperfine(commands, {
    runs: settings.runs, warmup: settings.warmup, rounds: settings.rounds, workDir: ctx.workDir, interactive: ctx.interactive, teardown: ctx.teardown,
  });
  const nsrigCli = measured[0]!.timing;
  const cli: CliRow[] = measured.map((row) => ({
    ...row,
    reference: row.name.includes('reference'),
    medianRatioToNsrig: ratio(row.timing.medianMs, nsrigCli.medianMs),
    p95RatioToNsrig: ratio(row.timing.p95Ms, nsrigCli.p95Ms),
  }));

  const inProcessLaunchers: NamedLaunch[] = [
    { name: 'nsrig', how: 'launchContainer()', launch: launchWithLibrary(workspace.profile, TRUE) },
    ...usable.filter((c) => c.name !== 'nsrig run').map((c) => ({
      name: c.name,
      how: 'child_process.spawn',
      launch: launchWithCli(c.name, (i) => c.argv(i < 0 ? `nsrig-bench-warmup${-i}` : `nsrig-bench-${i}`, TRUE)),
    })),
  ];
  const inProcess: InProcessRow[] = [];
  for (const inFlight of [1, settings.inFlight]) {
    ctx.progress(`${inProcessLaunchers.length} launchers, ${settings.launches} launches each from this process, ${inFlight} in flight`);
    const results = await measureThroughput(inProcessLaunchers, { launches: settings.launches, inFlight, warmup: settings.warmup, rounds: settings.rounds });
    const nsrig = results[0]!;
    for (const r of results) {
      inProcess.push({
        ...r,
        rateRatioToNsrig: ratio(r.containersPerSecond, nsrig.containersPerSecond),
        medianRatioToNsrig: ratio(r.timing.medianMs, nsrig.timing.medianMs),
      });
    }
  }

  const leftovers = {
    crunState: leftoverContainers(workspace.stateRoots.crun),
    runcState: leftoverContainers(workspace.stateRoots.runc),
    nsrigContainers: liveContainers.size,
  };
  ctx.progress('undoing the crun host preparation');
  const undoneSteps = undoPreparation();
  return {
    benchmark: 'launch',
    machine,
    settings,
    profile: EQUIVALENT_PROFILE,
    containers,
    skipped,
    hostPreparation: { needed, leaseHeld: preparation?.lease !== undefined, changes: preparation?.changes ?? [], undone: undoneSteps },
    cli,
    inProcess,
    leftovers,
    loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The two tables as markdown, with what they were measured on. */
export function launchTables(report: LaunchReport): string {
  const cli = markdownTable(
    ['launcher (one CLI process per container)', 'median ms', 'p95 ms', '× nsrig median', '× nsrig p95', 'user+sys CPU ms'],
    report.cli.map((r) => [r.name, r.timing.medianMs, r.timing.p95Ms, r.medianRatioToNsrig, r.p95RatioToNsrig, r.userMs + r.systemMs]),
    new Set([1, 2, 3, 4, 5]),
  );
  const inProcess = markdownTable(
    ['launcher (from one Node process)', 'how', 'in flight', 'containers/s', 'median ms', 'p95 ms', '× nsrig rate', '× nsrig median'],
    report.inProcess.map((r) => [r.name, r.how, r.inFlight, r.containersPerSecond, r.timing.medianMs, r.timing.p95Ms, r.rateRatioToNsrig, r.medianRatioToNsrig]),
    new Set([2, 3, 4, 5, 6, 7]),
  );
  const s = report.settings;
  const lines = [
    `Launch latency, running \`true\` — ${machineLine(report.machine)}`,
    '',
    `hyperfine -N, ${s.runs} runs of each row after ${s.warmup} warm-up runs, in ${s.rounds} interleaved rounds:`,
    '',
    cli,
    '',
    `${s.launches} launches per row after ${s.warmup} warm-up launches, in ${s.rounds} interleaved rounds; latency is call → container gone:`,
    '',
    inProcess,
  ];
  for (const skip of report.skipped) lines.push('', `skipped ${skip.name}: ${skip.reason}`);
  const prep = report.hostPreparation;
  if (prep.leaseHeld) {
    const made = prep.changes.length > 0 ? prep.changes.join('; ') : 'made earlier by another nsrig process, held jointly';
    const undoneText = prep.undone.length > 0 ? prep.undone.join('; ') : 'left to the other holder';
    lines.push('', `crun host preparation: ${made}; undone: ${undoneText}`);
  }
  return lines.join('\n');
}
