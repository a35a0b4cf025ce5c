// A namespace holder dies with the process that made it, even one SIGKILLed before any exit hook
// could run, and is no leftover of its owner while both live.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { namespaceHolderProblem, startNamespaceHolder, type HeldNamespace } from '../../harness/namespace-holder.js';
import { childrenOf, processRuns } from '../../harness/host-leftovers.js';

const HOLDER_MODULE = pathToFileURL(fileURLToPath(new URL('../../harness/namespace-holder.js', import.meta.url))).href;
const problem = namespaceHolderProblem();
const maybe = problem === undefined ? test : test.skip;
if (problem !== undefined) console.log(`namespace-holder: skipped, ${problem}`);

/** The holder's pid and, where unshare forked (pid namespace), the sleeping child's too. */
function holderProcesses(pid: number): number[] {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...children];
}

for (const types of [['net', 'uts'], ['net', 'uts', 'ipc', 'pid', 'cgroup'], ['user', 'net', 'uts', 'pid']] as HeldNamespace[][]) {
  maybe(`a holder of ${types.join(', ')} dies with its owner when the owner is SIGKILLed (no exit hook runs)`, async (t) => {
    const script = `import { startNamespaceHolder } from ${JSON.stringify(HOLDER_MODULE)};
      const holder = startNamespaceHolder(${JSON.stringify(types)}, { seconds: 600 });
      console.log(holder.pid); setInterval(() => {}, 1 << 30);`;
    const owner = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    t.teardown(() => owner.kill('SIGKILL'));
    const line = await new Promise<string>((resolve) => createInterface({ input: owner.stdout! }).once('line', resolve));
    const holder = holderProcesses(Number(line));
    t.true(holder.every(processRuns), `holder ${line} is not running`);
    owner.kill('SIGKILL');
    for (let i = 0; i < 100 && holder.some(processRuns); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    t.deepEqual(holder.filter(processRuns), [], 'a holder process outlived its SIGKILLed owner');
    t.is(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), os.hostname());
  });
}

maybe('a live holder is not counted among its owner\'s leftover children, before or after close', (t) => {
  const holder = startNamespaceHolder(['net', 'uts']);
  try {
    t.true(processRuns(holder.pid));
    t.false(childrenOf().some((c) => c.pid === holder.pid));
  } finally {
    holder.close();
  }
  t.false(childrenOf().some((c) => c.pid === holder.pid));
});
