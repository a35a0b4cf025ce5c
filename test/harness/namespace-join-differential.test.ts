// linux.namespaces[].path under runc, crun and the built-in engine alike: ns.joined-as-declared
// over the same generated profiles (the same seed), each joining some of the run's holder's
// namespaces (net, uts, ipc, pid, cgroup) and creating the rest. Where runc and crun agree that
// every joined namespace is the holder's and every created one fresh, the engine must agree.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCheck } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
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
  for (const { target, flag } of targets) {
    const [result] = (await runCheck({ target, targetFlag: flag, invariants: [invariant], runs: 6, seed: 5, jobs: 2 })).invariants;
    verdicts.push(`${flag}: ${result!.status} ${result!.cases} ${result!.counterexample?.observed ?? result!.reason ?? ''}`.trim());
  }
  t.deepEqual(verdicts, targets.map(({ flag }) => `${flag}: pass 6`));
});
