// The property runner: each invariant is a fast-check property over generated profiles, run on a
// target; a failure is shrunk to a minimal profile and given one command that replays it.
import fc from 'fast-check';
import { parseProfile } from '../policy/profile/load.js';
import { HOOK_KINDS, type Profile } from '../policy/profile/types.js';
import type { Invariant, Verdict } from './invariant.js';
import { areaOf } from './invariant.js';
import { notApplicable } from './applicability.js';
import os from 'node:os';
import type { InvariantResult, KnownDefectNote, Results, SyscallProfile } from './results.js';
import { knownDefectMatching } from './known-defects.js';
import { checkTrace, parsePolicy } from '../policy/seccomp/index.js';
import type { Lifecycle, ProfileConstraints, Target, TargetInfo } from './target.js';
import { TargetError } from './target.js';
import { HostFixtures, snapshotHost, type HostFacts } from './host-facts.js';
import { profileDocument, type GenerationOptions, type ProfileDocument } from './generators/profile-document.js';
import { ACTION_CALLS, DENIABLE_SYSCALLS } from './generators/seccomp-policy.js';
import { ProbeError, runHostChange, runPair, runRefusal, runSingle, runWithHooks, type SyscallTotals } from './scenario.js';
import { TOOL_VERSION } from './tool-version.js';
import { execRequestFor, execUnsupportedOnConfig, runExec } from './exec-scenario.js';
import { runLifecycle } from './lifecycle-scenario.js';

export interface CheckOptions {
  target: Target;
  /** How the target is named on the command line, for replay commands: "--target builtin", "--runtime crun". */
  targetFlag: string;
  invariants: Invariant[];
  runs: number;
  seed: number;
  jobs: number;
  shard?: { index: number; count: number };
  /** Replays one counterexample path of a single invariant. */
  replayPath?: string;
  /** Trace the first case of each single-container invariant and attach its syscall profile. */
  trace?: boolean;
  onResult?: (result: InvariantResult) => void;
  /** How each container is launched; "run" when absent. */
  lifecycle?: Lifecycle;
  /** Check this config as declared instead of generated profiles (nsrig check --config). */
  config?: CheckedConfig;
}

/** A user's config, loaded as `nsrig run` loads it, and what names it in reports. */
export interface CheckedConfig {
  /** The file as given on the command line, made absolute. */
  file: string;
  /** sha256 of the file's bytes, hex. */
  sha256: string;
  profile: Profile;
}

/** The invariants of shard index/count: a deterministic slice of the id-sorted list. */
export function shardOf<T extends { id: string }>(items: T[], shard?: { index: number; count: number }): T[] {
  const sorted = [...items].sort((a, b) => a.id.localeCompare(b.id));
  return shard ? sorted.filter((_, i) => i % shard.count === shard.index - 1) : sorted;
}

async function runCase(invariant: Invariant, target: Target, profile: Profile, host: HostFacts, trace: boolean,
  constraints: ProfileConstraints, lifecycle: Lifecycle, signal: NodeJS.Signals | undefined): Promise<{ verdict: Verdict; syscalls?: SyscallTotals }> {
  if (invariant.scenario === 'lifecycle') {
    const run = await runLifecycle(target, profile, { ...(signal === undefined ? {} : { signal }), foreignCgroup: invariant.foreignCgroup === true,
      deleteWhileRunning: invariant.deleteWhileRunning === true,
      killWhenStopped: invariant.killWhenStopped === true,
      startWhileRunning: invariant.startWhileRunning === true,
    });
    return { verdict: invariant.check(run, profile, host) };
  }
  if (invariant.scenario === 'hooks') {
    const unsupported = (constraints.unsupportedHooks ?? []).map((u) => u.kind);
    const recording = invariant.recording(HOOK_KINDS.filter((k) => !unsupported.includes(k)));
    return { verdict: invariant.check(await runWithHooks(target, profile, recording, { lifecycle }), profile, host) };
  }
  if (invariant.scenario === 'single') {
    const edit = invariant.createStart?.editAfterCreate?.(profile);
    const launch = invariant.createStart ? { lifecycle: 'create-start' as const, ...(edit ? { editAfterCreate: edit } : {}) } : { lifecycle };
    const { observed, syscalls } = await runSingle(target, profile, invariant.request(profile, host), { trace, ...launch });
    return { verdict: invariant.check(observed, profile, host, snapshotHost()), syscalls };
  }
  if (invariant.scenario === 'refusal') {
    const staged = invariant.stage?.(invariant.refusable(profile), host);
    try {
      const run = await runRefusal(target, staged?.profile ?? invariant.refusable(profile), invariant.request(profile, host));
      return { verdict: invariant.check(run, profile, host, snapshotHost(), staged?.look() ?? {}) };
    } finally {
      staged?.undo();
    }
  }
  if (invariant.scenario === 'exec') {
    const given = execRequestFor(profile);
    const [init, joined, window] = await runExec(target, profile, given, { lifecycle }, invariant.watchJoins);
    return { verdict: invariant.check(init, joined, given, profile, host, window) };
  }
  if (invariant.scenario === 'host-change') {
    const plan = invariant.prepare(profile, host);
    const [before, after] = await runHostChange(target, profile, plan, { lifecycle });
    return { verdict: invariant.check(before, after, profile, host, plan.seenOnHost ?? {}) };
  }
  const observed = await runPair(target, profile, [invariant.request(profile, 0, host), invariant.request(profile, 1, host)], { lifecycle });
  return { verdict: invariant.check(observed, profile, host) };
}

/** The traced case's calls, and which of them the profile's own policy would refuse. */
function syscallProfile(caseId: string, profile: Profile, syscalls: SyscallTotals): SyscallProfile {
  const violations = profile.seccomp
    ? checkTrace(parsePolicy(profile.seccomp.policy, profile.source), syscalls, { arch: 'x86_64', capabilities: profile.process.capabilities.bounding, kernel: os.release() })
      .map((v) => ({ name: v.name, count: v.count }))
    : [];
  return { caseId, syscalls: [...syscalls].sort((a, b) => b.count - a.count), violations };
}

/** A word the shell keeps whole: paths may hold spaces or quotes. */
function shellWord(text: string): string {
  return /^[\w/.=:,+@%-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

function replayCommand(options: CheckOptions, invariant: Invariant, path: string): string {
  const config = options.config ? `--config ${shellWord(options.config.file)} ` : '';
  const lifecycle = (options.lifecycle ?? 'run') === 'run' ? '' : ` --lifecycle ${options.lifecycle}`;
  return `nsrig check ${config}${options.targetFlag}${lifecycle} --seed ${options.seed} --runs ${options.runs} --only ${invariant.id} --replay '${path}'`;
}

/** Why an invariant cannot be checked on this target at all, from the target's constraints. */
function constraintSkip(invariant: Invariant, constraints: ProfileConstraints): string | undefined {
  const needs = [...(invariant.generate?.requireNamespaces ?? []), ...(invariant.generate?.names ? ['uts'] : []), ...(invariant.generate?.timeOffsets ? ['time'] : [])];
  const missing = constraints.excludeNamespaces.find((e) => needs.includes(e.namespace));
  // Without offsets there is nothing for time.offsets-applied to compare; domainname is left out
  // of generated profiles instead, and the uts invariants then expect the host's copy.
  const field = invariant.generate?.timeOffsets ? constraints.excludeFields?.find((e) => e.field === 'timeOffsets') : undefined;
  const undeniable = constraints.undeniableSyscalls ?? [];
  const callable = invariant.generate?.seccomp ? DENIABLE_SYSCALLS : invariant.generate?.seccompActions ? ACTION_CALLS : undefined;
  const nothingToDeny = callable?.every((n) => undeniable.some((u) => u.name === n))
    ? undeniable.map((u) => u.reason).join('; ') : undefined;
  return missing?.reason ?? field?.reason ?? nothingToDeny;
}

/** The recorded defect of this OCI runtime's version that this failure matches, if any. */
function knownDefectNote(info: TargetInfo, invariantId: string): { knownDefect?: KnownDefectNote } {
  if (info.kind !== 'oci') return {};
  const d = knownDefectMatching(info.name, info.version, invariantId);
  return d ? { knownDefect: { reference: d.reference, url: d.url, ...(d.fixedIn === undefined ? {} : { fixedIn: d.fixedIn }), summary: d.summary } } : {};
}

async function checkInvariant(invariant: Invariant, options: CheckOptions, host: HostFacts, info: TargetInfo, constraints: ProfileConstraints, profiles: SyscallProfile[]): Promise<InvariantResult> {
  const started = Date.now();
  const base = {
    id: invariant.id, area: areaOf(invariant), level: invariant.level, title: invariant.title, reference: invariant.reference,
  };
  const lifecycles = options.target.lifecycles?.() ?? ['run'];
  const createStartOnly = (invariant.scenario === 'single' && invariant.createStart !== undefined) || invariant.scenario === 'lifecycle';
  const lifecycleSkip = createStartOnly && !lifecycles.includes('create-start')
    ? `${info.name} launches containers only with ${lifecycles.join(', ')}, not create then start` : undefined;
  const skip = invariant.skipWhen?.(host, info)
    ?? lifecycleSkip
    ?? (options.config ? notApplicable(invariant, options.config.profile, host) : undefined)
    ?? (options.config && invariant.scenario === 'exec' ? execUnsupportedOnConfig(info) : undefined)
    ?? constraintSkip(invariant, constraints);
  if (skip) return { ...base, status: 'skip', reason: skip, cases: 0, durationMs: 0 };
  const generation: GenerationOptions = {
    ...invariant.generate,
    excludeNamespaces: constraints.excludeNamespaces.map((e) => e.namespace),
    excludeFields: (constraints.excludeFields ?? []).map((e) => e.field),
    undeniableSyscalls: (constraints.undeniableSyscalls ?? []).map((u) => u.name),
    ...(constraints.setgroups ? { setgroups: constraints.setgroups.value } : {}),
  };

  let cases = 0;
  // fast-check runs shrink candidates last, so the last failure recorded is the shrunk counterexample's.
  let lastFailure: { expected: string; observed: string; document: ProfileDocument } | undefined;
  let targetError: string | undefined;
  // A fixed config is never varied: each run repeats its case, the probe drawing fresh marker names.
  const config = options.config;
  const documents = config ? fc.constant<ProfileDocument>({ config: config.file, sha256: config.sha256 }) : profileDocument(generation, {
    fixtureDir: host.fixtureDir, ...('dir' in host.userNamespaceFiles ? { userNamespaceDir: host.userNamespaceFiles.dir } : {}),
    heldNamespaces: host.namespaceHolder?.paths,
  });
  // A signal to kill with is drawn beside the profile; the others' cases stay the profile alone
  // (map keeps the shrink tree, so their replay paths are what they were).
  const signals = invariant.scenario === 'lifecycle' ? invariant.killSignals : undefined;
  const inputs: fc.Arbitrary<[ProfileDocument, NodeJS.Signals | undefined]> = signals
    ? fc.tuple(documents, fc.constantFrom(...signals))
    : documents.map((d): [ProfileDocument, undefined] => [d, undefined]);
  const property = fc.asyncProperty(inputs, async ([document, signal]) => {
    const profile = config ? config.profile : parseProfile(document, '<generated>', { checkPaths: true });
    cases++;
    try {
      const traceThis = Boolean(options.trace) && cases === 1;
      // One retry for a probe that produced nothing: a crash that repeats is reported, a passing one
      // (a starved machine) does not cost minutes of shrinking.
      const lifecycle = options.lifecycle ?? 'run';
      const { verdict, syscalls } = await runCase(invariant, options.target, profile, host, traceThis, constraints, lifecycle, signal)
        .catch((e) => (e instanceof ProbeError ? runCase(invariant, options.target, profile, host, false, constraints, lifecycle, signal) : Promise.reject(e)));
      if (syscalls) profiles.push(syscallProfile(`${invariant.id}#1`, profile, syscalls));
      if (!verdict.holds) lastFailure = { expected: verdict.expected, observed: verdict.observed, document };
      return verdict.holds;
    } catch (e) {
      if (e instanceof TargetError) {
        // A runtime refusing a configuration is not an isolation failure: record it, do not shrink on it.
        targetError ??= e.message + (e.detail ? `: ${e.detail}` : '');
        return true;
      }
      lastFailure = { expected: 'the probe to report its observations', observed: (e as Error).message, document };
      return false;
    }
  });
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.replayPath ? { path: options.replayPath, endOnFailure: true } : {}),
  });
  const durationMs = Date.now() - started;
  if (details.failed) {
    const path = details.counterexamplePath ?? '';
    const thrown = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? '');
    return {
      ...base, status: 'fail', cases, durationMs,
      counterexample: {
        profile: details.counterexample?.[0]?.[0] ?? lastFailure?.document,
        expected: lastFailure?.expected ?? 'the property to hold',
        observed: lastFailure?.observed ?? thrown,
        path,
        shrinks: details.numShrinks,
      },
      replay: replayCommand(options, invariant, path),
      ...knownDefectNote(info, invariant.id),
    };
  }
  if (targetError) return { ...base, status: 'error', reason: targetError, cases, durationMs };
  return { ...base, status: 'pass', cases, durationMs };
}

function limitsOf(c: ProfileConstraints): string[] {
  return [...c.excludeNamespaces.map((e) => e.reason), ...(c.excludeFields ?? []).map((e) => e.reason),
    ...(c.undeniableSyscalls ?? []).map((u) => u.reason), ...(c.setgroups ? [`setgroups is always "${c.setgroups.value}": ${c.setgroups.reason}`] : [])];
}

async function pool<T, R>(items: T[], jobs: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(jobs, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  });
  await Promise.all(workers);
  return results;
}

export async function runCheck(options: CheckOptions): Promise<Results> {
  const startedAt = new Date();
  const info = await options.target.info();
  const constraints = (await options.target.constraints?.()) ?? { excludeNamespaces: [] };
  const fixtures = await HostFixtures.create();
  try {
    const selected = shardOf(options.invariants, options.shard);
    const profiles: SyscallProfile[] = [];
    const invariants = await pool(selected, options.jobs, async (inv) => {
      const result = await checkInvariant(inv, options, fixtures.facts, info, constraints, profiles);
      options.onResult?.(result);
      return result;
    });
    const count = (s: InvariantResult['status']) => invariants.filter((r) => r.status === s).length;
    return {
      tool: { name: 'nsrig', version: TOOL_VERSION },
      target: info,
      seed: options.seed,
      runs: options.runs,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      host: fixtures.facts.info,
      ...(options.shard ? { shard: options.shard } : {}),
      ...(options.config ? { config: { file: options.config.file, sha256: options.config.sha256 } } : {}),
      invariants,
      summary: { passed: count('pass'), failed: count('fail'), skipped: count('skip'), errors: count('error') },
      ...(limitsOf(constraints).length ? { targetLimits: limitsOf(constraints) } : {}),
      ...(profiles.length ? { syscallProfiles: profiles.sort((a, b) => a.caseId.localeCompare(b.caseId)) } : {}),
    };
  } finally {
    await fixtures.close();
  }
}
