// Launch `/bin/true` containers with the default profile from one Node process, thousands of
// times in a row and then many at once, and count everything that went wrong: crashes (a launch
// error or an unexpected exit), hangs (a launch plus wait over the limit), and what was left on
// the host afterwards: zombies, processes, mounts, network namespaces, temp directories, cgroup
// directories, descriptors. Prints a table, writes bench/results/stress.json, and exits 1 when
// any count is not zero.
//
//   node dist/bench/stress.js --sequential 2000 --concurrent 200 --in-flight 8
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { launchContainer } from '../core/container.js';
import { killLiveContainersOnExit, liveContainers } from '../core/live-containers.js';
import { parseProfile } from '../policy/profile/load.js';
import { summarize, type TimingSummary } from './statistics.js';
import { markdownTable } from './markdown-table.js';
import { childrenOf, ourCgroupDirs, ourTempEntries, suspectHostMounts } from '../harness/host-leftovers.js';

const RESULTS = fileURLToPath(new URL('../../bench/results/stress.json', import.meta.url));
const NETNS_DIR = '/run/netns';
/**
 * /tmp/nsrig-* prefixes of other parts of nsrig (OCI bundles, harness fixtures, test and bench
 * scratch), whose tests may run in other processes while this one does. This process loads only
 * core/ and policy/profile/, so such a directory cannot be its own; any other new one is counted.
 */
const OTHER_COMPONENTS_TEMP = /^nsrig-(bench|bundle|chromium|fixture|generators-test|oci|profile|reports|strace|templates|threads)-/;

interface Failure {
  phase: string;
  launch: number;
  what: string;
}

interface PhaseResult {
  launches: number;
  ok: number;
  crashes: number;
  hangs: number;
  wallMs: number;
  latency: TimingSummary | undefined;
}

interface HostState {
  mounts: string[];
  netns: string[];
  tempDirs: string[];
  /** Cgroups of this process's containers (their ids start with nsrig-<our pid>-). */
  cgroupDirs: string[];
  fds: number;
}

function hostState(): HostState {
  return {
    mounts: suspectHostMounts(),
    netns: fs.existsSync(NETNS_DIR) ? fs.readdirSync(NETNS_DIR) : [],
    tempDirs: ourTempEntries('nsrig-').filter((p) => path.basename(p).startsWith('nsrig-')),
    cgroupDirs: ourCgroupDirs(),
    fds: fs.readdirSync('/proc/self/fd').length,
  };
}

const added = (before: string[], after: string[]) => after.filter((x) => !before.includes(x));

class Stress {
  readonly failures: Failure[] = [];
  /** Launches still running after they were counted as hangs; awaited (bounded) at the end. */
  readonly stragglers: Promise<unknown>[] = [];
  private readonly profile = parseProfile({ name: 'stress', process: { args: ['/bin/true'] } }, 'stress.yaml');

  constructor(private readonly hangMs: number) {}

  /** One launch and wait: 'ok', 'crash' or 'hang', and how long it took. */
  async once(phase: string, n: number): Promise<{ outcome: 'ok' | 'crash' | 'hang'; ms: number }> {
    const start = performance.now();
    const attempt = (async () => {
      const container = await launchContainer(this.profile, { stdio: 'pipe', stdin: 'null' });
      container.stdout?.resume();
      container.stderr?.resume();
      return container.wait();
    })();
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => { timer = setTimeout(() => resolve('hang'), this.hangMs); });
    try {
      const result = await Promise.race([attempt, hang]);
      const ms = performance.now() - start;
      if (result === 'hang') {
        this.failures.push({ phase, launch: n, what: `no exit after ${this.hangMs} ms` });
        this.stragglers.push(attempt.catch(() => undefined));
        return { outcome: 'hang', ms };
      }
      if (result.code === 0 && result.signal === null && !result.timedOut) return { outcome: 'ok', ms };
      this.failures.push({ phase, launch: n, what: `unexpected exit ${JSON.stringify(result)}` });
      return { outcome: 'crash', ms };
    } catch (e) {
      this.failures.push({ phase, launch: n, what: `launch failed: ${(e as Error).message}` });
      return { outcome: 'crash', ms: performance.now() - start };
    } finally {
      clearTimeout(timer);
    }
  }

  async phase(name: string, launches: number, inFlight: number): Promise<PhaseResult> {
    const samples: number[] = [];
    const counts = { ok: 0, crash: 0, hang: 0 };
    let next = 0;
    const start = performance.now();
    const worker = async () => {
      while (next < launches) {
        const n = next++;
        const { outcome, ms } = await this.once(name, n);
        counts[outcome]++;
        if (outcome === 'ok') samples.push(ms);
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, launches) }, worker));
    return {
      launches, ok: counts.ok, crashes: counts.crash, hangs: counts.hang, wallMs: Math.round(performance.now() - start),
      latency: samples.length > 0 ? summarize(samples) : undefined,
    };
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sequential: { type: 'string', default: '2000' },
      concurrent: { type: 'string', default: '200' },
      'in-flight': { type: 'string', default: '8' },
      'hang-ms': { type: 'string', default: '10000' },
      out: { type: 'string', default: RESULTS },
    },
  });
  const sequential = Number(values.sequential);
  const concurrent = Number(values.concurrent);
  const inFlight = Number(values['in-flight']);
  const hangMs = Number(values['hang-ms']);
  if (![sequential, concurrent, inFlight, hangMs].every((n) => Number.isInteger(n) && n >= 0) || inFlight < 1) {
    throw new Error('--sequential, --concurrent, --in-flight and --hang-ms take whole numbers (--in-flight at least 1)');
  }
  killLiveContainersOnExit();
  const stress = new Stress(hangMs);
  // One launch first, not counted: Node and koffi open a few descriptors once, on first use.
  const warmUp = await stress.once('warm-up', 0);
  if (warmUp.outcome !== 'ok') throw new Error(`the warm-up launch failed: ${stress.failures[0]?.what}`);
  const before = hostState();
  const wallStart = performance.now();
  const phases = {
    sequential: await stress.phase('sequential', sequential, 1),
    concurrent: await stress.phase('concurrent', concurrent, inFlight),
  };
  // A hung launch may still finish; give each the hang limit once more, then tear down what is left.
  await Promise.race([Promise.all(stress.stragglers), new Promise((r) => setTimeout(r, hangMs).unref())]);
  await Promise.all([...liveContainers].map((c) => c.destroy().catch(() => undefined)));
  const wallMs = Math.round(performance.now() - wallStart);

  const after = hostState();
  const children = childrenOf();
  const newTemp = added(before.tempDirs, after.tempDirs);
  const ownTemp = newTemp.filter((p) => !OTHER_COMPONENTS_TEMP.test(path.basename(p)));
  const counts = {
    crashes: phases.sequential.crashes + phases.concurrent.crashes,
    hangs: phases.sequential.hangs + phases.concurrent.hangs,
    zombies: children.filter((c) => c.state === 'Z').length,
    leftoverProcesses: children.filter((c) => c.state !== 'Z').length,
    leftoverMounts: added(before.mounts, after.mounts).length,
    networkNamespaces: added(before.netns, after.netns).length,
    tempDirs: ownTemp.length,
    cgroupDirs: added(before.cgroupDirs, after.cgroupDirs).length,
    leakedFds: Math.max(0, after.fds - before.fds),
  };
  const leftovers = {
    mounts: added(before.mounts, after.mounts),
    networkNamespaces: added(before.netns, after.netns),
    tempDirs: ownTemp,
    tempDirsOfOtherComponents: newTemp.filter((p) => !ownTemp.includes(p)),
    cgroupDirs: added(before.cgroupDirs, after.cgroupDirs),
    children,
  };

  const phaseRows = Object.entries(phases).map(([name, p]) => [
    name, name === 'sequential' ? 1 : inFlight, p.launches, p.ok, p.crashes, p.hangs, p.latency?.medianMs, p.latency?.p95Ms, p.latency?.maxMs,
    (p.wallMs / 1000).toFixed(1),
  ]);
  process.stdout.write(`nsrig stress: ${sequential} sequential + ${concurrent} concurrent launches of /bin/true (default profile), `
    + `wall ${(wallMs / 1000).toFixed(1)} s, ${os.cpus().length} CPUs, ${os.release()}\n\n`);
  process.stdout.write(`${markdownTable(['phase', 'in flight', 'launches', 'ok', 'crashes', 'hangs', 'median ms', 'p95 ms', 'max ms', 'wall s'],
    phaseRows, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9]))}\n\n`);
  process.stdout.write(`${markdownTable(['after the run', 'count'], Object.entries(counts).map(([k, v]) => [k, v]), new Set([1]))}\n`);
  for (const f of stress.failures.slice(0, 20)) process.stdout.write(`  ${f.phase} #${f.launch}: ${f.what}\n`);

  const report = {
    date: new Date().toISOString(), kernel: os.release(), node: process.version, cpus: os.cpus().length,
    args: { sequential, concurrent, inFlight, hangMs }, wallMs, phases, counts, leftovers,
    failures: stress.failures.slice(0, 100), failureCount: stress.failures.length,
  };
  fs.mkdirSync(path.dirname(values.out!), { recursive: true });
  fs.writeFileSync(values.out!, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`\nwritten: ${values.out}\n`);
  return Object.values(counts).every((n) => n === 0) ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e: unknown) => {
  process.stderr.write(`stress: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 2;
});
