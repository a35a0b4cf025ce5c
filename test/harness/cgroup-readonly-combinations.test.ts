// cgroup.filesystem-readonly in every combination of cgroup, network and user namespaces, on the
// built-in engine, runc and crun: fast-check draws the namespaces, so a run of the check may miss
// a combination; here each of the eight is launched once, with a profile the invariant's own
// generator makes for it, and the invariant judges what the probe saw. A combination a target
// refuses to start is listed with the target's words, and must be one the test expects it to refuse.
import test from 'ava';
import fc from 'fast-check';
import type { NamespaceType } from '../../policy/profile/types.js';
import { parseProfile } from '../../policy/profile/load.js';
import { profileDocument, type GenerationOptions } from '../../harness/generators/profile-document.js';
import { cgroupFilesystemReadonly } from '../../harness/invariants/cgroup/filesystem-readonly.js';
import { HostFixtures } from '../../harness/host-facts.js';
import { runSingle } from '../../harness/scenario.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { TargetError, type ProfileConstraints, type Target } from '../../harness/target.js';
import { BrokenTarget } from '../../harness/targets/doubles/broken-target.js';
import { breakage } from '../../harness/targets/doubles/breakages.js';
import { OciTestHost } from './oci-test-host.js';

OciTestHost.create('cgroup-readonly-combinations-test', { crun: true });

const VARIED: readonly NamespaceType[] = ['cgroup', 'net', 'user'];

/** The eight subsets of VARIED, from none to all three. */
const COMBINATIONS: NamespaceType[][] = Array.from({ length: 2 ** VARIED.length }, (_, bits) => VARIED.filter((_ns, i) => bits & (1 << i)));

/**
 * The invariant's own generation options, with exactly `combination` of the three namespaces, and
 * what the target says it cannot do, as the check passes them (harness/check.ts).
 */
function optionsFor(combination: NamespaceType[], limits: ProfileConstraints): GenerationOptions {
  const has = (ns: NamespaceType) => combination.includes(ns);
  return {
    ...cgroupFilesystemReadonly.generate,
    requireNamespaces: combination.filter((ns) => ns !== 'user'),
    excludeNamespaces: [...VARIED.filter((ns) => ns !== 'user' && !has(ns)), ...limits.excludeNamespaces.map((e) => e.namespace)],
    excludeFields: (limits.excludeFields ?? []).map((e) => e.field),
    ...(limits.setgroups ? { setgroups: limits.setgroups.value } : {}),
    userNamespace: has('user') ? undefined : 'absent',
  };
}

const name = (combination: NamespaceType[]) => (combination.length ? combination.join('+') : 'none of them');

async function outcomes(target: Target): Promise<Record<string, string>> {
  const limits = (await target.constraints?.()) ?? { excludeNamespaces: [] };
  const fixtures = await HostFixtures.create();
  const seen: Record<string, string> = {};
  try {
    for (const combination of COMBINATIONS) {
      const refused = limits.excludeNamespaces.find((e) => combination.includes(e.namespace));
      if (refused) {
        seen[name(combination)] = `not generated: ${refused.reason}`;
        continue;
      }
      const [document] = fc.sample(profileDocument(optionsFor(combination, limits), { fixtureDir: fixtures.facts.fixtureDir }), { seed: 1, numRuns: 1 });
      const profile = parseProfile(document, '<combination>', { checkPaths: true });
      const present = VARIED.filter((ns) => profile.namespaces.includes(ns));
      if (name(present) !== name(combination)) throw new Error(`asked for ${name(combination)}, generated ${name(present)}`);
      try {
        const { observed } = await runSingle(target, profile, cgroupFilesystemReadonly.request(profile, fixtures.facts));
        const verdict = cgroupFilesystemReadonly.check(observed, profile, fixtures.facts, fixtures.facts.before);
        seen[name(combination)] = verdict.holds ? 'holds' : `violated: expected ${verdict.expected}, observed ${verdict.observed}`;
      } catch (e) {
        if (!(e instanceof TargetError)) throw e;
        seen[name(combination)] = `refused: ${e.message}`;
      }
    }
  } finally {
    await fixtures.close();
  }
  return seen;
}

const EVERY_ONE_HOLDS = Object.fromEntries(COMBINATIONS.map((c) => [name(c), 'holds']));

test('the built-in engine: read-only in all eight combinations', async (t) => {
  t.deepEqual(await outcomes(new BuiltinTarget()), EVERY_ONE_HOLDS);
});

test('the engine mounting every cgroup filesystem read-write: violated in all eight, so each combination is really judged', async (t) => {
  const seen = await outcomes(new BrokenTarget(breakage('writable-cgroupfs')));
  t.deepEqual(Object.keys(seen), Object.keys(EVERY_ONE_HOLDS));
  for (const [combination, outcome] of Object.entries(seen)) t.regex(outcome, /^violated: .*"readonly":false/, combination);
});

for (const runtime of ['runc', 'crun']) {
  test(`${runtime}: read-only in all eight combinations`, async (t) => {
    const target = new OciTarget(runtime);
    t.deepEqual(await target.preflight(), [], `${runtime} runs containers here (the suite needs it)`);
    const seen = await outcomes(target);
    t.log(JSON.stringify(seen, null, 2));
    t.deepEqual(seen, EVERY_ONE_HOLDS);
  });
}
