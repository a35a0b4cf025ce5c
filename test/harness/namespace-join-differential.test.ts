// linux.namespaces[].path under runc, crun and the built-in engine alike: ns.joined-as-declared
// over the same generated profiles (the same seed), each joining some of the run's holder's
// namespaces (user, net, uts, ipc, pid, cgroup) and creating the rest; a profile with a user
// namespace joins the holder's, and creates its other namespaces inside it. Where runc and crun
// agree that every joined namespace is the holder's and every created one fresh, the engine must
// agree. Each target is watched to have started cases with and without a joined user namespace.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCheck } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import type { Target } from '../../harness/target.js';
import { crunHostProblem, prepareHostForCrun, undoHostPreparation, type HostPreparation } from '../../harness/targets/oci/crun-host-preparation.js';
import { namespaceHolderProblem } from '../../harness/namespace-holder.js';

// Bundles land here; the generated containers run as the host's root (no user namespace).
const privateTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-namespace-join-test-'));
fs.chmodSync(privateTmp, 0o711);
process.env.TMPDIR = privateTmp;
test.after.always(() => fs.rmSync(privateTmp, { recursive: true, force: true }));

const missing = ['runc', 'crun'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const problem = missing.length > 0 ? `not installed: ${missing.join(', ')}` : namespaceHolderProblem();
if (problem !== undefined) console.log(`namespace-join-differential: skipped: ${problem}`);

let preparation: HostPreparation | undefined;
test.before(() => {
  if (problem === undefined && crunHostProblem() !== undefined) preparation = prepareHostForCrun();
});
test.after.always(() => {
  if (preparation !== undefined) undoHostPreparation(preparation);
});

const invariant = INVARIANTS.find((i) => i.id === 'ns.joined-as-declared')!;

(problem === undefined ? test.serial : test.skip)('runc, crun and the engine each hold ns.joined-as-declared on the same profiles', async (t) => {
  const targets = [
    { target: new BuiltinTarget(), flag: '--target builtin' },
    { target: new OciTarget('runc'), flag: '--runtime runc' },
    { target: new OciTarget('crun'), flag: '--runtime crun' },
  ];
  const verdicts: string[] = [];
  const started: string[] = [];
  for (const { target, flag } of targets) {
    const kinds = new Set<string>();
    const watched = watchStarts(target, (joinsUser) => kinds.add(joinsUser ? 'joined user' : 'no user'));
    const [result] = (await runCheck({ target: watched, targetFlag: flag, invariants: [invariant], runs: 8, seed: 5, jobs: 2 })).invariants;
    verdicts.push(`${flag}: ${result!.status} ${result!.cases} ${result!.counterexample?.observed ?? result!.reason ?? ''}`.trim());
    started.push(`${flag}: ${[...kinds].sort().join(', ')}`);
  }
  t.deepEqual(verdicts, targets.map(({ flag }) => `${flag}: pass 8`));
  t.deepEqual(started, targets.map(({ flag }) => `${flag}: joined user, no user`));
});

/** The target, telling `seen` whether each container it starts joins a user namespace. */
function watchStarts(target: Target, seen: (joinsUser: boolean) => void): Target {
  return new Proxy(target, {
    get(inner, key, receiver) {
      if (key !== 'start') return Reflect.get(inner, key, receiver);
      return (request: Parameters<Target['start']>[0]) => {
        seen(request.profile.namespacePaths?.user !== undefined);
        return inner.start(request);
      };
    },
  });
}
