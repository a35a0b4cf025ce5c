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
import { namespaceHolderProblem, startNamespaceHolder } from '../../harness/namespace-holder.js';
import { parseProfile } from '../../policy/profile/load.js';

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

/**
 * Namespaces joined beside a new user namespace, from a holder the host owns: each runtime joins
 * them before it makes the user namespace (runc's nsexec order), whose root then holds no
 * capability over them. What each target does, as observed with runc 1.1.5 and crun 1.8.1: the
 * engine does what runc does, refused where the kernel refuses runc (EPERM mounting sysfs for a
 * joined net namespace, proc for a joined pid namespace, changing a joined mount namespace's
 * propagation); crun 1.8.1 starts the sysfs and proc cases all the same.
 */
(problem === undefined ? test.serial : test.skip)('beside a new user namespace: joined as declared where it runs, the engine refused where runc is', async (t) => {
  const holder = startNamespaceHolder(['net', 'uts', 'ipc', 'cgroup', 'pid', 'mnt']);
  t.teardown(() => holder.close());
  const dev = { type: 'dev', destination: '/dev', devices: ['null'] };
  const cases: Record<string, { doc: Record<string, unknown>; outcome: Record<string, string> }> = {
    'net, uts, ipc and cgroup, proc and dev only': {
      doc: { namespaces: ['user', 'pid', 'uts', 'net', 'ipc', 'mnt', 'cgroup'], mounts: [{ type: 'proc' }, dev],
        namespacePaths: { net: holder.paths.net, uts: holder.paths.uts, ipc: holder.paths.ipc, cgroup: holder.paths.cgroup } },
      outcome: { builtin: 'joined', runc: 'joined', crun: 'joined' },
    },
    'net, with the default mounts (sysfs)': {
      doc: { namespaces: ['user', 'pid', 'uts', 'net', 'ipc', 'mnt'], namespacePaths: { net: holder.paths.net } },
      outcome: { builtin: 'refused EPERM', runc: 'refused EPERM', crun: 'joined' },
    },
    'pid, with proc': {
      doc: { namespaces: ['user', 'pid', 'mnt'], namespacePaths: { pid: holder.paths.pid }, mounts: [{ type: 'proc' }, dev] },
      outcome: { builtin: 'refused EPERM', runc: 'refused EPERM', crun: 'joined' },
    },
    mnt: {
      doc: { namespaces: ['user', 'pid', 'mnt'], namespacePaths: { mnt: holder.paths.mnt }, mounts: [] },
      outcome: { builtin: 'refused EPERM', runc: 'refused EPERM', crun: 'refused EPERM' },
    },
  };
  const targets: [string, Target][] = [['builtin', new BuiltinTarget()], ['runc', new OciTarget('runc')], ['crun', new OciTarget('crun')]];
  const seen: string[] = [];
  const expected: string[] = [];
  const LINKS = 'for t in user pid uts net ipc mnt cgroup; do echo "$t $(readlink /proc/self/ns/$t)"; done';
  for (const [name, { doc, outcome }] of Object.entries(cases)) {
    const profile = parseProfile({ ...doc, process: { args: ['/bin/sh', '-c', LINKS], env: { PATH: '/usr/bin:/bin' } } }, '/case.yaml');
    for (const [id, target] of targets) {
      expected.push(`${name} on ${id}: ${outcome[id]}`);
      let result: string;
      try {
        const session = await target.start({ profile, stdin: 'null' });
        let out = '';
        session.stdout.on('data', (d: Buffer) => { out += d; });
        const exit = await session.wait();
        await session.destroy();
        const links = Object.fromEntries(out.split('\n').map((l) => /^(\w+) \w+:\[(\d+)\]$/.exec(l)).filter((m) => m !== null).map((m) => [m![1], Number(m![2])]));
        const joined = Object.keys(profile.namespacePaths ?? {}).every((type) => links[type] === holder.inodes[type as keyof typeof holder.inodes]);
        const fresh = links.user !== undefined && links.user !== fs.statSync('/proc/self/ns/user').ino;
        result = exit.code === 0 && joined && fresh ? 'joined' : `ran: exit ${exit.code}, joined ${joined}, own user namespace ${fresh}: ${out}`;
      } catch (e) {
        const message = (e as Error).message;
        result = /EPERM|[Oo]peration not permitted/.test(message) ? 'refused EPERM' : `refused: ${message}`;
        t.log(`${name} on ${id}: ${message.split('\n')[0]}`);
      }
      seen.push(`${name} on ${id}: ${result}`);
    }
  }
  t.deepEqual(seen, expected);
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
