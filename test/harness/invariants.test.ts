// The invariant catalogue as data: one file per invariant named after its id, every file
// registered, each with a one-sentence title, a level and a reference; and the pure pieces the
// predicates rest on (id-map translation, the execve capability rule, a policy's denied calls).
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { INVARIANTS } from '../../harness/invariants/index.js';
import type { Invariant } from '../../harness/invariant.js';
import { containerIdOf, hostIdOf, parseIdMap } from '../../harness/invariants/user/id-map.js';
import { maskNames, observedMasks, setsAfterExecve } from '../../harness/invariants/caps/post-exec-sets.js';
import { deniedCalls } from '../../harness/invariants/seccomp/denied-syscalls.js';
import { parseProfile } from '../../policy/profile/load.js';
import { processesWithArgument } from '../../harness/host-facts.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { HookRun } from '../../harness/invariant.js';
import type { HostFacts } from '../../harness/host-facts.js';
import { runInLifecycleOrder } from '../../harness/invariants/hooks/run-in-lifecycle-order.js';

const CATALOGUE = fileURLToPath(new URL('../../harness/invariants/', import.meta.url));

function looksLikeInvariant(value: unknown): value is Invariant {
  return typeof value === 'object' && value !== null && 'id' in value && 'check' in value && 'scenario' in value;
}

/** Every invariant exported by a file of an area folder, with the file it came from. */
async function invariantFiles(): Promise<{ file: string; invariant: Invariant }[]> {
  const found: { file: string; invariant: Invariant }[] = [];
  for (const area of fs.readdirSync(CATALOGUE, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const name of fs.readdirSync(path.join(CATALOGUE, area.name)).filter((n) => n.endsWith('.js'))) {
      const module = (await import(path.join(CATALOGUE, area.name, name))) as Record<string, unknown>;
      for (const value of Object.values(module)) if (looksLikeInvariant(value)) found.push({ file: `${area.name}/${name.slice(0, -3)}`, invariant: value });
    }
  }
  return found;
}

test('each invariant lives in the file its id names, one per file, and every one is registered', async (t) => {
  const files = await invariantFiles();
  t.true(files.length >= 35);
  for (const { file, invariant } of files) t.is(invariant.id, file.replace('/', '.'), file);
  t.is(new Set(files.map((f) => f.file)).size, files.length, 'one invariant per file');
  t.deepEqual(INVARIANTS.map((i) => i.id).sort(), files.map((f) => f.invariant.id).sort());
  t.true(files.every((f) => INVARIANTS.includes(f.invariant)), 'the registry holds the exported objects themselves');
});

test('each invariant states one sentence, a level and a reference a reader can follow', (t) => {
  for (const inv of INVARIANTS) {
    t.regex(inv.id, /^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$/, inv.id);
    t.true(inv.level === 'MUST' || inv.level === 'SHOULD', inv.id);
    t.regex(inv.title, /^[A-Z/].*[.]$/, `${inv.id}: a sentence`);
    t.notRegex(inv.title, /[.!?] [A-Z]/, `${inv.id}: one sentence`);
    t.regex(inv.reference.url, /^https:\/\/(man7\.org|github\.com\/opencontainers\/runtime-spec|github\.com\/opencontainers\/runc\/blob\/main\/man|nvd\.nist\.gov)\//, inv.id);
    t.true(inv.reference.label.length > 0, inv.id);
  }
});

test('the catalogue covers every area the issue names', (t) => {
  const areas = new Set(INVARIANTS.map((i) => i.id.split('.')[0]));
  for (const area of ['pid', 'uts', 'net', 'user', 'mnt', 'ipc', 'ns', 'fd', 'proc', 'caps', 'nnp', 'seccomp', 'env', 'dev', 'cgroup', 'time']) {
    t.true(areas.has(area), area);
  }
});

test('uid_map text parses into mappings, and ids translate both ways across them', (t) => {
  const text = '         0     200000          1\n         1     300000       1000\n';
  const maps = parseIdMap(text);
  t.deepEqual(maps, [{ containerId: 0, hostId: 200000, size: 1 }, { containerId: 1, hostId: 300000, size: 1000 }]);
  t.is(hostIdOf(maps, 0), 200000);
  t.is(hostIdOf(maps, 1000), 300999);
  t.is(hostIdOf(maps, 1001), undefined);
  t.is(containerIdOf(maps, 300010), 11);
  t.is(containerIdOf(maps, 0), undefined);
  t.deepEqual(parseIdMap(''), []);
});

const caps = (bounding: string[], permitted: string[], inheritable: string[] = [], ambient: string[] = []) => ({
  bounding, permitted, effective: permitted, inheritable, ambient,
});

test('after execve a non-root process keeps only its ambient capabilities as permitted and effective', (t) => {
  const sets = setsAfterExecve({ uid: 1000, noNewPrivileges: false, capabilities: caps(['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID'], ['CAP_CHOWN', 'CAP_KILL'], ['CAP_KILL'], ['CAP_KILL']) });
  t.is(maskNames(sets.permitted), 'CAP_KILL');
  t.is(maskNames(sets.effective), 'CAP_KILL');
  t.is(maskNames(sets.bounding), 'CAP_CHOWN,CAP_KILL,CAP_SETUID');
  t.is(maskNames(sets.inheritable), 'CAP_KILL');
});

test('after execve root of the namespace gains its bounding set, cut back to the declared permitted set by no_new_privs', (t) => {
  const declared = caps(['CAP_CHOWN', 'CAP_KILL', 'CAP_SETUID'], ['CAP_KILL']);
  t.is(maskNames(setsAfterExecve({ uid: 0, noNewPrivileges: false, capabilities: declared }).effective), 'CAP_CHOWN,CAP_KILL,CAP_SETUID');
  t.is(maskNames(setsAfterExecve({ uid: 0, noNewPrivileges: true, capabilities: declared }).effective), 'CAP_KILL');
  t.is(maskNames(setsAfterExecve({ uid: 0, noNewPrivileges: true, capabilities: caps([], []) }).permitted), '∅');
});

test("/proc/self/status masks read back as the bits they show", (t) => {
  const m = observedMasks({ bounding: '00000000a80425fb', permitted: '0000000000000001', effective: '', inheritable: '0', ambient: '0000000000000020' });
  t.is(m.permitted, 1n);
  t.is(m.effective, 0n);
  t.is(maskNames(m.ambient), 'CAP_KILL');
  t.is(maskNames(1n << 40n), 'CAP_CHECKPOINT_RESTORE');
});

test("a policy's denied calls carry the rule's errnoRet, and EPERM where a rule gives none", (t) => {
  const profile = parseProfile({
    name: 'p',
    seccomp: {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getppid', 'times'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        { names: ['getsid'], action: 'SCMP_ACT_ERRNO' },
        { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
        { names: ['getpgrp'], action: 'SCMP_ACT_ALLOW' },
      ],
    },
    process: { args: ['true'] },
  }, 'denied.yaml');
  t.deepEqual(deniedCalls(profile), [{ name: 'getppid', errno: 38 }, { name: 'times', errno: 38 }, { name: 'getsid', errno: 1 }]);
});

test('a process is found on the host by a marker in its command line, and no longer once it has exited', async (t) => {
  const marker = `nsrig-invariants-test-${process.pid}`;
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', marker], { stdio: 'ignore' });
  await once(child, 'spawn');
  t.deepEqual(processesWithArgument(marker), [child.pid]);
  t.deepEqual(processesWithArgument(`${marker}-other`), []);
  child.kill('SIGKILL');
  await once(child, 'exit');
  t.deepEqual(processesWithArgument(marker), []);
});

test('every invariant quotes the sentence it rests on, and claims no more than the quote says', (t) => {
  for (const inv of INVARIANTS) {
    const quote = inv.reference.quote ?? '';
    t.true(quote.length >= 20 && quote.length <= 300, `${inv.id}: a short sentence of the cited text, got "${quote}"`);
    t.false(/\n/.test(quote), `${inv.id}: one line`);
    // A quote whose strongest keyword is SHOULD or MAY cannot carry a MUST invariant.
    const strongest = ['MUST', 'SHOULD', 'MAY'].find((k) => new RegExp(`\\b${k}\\b`).test(quote));
    if (strongest === 'SHOULD' || strongest === 'MAY') t.not(inv.level, 'MUST', `${inv.id} claims MUST on a ${strongest} sentence`);
    if (/^[a-z_-]+\(\d\)/.test(inv.reference.label)) t.regex(inv.reference.label, /^[a-z_-]+\(\d\): .+/, `${inv.id}: a man page is cited by section`);
  }
});

test('launched create then start, the hook order also demands the create operation\'s hooks before start and the others after', (t) => {
  const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
  const run = (recordsBeforeStart: number | undefined): HookRun => ({
    recording: { kinds: [...kinds] }, observed: undefined, startError: undefined, leftovers: [], recordsBeforeStart,
    records: kinds.map((kind) => ({ kind, failing: false, namespaces: {}, stdin: null, stateCgroup: null, earlierPidsAlive: {} })),
  });
  const profile = parseProfile({ name: 'order', process: { args: ['/bin/true'] } }, '<order>', { checkPaths: false });
  const host = {} as HostFacts;
  t.true(runInLifecycleOrder.check(run(undefined), profile, host).holds, 'run: the order alone');
  t.true(runInLifecycleOrder.check(run(3), profile, host).holds, 'create-start: three hooks before start');
  // The engine's create today: createContainer only runs once start releases stage 2.
  const late = runInLifecycleOrder.check(run(2), profile, host);
  t.false(late.holds);
  t.is(late.holds ? '' : late.observed, 'prestart → createRuntime | start | createContainer → startContainer → poststart → poststop');
  // A startContainer hook run during create fails it too.
  t.false(runInLifecycleOrder.check(run(4), profile, host).holds);
});
