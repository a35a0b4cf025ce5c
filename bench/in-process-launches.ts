// Launches from one long-lived Node process, as the harness makes them: nsrig through
// launchContainer (no CLI start-up per container; stage 2 is still a Node process), the others by spawning
// their CLI. Each launch is timed from the call until the container is gone.
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { describeExit, launchContainer } from '../core/container.js';
import type { Profile } from '../policy/profile/types.js';
import { summarize, type TimingSummary } from './statistics.js';

export interface ThroughputResult {
  launches: number;
  inFlight: number;
  seconds: number;
  containersPerSecond: number;
  /** Per launch: from the call to the container torn down. */
  timing: TimingSummary;
}

export type LaunchOne = (index: number) => Promise<void>;

export interface NamedLaunch {
  name: string;
  how: string;
  launch: LaunchOne;
}

export interface ThroughputSettings {
  launches: number;
  inFlight: number;
  /** Uncounted launches of each launcher before the first round. */
  warmup: number;
  /** Batches each launcher's launches are split into, taken in turn with the other launchers'. */
  rounds: number;
}

/** `count` launches with at most `inFlight` alive at once; each one's latency in ms. */
async function runBatch(launch: LaunchOne, firstIndex: number, count: number, inFlight: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const index = firstIndex + next++;
      const t0 = performance.now();
      await launch(index);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return latencies;
}

/**
 * Each launcher's rate and latencies. The launches are made in rounds, every launcher taking its
 * turn in each, so load that drifts on a shared host falls on all of them alike; a round ends
 * with its last launch, which costs a little of the concurrent rows' rate (fewer in flight at the
 * tail). Any failed launch fails the measurement: a rate that hides failures is no rate.
 */
export async function measureThroughput(launchers: NamedLaunch[], settings: ThroughputSettings): Promise<(ThroughputResult & { name: string; how: string })[]> {
  for (const l of launchers) for (let i = 0; i < settings.warmup; i++) await l.launch(-1 - i);
  const totals = launchers.map(() => ({ latencies: [] as number[], ms: 0 }));
  const rounds = Math.max(1, Math.min(settings.rounds, settings.launches));
  let done = 0;
  for (let round = 0; round < rounds; round++) {
    const count = Math.floor(settings.launches / rounds) + (round < settings.launches % rounds ? 1 : 0);
    for (const [k, l] of launchers.entries()) {
      const start = performance.now();
      totals[k]!.latencies.push(...await runBatch(l.launch, done, count, settings.inFlight));
      totals[k]!.ms += performance.now() - start;
    }
    done += count;
  }
  return launchers.map((l, k) => {
    const seconds = totals[k]!.ms / 1000;
    return {
      name: l.name,
      how: l.how,
      launches: settings.launches,
      inFlight: settings.inFlight,
      seconds: Math.round(seconds * 1000) / 1000,
      containersPerSecond: Math.round((settings.launches / seconds) * 100) / 100,
      timing: summarize(totals[k]!.latencies),
    };
  });
}

/** One nsrig container through the library; its output is drained so its pipes close. */
export function launchWithLibrary(profile: Profile, program: string[]): LaunchOne {
  return async () => {
    const container = await launchContainer(profile, { stdio: 'pipe', stdin: 'null', args: program });
    container.stdout?.resume();
    container.stderr?.resume();
    const exit = await container.wait();
    if (exit.code !== 0) throw new Error(`nsrig (library): ${program.join(' ')} ended with ${describeExit(exit)}`);
  };
}

/** One container through a launcher's CLI, spawned from this process. */
export function launchWithCli(name: string, argvFor: (index: number) => string[]): LaunchOne {
  return (index) => new Promise((resolve, reject) => {
    const argv = argvFor(index);
    // Pipes, never /dev/null: crun would chown that (private-dev-null.ts).
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.end();
    child.stdout!.resume();
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name}: ${argv.join(' ')} ended with ${signal ?? `exit ${code}`}: ${stderr.trim()}`));
    });
  });
}
