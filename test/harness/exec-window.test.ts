// The join seen from inside: the container's root, holding CAP_SYS_PTRACE, watches /proc while the
// engine joins a process to its container and reaches for it (exe, mem, fd) on every look. The
// engine keeps stage 2 out of reach until it runs the program; its double
// joins-from-writable-node, which runs stage 2 from a plain, world-writable host copy of Node, is
// reached during stage 2 (its host descriptors listed) and its executable reopened for writing.
import test from 'ava';
import fc from 'fast-check';
import { parseProfile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { profileDocument } from '../../harness/generators/profile-document.js';
import { HostFixtures } from '../../harness/host-facts.js';
import { execRequestFor, runExec } from '../../harness/exec-scenario.js';
import { HOLDS } from '../../harness/invariant.js';
import type { Target } from '../../harness/target.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { BrokenTarget } from '../../harness/targets/doubles/broken-target.js';
import { breakage } from '../../harness/targets/doubles/breakages.js';
import { execJoiningProcessUnreachable } from '../../harness/invariants/exec/joining-process-unreachable.js';
import { execRuntimeBinaryNotWritable } from '../../harness/invariants/exec/runtime-binary-not-writable.js';
import { leftovers } from '../../harness/host-leftovers.js';

let fixtures: HostFixtures;
test.before(async () => {
  fixtures = await HostFixtures.create();
});
let closed: Promise<void> | undefined;
const closeFixtures = (): Promise<void> => (closed ??= fixtures?.close() ?? Promise.resolve());
test.after.always(closeFixtures);

function generated(): Profile {
  const [document] = fc.sample(profileDocument(execJoiningProcessUnreachable.generate!, { fixtureDir: fixtures.facts.fixtureDir }), { seed: 1, numRuns: 1 });
  return parseProfile(document, '<generated>', { checkPaths: true });
}

async function watchedJoin(target: Target) {
  const profile = generated();
  const given = execRequestFor(profile);
  const [init, joined, window] = await runExec(target, profile, given, {}, { memory: true });
  const judge = (invariant: typeof execJoiningProcessUnreachable) => invariant.check(init, joined, given, profile, fixtures.facts, window);
  return { window: window!, unreachable: judge(execJoiningProcessUnreachable), notWritable: judge(execRuntimeBinaryNotWritable), profile };
}

test.serial('engine: the watch sees the joining process and is refused until it runs the program', async (t) => {
  const { window, unreachable, notWritable, profile } = await watchedJoin(new BuiltinTarget());
  t.true(profile.process.capabilities.effective.includes('CAP_SYS_PTRACE') && profile.process.uid === 0, 'the strongest attacker of a user-namespaced container');
  t.true(window.watched.appeared.length > 0, 'the joining process appeared in the container');
  t.true(window.watched.scans > window.watched.appeared.length, 'looked again and again while it joined');
  t.true(window.watched.refused.exe !== null || window.watched.refused.memory !== null, 'reached for during its window and refused');
  t.deepEqual(unreachable, HOLDS);
  t.deepEqual(notWritable, HOLDS);
  t.deepEqual(window.executables.map((e) => e.path), [process.execPath]);
  for (const e of window.executables) t.deepEqual(e.after, e.before);
});

test.serial('double joins-from-writable-node: stage 2 is reached, its host descriptors listed and its executable reopened for writing', async (t) => {
  const { window, unreachable, notWritable } = await watchedJoin(new BrokenTarget(breakage('joins-from-writable-node')));
  t.false(unreachable.holds, JSON.stringify(window.watched));
  t.false(notWritable.holds);
  const stage2 = window.watched.descriptors.find((d) => d.cmdline?.[0] === 'nsrig-stage2');
  t.truthy(stage2, 'stage 2\'s descriptors were listed from inside');
  const reopened = window.watched.exe.filter((g) => g.reopenForWriting.code === null);
  t.true(reopened.some((g) => window.executables.some((e) => e.before.ino === g.ino && e.before.dev === g.dev && e.path !== process.execPath)),
    'the double\'s copy of Node, grabbed from stage 2, reopened for writing');
  // Opened for writing, never written.
  for (const e of window.executables) t.deepEqual(e.after, e.before);
});

test.after('nothing left on the host', async (t) => {
  await closeFixtures();
  t.deepEqual(leftovers(), []);
});
