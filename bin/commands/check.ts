// nsrig check: the invariant catalogue as properties over generated profiles, on one or more targets.
import { parseArgs } from 'node:util';
import { randomInt } from 'node:crypto';
import { ebpfAvailability } from '../../core/tracer/index.js';
import { runCheck, shardOf } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { renderParity } from '../../harness/parity.js';
import { areaOf, type Invariant } from '../../harness/invariant.js';
import type { Results } from '../../harness/results.js';
import { LIFECYCLES, type Lifecycle, type Target } from '../../harness/target.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { BrokenTarget } from '../../harness/targets/doubles/broken-target.js';
import { BREAKAGES, breakage } from '../../harness/targets/doubles/breakages.js';
import { prepareHostForCrun, undoHostPreparation, crunHostProblem, type HostPreparation } from '../../harness/targets/oci/crun-host-preparation.js';
import { exitOnInterrupt, HostUnfitError, UsageError } from '../usage.js';
import { CheckProgress, summaryLine } from '../progress.js';
import { writeResultOutputs, printDifferential } from './report.js';
import { loadCheckedConfig, makeRigMountPoints, probeRootfsProblem } from '../../harness/checked-config.js';
import { warnOnStderr } from '../warnings.js';

const OPTIONS = {
  target: { type: 'string' },
  runtime: { type: 'string', multiple: true },
  'prepare-host': { type: 'boolean' },
  lifecycle: { type: 'string' },
  runs: { type: 'string' },
  seed: { type: 'string' },
  only: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  replay: { type: 'string' },
  json: { type: 'string' },
  junit: { type: 'string' },
  html: { type: 'string' },
  list: { type: 'boolean' },
  parity: { type: 'boolean' },
  trace: { type: 'boolean' },
  config: { type: 'string' },
} as const;

function integer(value: string | undefined, name: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name}: expected an integer >= ${min}, got ${JSON.stringify(value)}`);
  return n;
}

export function selectInvariants(only: string | undefined): Invariant[] {
  if (!only) return [...INVARIANTS];
  const wanted = only.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set([...INVARIANTS.map((i) => i.id), ...INVARIANTS.map(areaOf)]);
  const unknown = wanted.filter((w) => !known.has(w));
  if (unknown.length) throw new UsageError(`--only: unknown area or invariant ${unknown.join(', ')} (see nsrig check --list)`);
  return INVARIANTS.filter((i) => wanted.includes(i.id) || wanted.includes(areaOf(i)));
}

function parseLifecycle(text: string | undefined): Lifecycle {
  if (text === undefined) return 'run';
  const lifecycle = LIFECYCLES.find((l) => l === text);
  if (lifecycle === undefined) throw new UsageError(`--lifecycle: expected ${LIFECYCLES.join(' or ')}, got ${JSON.stringify(text)}`);
  return lifecycle;
}

function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (!text) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`--shard: expected I/N with 1 <= I <= N, got ${JSON.stringify(text)}`);
  return { index, count };
}

interface TargetChoice {
  target: Target;
  flag: string;
  runtime?: string;
}

function chooseTargets(values: { target?: string; runtime?: string[] }): TargetChoice[] {
  const choices: TargetChoice[] = [];
  const target = values.target;
  if (target?.startsWith('double:')) {
    // The deliberately broken test doubles, so the replay commands their failures print work.
    const name = target.slice('double:'.length);
    if (!BREAKAGES.some((b) => b.name === name)) throw new UsageError(`--target: no test double "${name}"; known: ${BREAKAGES.map((b) => b.name).join(', ')}`);
    choices.push({ target: new BrokenTarget(breakage(name)), flag: `--target ${target}` });
  } else if (target !== undefined && target !== 'builtin') {
    throw new UsageError(`--target: expected "builtin" or "double:NAME", got "${target}"; use --runtime PATH for an OCI runtime`);
  } else if (target === 'builtin' || !values.runtime?.length) {
    choices.push({ target: new BuiltinTarget(), flag: '--target builtin' });
  }
  for (const runtime of values.runtime ?? []) choices.push({ target: new OciTarget(runtime), flag: `--runtime ${runtime}`, runtime });
  return choices;
}

export async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (positionals.length) throw new UsageError(`nsrig check takes no positional arguments, got ${positionals.join(' ')}`);
  const invariants = selectInvariants(values.only);
  if (values.parity) {
    process.stdout.write(renderParity(INVARIANTS));
    return 0;
  }
  if (values.list) {
    for (const i of INVARIANTS) process.stdout.write(`${i.id.padEnd(34)} ${i.level.padEnd(6)} ${i.title}  [${i.reference.label}]\n`);
    return 0;
  }
  const runs = integer(values.runs, 'runs', 10, 1);
  const jobs = integer(values.jobs, 'jobs', 2, 1);
  const seed = integer(values.seed, 'seed', randomInt(2 ** 31 - 1), 0);
  const shard = parseShard(values.shard);
  const lifecycle = parseLifecycle(values.lifecycle);
  if (values.replay && (invariants.length !== 1 || values.seed === undefined)) {
    throw new UsageError('--replay needs --seed and --only with exactly one invariant id (the failure prints the whole command)');
  }
  const targets = chooseTargets(values);
  const config = values.config === undefined ? undefined : loadCheckedConfig(values.config, warnOnStderr);
  const rootfsProblem = config && probeRootfsProblem(config);
  if (rootfsProblem) throw new UsageError(rootfsProblem);
  exitOnInterrupt();

  const preparations: HostPreparation[] = [];
  const removeRigMountPoints = config ? makeRigMountPoints(config) : () => {};
  try {
    for (const choice of targets) {
      const lifecycles = choice.target.lifecycles?.() ?? ['run'];
      if (!lifecycles.includes(lifecycle)) throw new UsageError(`--lifecycle ${lifecycle}: ${choice.flag} carries out only ${lifecycles.join(', ')}`);
      const missing = await choice.target.preflight();
      if (missing.length && choice.runtime && values['prepare-host'] && crunHostProblem()) {
        preparations.push(prepareHostForCrun());
        continue;
      }
      if (missing.length) throw new HostUnfitError(missing);
    }
    const ebpf = values.trace && targets.some((c) => c.runtime) ? ebpfAvailability() : undefined;
    if (ebpf && !ebpf.available) process.stderr.write(`nsrig check: --trace: OCI runtimes are traced with eBPF, unavailable here (${ebpf.reason}); their cases run untraced\n`);
    const all: Results[] = [];
    for (const choice of targets) {
      const selected = shardOf(invariants, shard);
      const progress = new CheckProgress(selected.length);
      const info = await choice.target.info();
      const what = config ? `${config.file} (sha256 ${config.sha256})` : 'generated profiles';
      if (progress.interactive) process.stderr.write(`nsrig check: ${selected.length} invariants × ${runs} runs of ${what} on ${info.name} ${info.version}, seed ${seed}\n`);
      const results = await runCheck({
        target: choice.target, targetFlag: choice.flag, invariants, runs, seed, jobs, shard, replayPath: values.replay, trace: values.trace, lifecycle, onResult: progress.onResult,
        ...(config ? { config } : {}),
      });
      process.stdout.write(`${summaryLine(results)}\n`);
      all.push(results);
    }
    if (all.length > 1) printDifferential(all);
    await writeResultOutputs(all, { json: values.json, junit: values.junit, html: values.html });
    return all.some((r) => r.summary.failed > 0 || r.summary.errors > 0) ? 1 : 0;
  } finally {
    removeRigMountPoints();
    for (const p of preparations) undoHostPreparation(p);
  }
}
