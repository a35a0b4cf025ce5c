// Malformed profiles on the launch path: a valid generated document with one mutation that no
// field accepts always ends in ProfileErrors that name the mutated field, and nothing is
// created: no child process, no cgroup, no live container, no mount.
import test from 'ava';
import path from 'node:path';
import fc from 'fast-check';
import fs from 'node:fs';
import { launchContainer } from '../../core/container.js';
import { liveContainers } from '../../core/live-containers.js';
import { parseProfile } from '../../policy/profile/load.js';
import { loadPolicyFile, parsePolicy } from '../../policy/seccomp/index.js';
import { ProfileError, ProfileErrors } from '../../policy/profile/profile-error.js';
import { validProfileDocument } from '../fixtures/profiles/profile-document-arbitrary.js';
import { childrenOf, ourCgroupDirs, suspectHostMounts } from '../../harness/host-leftovers.js';
import { assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

const SOURCE = 'malformed.yaml';
type Key = string | number;
type Doc = Record<string, unknown>;

/** What could show that a launch got anywhere, open descriptors (pipes) included. */
function created(): string {
  return JSON.stringify({
    children: childrenOf(), cgroups: ourCgroupDirs(), live: liveContainers.size, mounts: suspectHostMounts(),
    fds: fs.readdirSync('/proc/self/fd').length,
  });
}

/** The seccomp checks policy/load-profile.ts plugs in for the CLI and the harness. */
const WITH_POLICY = {
  validatePolicy: (policy: unknown, file: string) => {
    parsePolicy(policy, file);
  },
  loadPolicyFile,
};

/** The launch path a caller takes: load the document (policy checked too), then launch what it says. */
async function loadAndLaunch(doc: unknown): Promise<void> {
  const container = await launchContainer(parseProfile(doc as object, SOURCE, WITH_POLICY), { stdio: 'pipe', stdin: 'null' });
  await container.destroy();
}

function isObject(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Paths of every node below the root, the inline seccomp policy's included. */
function nodePaths(value: unknown, path: Key[] = []): Key[][] {
  const entries: [Key, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : isObject(value) ? Object.entries(value) : [];
  return entries.flatMap(([k, v]) => [[...path, k], ...nodePaths(v, [...path, k])]);
}

function pathText(path: Key[]): string {
  return path.reduce<string>((text, k) => (typeof k === 'number' ? `${text}[${k}]` : text === '' ? k : `${text}.${k}`), '');
}

function at(root: unknown, path: Key[]): unknown {
  return path.reduce<unknown>((node, k) => (node as Record<Key, unknown>)[k], root);
}

interface Mutation {
  doc: unknown;
  /** The field path an error must name (or begin with). */
  field: string;
  kind: string;
}

/** Each change is one that no field accepts where it is made. */
function mutate(valid: Doc, kind: string, pick: number): Mutation | undefined {
  const doc = structuredClone(valid);
  const paths = nodePaths(doc);
  const choose = (list: Key[][]) => (list.length === 0 ? undefined : list[pick % list.length]);
  switch (kind) {
    case 'null': {
      const path = choose(paths)!;
      (at(doc, path.slice(0, -1)) as Record<Key, unknown>)[path.at(-1)!] = null;
      return { doc, field: pathText(path), kind };
    }
    case 'unknown field': {
      // Environment names are free-form, so a new name there is not an error.
      const objects = [[], ...paths].filter((p) => isObject(at(doc, p)) && !(p[0] === 'process' && p[1] === 'env'));
      const path = choose(objects)!;
      (at(doc, path) as Doc).nsrigBogusField = 1;
      return { doc, field: pathText([...path, 'nsrigBogusField']), kind };
    }
    case 'not a number': {
      const path = choose(paths.filter((p) => typeof at(doc, p) === 'number'));
      if (!path) return undefined;
      (at(doc, path.slice(0, -1)) as Record<Key, unknown>)[path.at(-1)!] = Number.NaN;
      return { doc, field: pathText(path), kind };
    }
    case 'no args': {
      delete (doc.process as Doc).args;
      return { doc, field: 'process.args', kind };
    }
    case 'not a document':
      return { doc: [[], 'profile', 7, true][pick % 4], field: '', kind };
  }
  return undefined;
}

const mutation = fc.record({
  valid: validProfileDocument,
  kind: fc.constantFrom('null', 'unknown field', 'not a number', 'no args', 'not a document'),
  pick: fc.nat(),
}).map(({ valid, kind, pick }) => mutate(valid, kind, pick)).filter((m): m is Mutation => m !== undefined);

test.serial('a mutated profile always ends in ProfileErrors naming the field, and nothing is created', async (t) => {
  const kinds = new Set<string>();
  await fc.assert(fc.asyncProperty(mutation, async (m) => {
    kinds.add(m.kind);
    const before = created();
    let thrown: unknown;
    try {
      await loadAndLaunch(m.doc);
    } catch (e) {
      thrown = e;
    }
    if (!(thrown instanceof ProfileErrors)) throw new Error(`${m.kind} at ${m.field}: expected ProfileErrors, got ${String(thrown)}`);
    if (!thrown.errors.every((e) => e instanceof ProfileError && e.file === SOURCE && typeof e.fieldPath === 'string')) {
      throw new Error(`${m.kind} at ${m.field}: an error without file and field path`);
    }
    if (!thrown.errors.some((e) => e.fieldPath.startsWith(m.field))) {
      throw new Error(`${m.kind} at ${m.field}: the errors name ${thrown.errors.map((e) => e.fieldPath).join(', ')}`);
    }
    const after = created();
    if (after !== before) throw new Error(`${m.kind} at ${m.field}: a launch left ${after} (before: ${before})`);
  }), { numRuns: 300 });
  t.is(kinds.size, 5, `only ${[...kinds].join(', ')} were tried`);
});

test.serial('the check above can see a launch: a valid profile creates a child and a cgroup while it runs', async (t) => {
  const before = created();
  const container = await launchContainer(parseProfile({ process: { args: ['/bin/sleep', '100'] } }, SOURCE), { stdio: 'pipe', stdin: 'null' });
  try {
    t.not(created(), before);
    // One container: its directory in each hierarchy (the engine joins every v1 one too), one name.
    const dirs = ourCgroupDirs();
    t.is(new Set(dirs.map((d) => path.basename(d))).size, 1, dirs.join(', '));
    t.deepEqual(childrenOf().map((c) => c.pid), [container.pid]);
  } finally {
    await container.destroy();
  }
  t.is(created(), before);
});

test.serial('a bad inline seccomp policy that the loader was not asked to check is refused by the launcher before anything is created', async (t) => {
  const before = created();
  const profile = parseProfile({ seccomp: { defaultAction: 'SCMP_ACT_ALLOW', nsrigBogusField: 1 }, process: { args: ['/bin/true'] } }, SOURCE);
  const error = await t.throwsAsync(launchContainer(profile, { stdio: 'pipe', stdin: 'null' }));
  t.is(error?.name, 'PolicyError');
  t.regex(error!.message, /seccomp: nsrigBogusField/);
  t.is(created(), before);
});
