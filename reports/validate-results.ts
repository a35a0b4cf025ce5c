// A results file is data from another process, another machine or another version of nsrig.
// Checking its shape here means every renderer can trust it, and a bad file is reported once,
// naming the file and the field, instead of surfacing as "undefined" in an auditor's report.
import type { HostInfo, InvariantResult, Results, SyscallProfile } from '../harness/results.js';
import type { TargetInfo } from '../harness/target.js';

/** A results file that cannot be used: which file, which field, what was expected there. */
export class ResultsFileError extends Error {
  readonly file: string;
  readonly fieldPath: string;
  readonly expected: string;

  constructor(file: string, fieldPath: string, expected: string, actual?: string) {
    const where = fieldPath === '' ? file : `${file}: ${fieldPath}`;
    super(`${where}: expected ${expected}${actual === undefined ? '' : `, got ${actual}`}`);
    this.name = 'ResultsFileError';
    this.file = file;
    this.fieldPath = fieldPath;
    this.expected = expected;
  }
}

type Json = Record<string, unknown>;

/** Walks one parsed document, remembering the path so every complaint can name its field. */
class Reader {
  constructor(
    private readonly file: string,
    private readonly path: string,
    private readonly value: unknown,
  ) {}

  fail(expected: string, field = ''): never {
    const path = field === '' ? this.path : this.join(field);
    const actual = field === '' ? this.value : (this.value as Json)[field];
    throw new ResultsFileError(this.file, path, expected, describe(actual));
  }

  object(): Json {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail('an object');
    return this.value as Json;
  }

  field(name: string): Reader {
    return new Reader(this.file, this.join(name), this.object()[name]);
  }

  has(name: string): boolean {
    return this.object()[name] !== undefined;
  }

  string(name: string, options: { nonEmpty?: boolean } = {}): string {
    const v = this.object()[name];
    if (typeof v !== 'string' || (options.nonEmpty === true && v.length === 0)) {
      this.fail(options.nonEmpty === true ? 'a non-empty string' : 'a string', name);
    }
    return v;
  }

  /** This value itself as a string (an array element). */
  text(): string {
    if (typeof this.value !== 'string') this.fail('a string');
    return this.value;
  }

  optionalString(name: string): string | undefined {
    return this.has(name) ? this.string(name) : undefined;
  }

  integer(name: string): number {
    const v = this.object()[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail('a whole number', name);
    return v;
  }

  count(name: string): number {
    const v = this.object()[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) this.fail('a whole number ≥ 0', name);
    return v;
  }

  /** Durations are measured, so fractions are fine; negatives and NaN are not. */
  duration(name: string): number {
    const v = this.object()[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) this.fail('a number of milliseconds ≥ 0', name);
    return v;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const v = this.object()[name];
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(`one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, name);
    }
    return v as T;
  }

  array(name: string): Reader[] {
    const v = this.object()[name];
    if (!Array.isArray(v)) this.fail('an array', name);
    return v.map((item, i) => new Reader(this.file, `${this.join(name)}[${i}]`, item));
  }

  private join(name: string): string {
    return this.path === '' ? name : `${this.path}.${name}`;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const STATUSES = ['pass', 'fail', 'skip', 'error'] as const;
const LEVELS = ['MUST', 'SHOULD', 'MAY'] as const;
const CGROUP_MODES = ['v1', 'v2', 'hybrid', 'unknown'] as const;
const TARGET_KINDS = ['builtin', 'oci', 'double'] as const;

function readTarget(r: Reader): TargetInfo {
  const target: TargetInfo = {
    kind: r.oneOf('kind', TARGET_KINDS),
    name: r.string('name', { nonEmpty: true }),
    version: r.string('version'),
  };
  const path = r.optionalString('path');
  if (path !== undefined) target.path = path;
  return target;
}

function readHost(r: Reader): HostInfo {
  return {
    kernel: r.string('kernel'),
    distribution: r.string('distribution'),
    arch: r.string('arch'),
    cgroupMode: r.oneOf('cgroupMode', CGROUP_MODES),
    node: r.string('node'),
  };
}

const optionalQuote = (quote: string | undefined) => (quote === undefined ? {} : { quote });

function readInvariant(r: Reader): InvariantResult {
  const reference = r.field('reference');
  const result: InvariantResult = {
    id: r.string('id', { nonEmpty: true }),
    area: r.string('area', { nonEmpty: true }),
    level: r.oneOf('level', LEVELS),
    title: r.string('title'),
    reference: { label: reference.string('label'), url: reference.string('url'), ...optionalQuote(reference.optionalString('quote')) },
    status: r.oneOf('status', STATUSES),
    cases: r.count('cases'),
    durationMs: r.duration('durationMs'),
  };
  const reason = r.optionalString('reason');
  if (reason !== undefined) result.reason = reason;
  const replay = r.optionalString('replay');
  if (replay !== undefined) result.replay = replay;
  const target = r.optionalString('target');
  if (target !== undefined) result.target = target;
  if (r.has('knownDefect')) {
    const d = r.field('knownDefect');
    const fixedIn = d.optionalString('fixedIn');
    result.knownDefect = { reference: d.string('reference'), url: d.string('url'), ...(fixedIn === undefined ? {} : { fixedIn }), summary: d.string('summary') };
  }
  if (r.has('counterexample')) {
    const c = r.field('counterexample');
    result.counterexample = {
      profile: c.object()['profile'],
      expected: c.string('expected'),
      observed: c.string('observed'),
      path: c.string('path'),
      shrinks: c.count('shrinks'),
    };
  }
  return result;
}

function readSyscallProfile(r: Reader): SyscallProfile {
  return {
    caseId: r.string('caseId'),
    syscalls: r.array('syscalls').map((s) => ({
      name: s.string('name', { nonEmpty: true }),
      count: s.count('count'),
      errors: s.count('errors'),
    })),
    violations: r.array('violations').map((v) => ({ name: v.string('name', { nonEmpty: true }), count: v.count('count') })),
  };
}

/**
 * Checks one parsed Results document and returns a copy holding only the schema's fields.
 * `path` is the field path of the document inside its file ("" for a file holding one run).
 */
export function readResults(file: string, value: unknown, path = ''): Results {
  const r = new Reader(file, path, value);
  const tool = r.field('tool');
  if (tool.string('name') !== 'nsrig') tool.fail('"nsrig"', 'name');
  const startedAt = r.string('startedAt');
  if (Number.isNaN(Date.parse(startedAt))) r.fail('an ISO 8601 date and time', 'startedAt');
  const summary = r.field('summary');
  const results: Results = {
    tool: { name: 'nsrig', version: tool.string('version', { nonEmpty: true }) },
    target: readTarget(r.field('target')),
    seed: r.integer('seed'),
    runs: r.count('runs'),
    startedAt,
    durationMs: r.duration('durationMs'),
    host: readHost(r.field('host')),
    invariants: r.array('invariants').map(readInvariant),
    summary: {
      passed: summary.count('passed'),
      failed: summary.count('failed'),
      skipped: summary.count('skipped'),
      errors: summary.count('errors'),
    },
  };
  if (r.has('shard')) {
    const shard = r.field('shard');
    const count = shard.count('count');
    if (count < 1) shard.fail('a whole number ≥ 1', 'count');
    const index = shard.count('index');
    // Runners number shards from 0 or from 1; either way no index passes the count.
    if (index > count) shard.fail(`a whole number from 0 to ${count}`, 'index');
    results.shard = { index, count };
  }
  if (r.has('config')) {
    const config = r.field('config');
    const sha256 = config.string('sha256');
    if (!/^[0-9a-f]{64}$/.test(sha256)) config.fail('a sha256 as 64 lowercase hex digits', 'sha256');
    results.config = { file: config.string('file', { nonEmpty: true }), sha256 };
  }
  if (r.has('syscallProfiles')) results.syscallProfiles = r.array('syscallProfiles').map(readSyscallProfile);
  if (r.has('targetLimits')) results.targetLimits = r.array('targetLimits').map((limit) => limit.text());
  return results;
}
