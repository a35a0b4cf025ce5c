// Every value of a real config.json is type-checked, also in fields nsrig does not carry out:
// the mutations runc's decoder (or its validator) refuses are field-path errors, and random
// mutations of the configs runc, Podman and Docker wrote never crash the reader.
import test from 'ava';
import fc from 'fast-check';
import { childPath, isPlainObject } from '../../policy/profile/field-reader.js';
import { parseProfile } from '../../policy/profile/load.js';
import { ociConfigShape } from '../../policy/profile/oci-config-schema.js';
import { ProfileErrorList, ProfileErrors, type ProfileError } from '../../policy/profile/profile-error.js';
import { parsePolicy } from '../../policy/seccomp/index.js';
import { REAL_CONFIG_NAMES, readRealConfig, type RealConfigName } from '../fixtures/oci-configs/real-configs.js';

type Key = string | number;
const SOURCE = '/bundles/fuzz/config.json';
const OPTIONS = { checkPaths: false, validatePolicy: (policy: unknown, file: string) => void parsePolicy(policy, file) };

/** The errors reading a config gives; anything thrown other than ProfileErrors fails the test. */
function errorsOf(config: unknown): ProfileError[] {
  try {
    parseProfile(config as object, SOURCE, OPTIONS);
    return [];
  } catch (error) {
    if (error instanceof ProfileErrors) return [...error.errors];
    throw error;
  }
}

function pathText(path: Key[]): string {
  return path.reduce<string>((text, key) => childPath(text, key), '');
}

function setAt(root: unknown, path: Key[], value: unknown): void {
  const parent = path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<Key, unknown>)[key], root);
  (parent as Record<Key, unknown>)[path.at(-1)!] = value;
}

function valueAt(root: unknown, path: Key[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<Key, unknown>)[key], root);
}

function nodePaths(value: unknown, path: Key[] = []): Key[][] {
  const children: [Key, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : isPlainObject(value) ? Object.entries(value) : [];
  return children.flatMap(([key, child]) => [[...path, key], ...nodePaths(child, [...path, key])]);
}

const indexOfMount = (config: Record<string, unknown>, type: string): number =>
  (config.mounts as { type?: string }[]).findIndex((m) => m.type === type);

for (const name of REAL_CONFIG_NAMES) {
  test(`${name}: every value has the type the runtime-spec gives it`, (t) => {
    const errs = new ProfileErrorList(SOURCE);
    t.true(ociConfigShape(errs, readRealConfig(name), ''));
    t.deepEqual(errs.errors.map((e) => e.message), []);
  });
}

/** [config, field path, value, the field path the error must name]; the values runc's decoder or validator refuses. */
const REFUSED: [RealConfigName, (config: Record<string, unknown>) => Key[], unknown, string?][] = [
  ['runc spec', () => ['linux', 'resources', 'devices'], 'a'],
  ['runc spec', () => ['linux', 'resources', 'devices'], 5],
  ['runc spec', () => ['linux', 'resources', 'devices', 0, 'allow'], null],
  ['runc spec', () => ['linux', 'resources', 'devices', 0, 'allow'], 'true'],
  ['runc spec', () => ['linux', 'resources', 'devices', 0, 'access'], '../../etc'],
  ['docker', () => ['linux', 'resources', 'devices', 1, 'major'], 1e308],
  ['docker', () => ['linux', 'resources', 'devices', 1, 'type'], 'x'],
  ['runc spec', (c) => ['mounts', indexOfMount(c, 'proc'), 'source'], {}],
  ['runc spec', (c) => ['mounts', indexOfMount(c, 'proc'), 'source'], 7],
  ['runc spec', (c) => ['mounts', indexOfMount(c, 'mqueue'), 'source'], {}],
  ['podman', (c) => ['mounts', indexOfMount(c, 'mqueue'), 'source'], 3],
  ['runc spec', () => ['process', 'args', 0], 'sh\0-c'],
  ['runc spec', () => ['hostname'], 'ru\0nc'],
  ['runc spec', () => ['process', 'rlimits', 0, 'soft'], 1e308],
  ['runc spec', () => ['process', 'rlimits', 0, 'hard'], -1],
  ['runc spec', () => ['process', 'rlimits', 0, 'hard'], 1.5],
  ['runc spec', () => ['process', 'user', 'uid'], -1],
  ['runc spec', () => ['process', 'user', 'gid'], 2 ** 32],
  ['docker', () => ['process', 'user', 'additionalGids', 0], '0'],
  ['runc spec', () => ['process', 'capabilities', 'bounding'], 'CAP_KILL'],
  ['runc spec', () => ['process', 'env', 0], 5],
  ['runc spec', () => ['process', 'terminal'], 'true'],
  ['runc spec', () => ['root', 'readonly'], 'yes'],
  ['runc spec', () => ['mounts', 1, 'options'], 'nosuid'],
  ['runc spec', () => ['linux', 'namespaces', 0, 'type'], 7],
  ['runc spec', () => ['linux', 'maskedPaths', 0], null],
  ['podman', () => ['linux', 'resources', 'pids', 'limit'], '2048'],
  ['podman', () => ['linux', 'sysctl', 'net.ipv4.ping_group_range'], 0, 'linux.sysctl["net.ipv4.ping_group_range"]'],
  ['podman', () => ['process', 'user', 'umask'], -18],
  ['podman', () => ['linux', 'cgroupsPath'], ['/a']],
  ['podman', () => ['annotations', 'io.container.manager'], 1, 'annotations["io.container.manager"]'],
  ['docker', () => ['process', 'oomScoreAdj'], 0.5],
  ['docker', () => ['process', 'oomScoreAdj'], 2 ** 31],
  ['docker', () => ['hooks', 'prestart', 0, 'path'], 1],
  ['docker', () => ['hooks', 'prestart'], {}],
  ['docker', () => ['linux', 'resources', 'memory', 'limit'], '1g'],
  ['docker', () => ['linux', 'resources', 'cpu', 'shares'], -1],
  ['docker', () => ['linux', 'resources', 'blockIO', 'weight'], 70000],
  ['docker', () => ['linux', 'resources', 'memory', 'disableOOMKiller'], 0],
];

for (const [name, where, value, expectedPath] of REFUSED) {
  const config = readRealConfig(name);
  const path = where(config);
  const at = expectedPath ?? pathText(path);
  test(`${name}: ${at} = ${JSON.stringify(value) ?? String(value)} is refused at its field path`, (t) => {
    setAt(config, path, value);
    const errors = errorsOf(config);
    t.true(errors.some((e) => e.fieldPath === at), errors.map((e) => e.message).join('\n'));
    t.true(errors.every((e) => e.file === SOURCE));
  });
}

/** A value no field of the runtime-spec accepts where `old` stood (an integer field takes no fraction, a string no NUL). */
function wrongFor(old: unknown, variant: number): unknown | undefined {
  const options: unknown[] = [null];
  if (typeof old === 'string') options.push(7, `${old}\0`, ['x']);
  if (typeof old === 'number') options.push('7', 1e308, 0.5, {});
  if (typeof old === 'boolean') options.push('true', 1);
  if (Array.isArray(old)) options.push('x', 3, {});
  if (isPlainObject(old)) options.push(7, 'x', []);
  return options[variant % options.length];
}

const fixture = fc.constantFrom(...REAL_CONFIG_NAMES);

test('a wrongly typed value anywhere in a real config is an error at that field', (t) => {
  fc.assert(fc.property(fixture, fc.nat(), fc.nat(), (name, pick, variant) => {
    const config = readRealConfig(name);
    // The seccomp policy's own fields are policy/seccomp's to check (test/policy/seccomp-load.test.ts).
    const paths = nodePaths(config).filter((p) => !(p[0] === 'linux' && p[1] === 'seccomp' && p.length > 2));
    const path = paths[pick % paths.length]!;
    const value = wrongFor(valueAt(config, path), variant);
    setAt(config, path, value);
    const errors = errorsOf(config);
    const at = pathText(path);
    t.true(errors.some((e) => e.fieldPath === at), `${name}: ${at} = ${String(value)}: ${errors.map((e) => e.message).join('; ')}`);
  }), { numRuns: 300 });
});

test('any value anywhere in a real config gives a profile or field-path errors, never a crash', (t) => {
  fc.assert(fc.property(fixture, fc.nat(), fc.jsonValue({ maxDepth: 2 }), (name, pick, value) => {
    const config = readRealConfig(name);
    const paths = nodePaths(config);
    setAt(config, paths[pick % paths.length]!, value);
    for (const e of errorsOf(config)) {
      t.is(e.file, SOURCE);
      t.false(/\n\s+at /.test(e.message), e.message);
    }
  }), { numRuns: 300 });
});

test('an rlimit of 2^64-1 in config.json text is no limit, and 2^64 is refused', (t) => {
  const text = (limit: string): string => `{"ociVersion": "1.0.2", "root": {"path": "/"},
    "process": {"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": ${limit}}]}}`;
  const profile = parseProfile(text('18446744073709551615'), SOURCE, OPTIONS);
  t.deepEqual(profile.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: Infinity }]);
  const error = t.throws(() => parseProfile(text('18446744073709551616'), SOURCE, OPTIONS), { instanceOf: ProfileErrors });
  t.deepEqual(error.errors.map((e) => e.fieldPath), ['process.rlimits[0].hard']);
});
