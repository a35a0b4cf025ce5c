// Properties of the loader over generated documents: valid ones load and survive being written
// back; broken ones (a valid document with one mutation) always end in ProfileErrors whose field
// paths point at the mutation, and nothing else is ever thrown.
import test from 'ava';
import fc from 'fast-check';
import { parseProfile } from '../../policy/profile/load.js';
import { childPath, isPlainObject } from '../../policy/profile/field-reader.js';
import { ociConfigFromProfile, profileFromOciConfig } from '../../policy/profile/oci-config.js';
import { ProfileError, ProfileErrors } from '../../policy/profile/profile-error.js';
import { profileToDocument, profileToYaml } from '../../policy/profile/profile-writer.js';
import type { Profile } from '../../policy/profile/types.js';
import { validProfileDocument } from '../fixtures/profiles/profile-document-arbitrary.js';

type Key = string | number;
type Node = Record<string, unknown> | unknown[];
const SOURCE = 'fuzz.yaml';
const RUNS = 300;

function pathText(path: Key[]): string {
  return path.reduce<string>((text, key) => childPath(text, key), '');
}

/** Every node below the root, parents before children; an inline seccomp policy is opaque. */
function nodePaths(value: unknown, path: Key[] = []): Key[][] {
  const children: [Key, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v])
    : isPlainObject(value) && !(path.length === 1 && path[0] === 'seccomp') ? Object.entries(value) : [];
  return children.flatMap(([key, child]) => [[...path, key], ...nodePaths(child, [...path, key])]);
}

function parentOf(root: unknown, path: Key[]): Node {
  return path.slice(0, -1).reduce<unknown>((node, key) => (node as Record<Key, unknown>)[key], root) as Node;
}

function valueAt(root: unknown, path: Key[]): unknown {
  return (parentOf(root, path) as Record<Key, unknown>)[path.at(-1)!];
}

function setAt(root: unknown, path: Key[], value: unknown): void {
  (parentOf(root, path) as Record<Key, unknown>)[path.at(-1)!] = value;
}

const isEnv = (path: Key[]): boolean => path[0] === 'process' && path[1] === 'env';
const requiredFieldOf = (doc: Record<string, unknown>, path: Key[]): boolean => {
  const text = pathText(path);
  if (text === 'process.args' || /^mounts\[\d+\]\.type$/.test(text)) return true;
  if (/^user\.[ug]idMappings\[\d+\]\.(containerId|hostId|size)$/.test(text)) return true;
  if (/^process\.rlimits\[\d+\]\.(type|soft|hard)$/.test(text) || /^network\.veth\.(host|container)Address$/.test(text)) return true;
  const mountField = /^mounts\[\d+\]\.(source|destination)$/.test(text);
  const mountType = mountField ? (valueAt(doc, path.slice(0, -1)) as Record<string, unknown>).type : undefined;
  return mountField && (mountType === 'bind' || (mountType === 'tmpfs' && path.at(-1) === 'destination'));
};

interface Mutation { kind: string; doc: Record<string, unknown>; at: string }

/**
 * One change that makes a valid document invalid, and the field path an error must name. Each
 * replacement is one no field accepts at that place: `true` where no boolean goes, null anywhere,
 * 2^64 or NaN for any number, -1 except for clock offsets, 0.5 except for the timeout.
 */
function mutate(valid: Record<string, unknown>, kind: string, pick: number, variant: number): Mutation | undefined {
  const doc = structuredClone(valid);
  const paths = nodePaths(doc);
  const choose = <T>(items: T[]): T | undefined => (items.length === 0 ? undefined : items[pick % items.length]);
  switch (kind) {
    case 'wrong type': {
      const path = choose(paths)!;
      const old = valueAt(doc, path);
      setAt(doc, path, variant % 2 === 0 ? null : typeof old === 'boolean' ? 'yes' : true);
      return { kind, doc, at: pathText(path) };
    }
    case 'out of range': {
      const path = choose(paths.filter((p) => typeof valueAt(doc, p) === 'number'));
      if (path === undefined) return undefined;
      const text = pathText(path);
      const choices = [2 ** 64, NaN, ...(text.startsWith('timeOffsets') ? [] : [-1]), ...(text === 'process.timeout' ? [] : [0.5])];
      setAt(doc, path, choices[variant % choices.length]);
      return { kind, doc, at: text };
    }
    case 'unknown field': {
      const objects = [[], ...paths].filter((p) => isPlainObject(p.length === 0 ? doc : valueAt(doc, p)) && !isEnv(p) && p[0] !== 'seccomp');
      const path = choose(objects)!;
      const target = (path.length === 0 ? doc : valueAt(doc, path)) as Record<string, unknown>;
      target.bogusField = 1;
      return { kind, doc, at: pathText([...path, 'bogusField']) };
    }
    case 'overlapping range': {
      const user = doc.user as Record<string, unknown[]> | undefined;
      const side = choose(['uidMappings', 'gidMappings'].filter((s) => Array.isArray(user?.[s])));
      if (side === undefined) return undefined;
      const list = user![side]!;
      list.push(structuredClone(list[variant % list.length]));
      return { kind, doc, at: `user.${side}[` };
    }
    case 'deleted required field': {
      const path = choose(paths.filter((p) => requiredFieldOf(doc, p)));
      if (path === undefined) return undefined;
      delete (parentOf(doc, path) as Record<Key, unknown>)[path.at(-1)!];
      return { kind, doc, at: pathText(path) };
    }
  }
  return undefined;
}

const mutation = fc.record({
  valid: validProfileDocument,
  kind: fc.constantFrom('wrong type', 'out of range', 'unknown field', 'overlapping range', 'deleted required field'),
  pick: fc.nat(),
  variant: fc.nat(),
}).map(({ valid, kind, pick, variant }) => mutate(valid, kind, pick, variant));

/** Runs the loader; anything it throws that is not ProfileErrors fails the property. */
function loadErrors(input: unknown, load: (input: unknown) => unknown = (i) => parseProfile(i as object, SOURCE)): ProfileError[] | undefined {
  try {
    load(input);
    return undefined;
  } catch (error) {
    if (!(error instanceof ProfileErrors)) throw new Error(`threw ${String(error)} instead of ProfileErrors`);
    for (const e of error.errors) {
      if (!(e instanceof ProfileError)) throw new Error(`ProfileErrors holds ${String(e)}`);
    }
    return [...error.errors];
  }
}

test('every generated valid document loads', (t) => {
  fc.assert(fc.property(validProfileDocument, (doc) => {
    const errors = loadErrors(doc);
    if (errors !== undefined) throw new Error(errors.map((e) => e.message).join('\n'));
  }), { numRuns: RUNS });
  t.pass();
});

test('a mutated document always yields ProfileErrors naming the mutated field', (t) => {
  const seen = new Map<string, number>();
  fc.assert(fc.property(mutation, (m) => {
    fc.pre(m !== undefined);
    seen.set(m!.kind, (seen.get(m!.kind) ?? 0) + 1);
    const errors = loadErrors(m!.doc);
    if (errors === undefined || errors.length === 0) throw new Error(`${m!.kind} at ${m!.at} was accepted`);
    if (!errors.every((e) => e.file === SOURCE && e.message.startsWith(`${SOURCE}: `))) throw new Error('an error names another file');
    if (!errors.some((e) => e.fieldPath.startsWith(m!.at))) {
      throw new Error(`${m!.kind} at ${m!.at}, but errors name ${errors.map((e) => e.fieldPath).join(', ')}`);
    }
  }), { numRuns: RUNS });
  // Every kind of mutation was really tried.
  t.is(seen.size, 5);
});

test('anything at all, as a document or as text, ends in a profile or ProfileErrors', (t) => {
  fc.assert(fc.property(fc.anything(), (value) => {
    loadErrors(value);
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
    loadErrors(text, (input) => parseProfile(input as string, SOURCE));
  }), { numRuns: RUNS });
  t.pass();
});

test('a mutated OCI config never throws anything but ProfileErrors', (t) => {
  fc.assert(fc.property(validProfileDocument, fc.nat(), fc.nat(), (doc, pick, variant) => {
    const profile = parseProfile(doc, SOURCE);
    const config = structuredClone(ociConfigFromProfile(profile, { rootfsPath: '/' })) as unknown as Record<string, unknown>;
    const paths = nodePaths(config);
    const path = paths[pick % paths.length]!;
    setAt(config, path, [null, true, -1, 'x', {}, []][variant % 6]);
    loadErrors(config, (input) => profileFromOciConfig(input, '/b/config.json', { checkPaths: false }));
  }), { numRuns: RUNS });
  t.pass();
});

test('a loaded profile written back as a document, or as YAML, loads as the same profile', (t) => {
  const withoutSource = ({ source: _source, ...rest }: Profile): Omit<Profile, 'source'> => rest;
  fc.assert(fc.property(validProfileDocument, (doc) => {
    const profile = parseProfile(doc, SOURCE);
    const again = parseProfile(profileToDocument(profile), SOURCE);
    const fromYaml = parseProfile(profileToYaml(profile), SOURCE);
    if (JSON.stringify(withoutSource(again)) !== JSON.stringify(withoutSource(profile))) throw new Error('document round trip differs');
    t.deepEqual(withoutSource(fromYaml), withoutSource(profile));
  }), { numRuns: 100 });
});
