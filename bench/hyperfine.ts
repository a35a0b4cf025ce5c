// One hyperfine run over several commands, read back from its --export-json file. Commands are
// argv arrays run without a shell (-N), so no row pays for a shell the others do not.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { summarize, type TimingSummary } from './statistics.js';
import type { Teardown } from './teardown.js';
import { withPrivateDevNull } from './private-dev-null.js';

export interface HyperfineCommand {
  name: string;
  argv: string[];
}

export interface HyperfineOptions {
  runs: number;
  warmup: number;
  /** Where to keep the export file (a temp directory the caller removes). */
  workDir: string;
  /** On a terminal hyperfine draws its progress bars; otherwise it stays silent. */
  interactive: boolean;
  /** hyperfine processes the runs are split over, so that load drifting on the host hits every command alike. */
  rounds?: number;
  /** "pipe" makes every command write into a pipe, so none can take a /dev/null shortcut. */
  output?: 'null' | 'pipe';
  teardown: Teardown;
}

export interface HyperfineRow {
  name: string;
  /** The command line exactly as hyperfine ran it. */
  command: string;
  timing: TimingSummary;
  /** hyperfine's own user and system CPU means, in milliseconds. */
  userMs: number;
  systemMs: number;
}

/** hyperfine -N splits its command with POSIX shell-word rules; quote what they would split. */
export function quoteArgv(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w/.=:,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(' ');
}

interface ExportedResult {
  command: string;
  user: number;
  system: number;
  times: number[];
  exit_codes: (number | null)[];
}

/** Which commands failed in how many runs, with what one more run of each says. */
function describeFailures(commands: HyperfineCommand[], results: ExportedResult[]): string | undefined {
  const failed = results.flatMap((r, i) => {
    const bad = r.exit_codes.filter((c) => c !== 0);
    if (bad.length === 0) return [];
    const argv = commands[i]!.argv;
    // Pipes, never /dev/null: crun would chown that (private-dev-null.ts).
    const again = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 60_000, input: '', maxBuffer: 64 << 20 });
    const rerun = again.status === 0
      ? 'one more run succeeded, so the failure comes and goes'
      : `one more run: ${again.error?.message ?? `exit ${again.status}`}: ${(again.stderr ?? '').trim().split('\n').slice(-4).join(' / ')}`;
    return [`${commands[i]!.name} failed in ${bad.length} of ${r.exit_codes.length} runs (exit codes ${[...new Set(bad)].join(', ')}); ${rerun}\n  command: ${quoteArgv(argv)}`];
  });
  return failed.length === 0 ? undefined : failed.join('\n');
}

let exportCount = 0;

/** One hyperfine process over every command; its export, or an error saying why there is none. */
async function runOnce(commands: HyperfineCommand[], runs: number, warmup: number, options: HyperfineOptions): Promise<ExportedResult[]> {
  exportCount += 1;
  const exportFile = path.join(options.workDir, `hyperfine-${exportCount}.json`);
  const args = [
    // Failures are counted from the export rather than stopping hyperfine, so the error can say which command failed.
    '-N', '--ignore-failure', '--runs', String(runs), '--warmup', String(warmup),
    '--output', options.output ?? 'null', '--export-json', exportFile,
    '--style', options.interactive ? 'full' : 'none',
  ];
  for (const c of commands) args.push('--command-name', c.name);
  args.push(...commands.map((c) => quoteArgv(c.argv)));

  const [file, ...rest] = withPrivateDevNull(['hyperfine', ...args], path.join(options.workDir, 'dev-null'));
  const child = spawn(file!, rest, {
    stdio: ['ignore', options.interactive ? 'inherit' : 'ignore', 'pipe'],
    detached: true,
  });
  options.teardown.trackChild(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    if (options.interactive) process.stderr.write(s);
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    throw new Error(`hyperfine ${signal ? `was killed by ${signal}` : `exited with ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' / ')}\n` +
      `  commands: ${commands.map((c) => quoteArgv(c.argv)).join('  |  ')}`);
  }
  const exported = (JSON.parse(fs.readFileSync(exportFile, 'utf8')) as { results: ExportedResult[] }).results;
  const failures = describeFailures(commands, exported);
  if (failures !== undefined) throw new Error(`a benchmarked command failed; its timings would mean nothing:\n${failures}`);
  return exported;
}

/**
 * `runs` runs of each command, split over `rounds` hyperfine processes (warm-up in the first).
 * hyperfine runs one command's runs back to back; on a shared host whose load drifts, that would
 * charge a busy minute to one command alone. Rounds spread each command over the whole run.
 */
export async function runHyperfine(commands: HyperfineCommand[], options: HyperfineOptions): Promise<HyperfineRow[]> {
  const rounds = Math.max(1, Math.min(options.rounds ?? 1, options.runs));
  const merged = commands.map(() => ({ times: [] as number[], user: 0, system: 0 }));
  for (let round = 0; round < rounds; round++) {
    const runs = Math.floor(options.runs / rounds) + (round < options.runs % rounds ? 1 : 0);
    const exported = await runOnce(commands, runs, round === 0 ? options.warmup : 0, options);
    exported.forEach((r, i) => {
      const m = merged[i]!;
      m.times.push(...r.times);
      // hyperfine reports mean CPU times: weight each round's mean by its runs.
      m.user += r.user * r.times.length;
      m.system += r.system * r.times.length;
    });
  }
  return merged.map((m, i) => ({
    name: commands[i]!.name,
    command: quoteArgv(commands[i]!.argv),
    timing: summarize(m.times.map((s) => s * 1000)),
    userMs: Math.round((m.user / m.times.length) * 1e6) / 1000,
    systemMs: Math.round((m.system / m.times.length) * 1e6) / 1000,
  }));
}
