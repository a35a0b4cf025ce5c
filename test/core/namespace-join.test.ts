// linux.namespaces[].path on the built-in engine, with real namespaces: a holder made by
// unshare(1) provides /proc/PID/ns/*; the container is in the holder's namespace for each type
// it joins (the same inode, the holder's hostname and loopback) and in a fresh one for each type
// it creates. Types entered at three points are covered: net, uts, ipc by stage 2, pid by the
// cloning thread, mnt, cgroup and time by the clone chain (core/plan.ts JoinPoint).
import test from 'ava';
import fs from 'node:fs';
import { launchContainer, LaunchError } from '../../core/container.js';
import { parseProfile } from '../../policy/profile/load.js';
import { ProfileErrors } from '../../policy/profile/profile-error.js';
import { namespaceHolderProblem, startNamespaceHolder } from '../../harness/namespace-holder.js';
import { assertNoLeftovers, run, shell, SOURCE } from './container-run.js';

const problem = namespaceHolderProblem();
const withHolder = problem === undefined ? test.serial : test.skip;
if (problem !== undefined) console.log(`namespace-join: skipped: ${problem}`);

const TYPES = ['user', 'pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup', 'time'] as const;
const LINKS = `for t in ${TYPES.join(' ')}; do echo "$t $(readlink /proc/self/ns/$t)"; done`;

function linksOf(stdout: string): Record<string, number | undefined> {
  return Object.fromEntries(stdout.split('\n').map((l) => /^(\w+) \w+:\[(\d+)\]$/.exec(l)).filter((m) => m !== null)
    .map((m) => [m![1], Number(m![2])]));
}

const host = Object.fromEntries(TYPES.map((t) => [t, fs.statSync(`/proc/self/ns/${t}`).ino]));

test.afterEach.always((t) => assertNoLeftovers(t));

withHolder('joined net, uts, pid and cgroup are the holder\'s; ipc and mnt, created, are fresh; the holder\'s hostname and loopback are seen inside', async (t) => {
  const holder = startNamespaceHolder(['net', 'uts', 'ipc', 'pid', 'cgroup']);
  try {
    const { paths } = holder;
    const doc = {
      namespaces: ['pid', 'net', 'uts', 'ipc', 'mnt', 'cgroup'],
      namespacePaths: { net: paths.net, uts: paths.uts, pid: paths.pid, cgroup: paths.cgroup },
      process: { args: ['/bin/true'], env: { PATH: '/usr/bin:/bin' } },
    };
    const { stdout, exit } = await run(doc, { args: shell(`${LINKS}; echo "hostname $(hostname)"; echo "lo $(cat /sys/class/net/lo/flags)"`) });
    t.deepEqual(exit.code, 0);
    const inside = linksOf(stdout);
    for (const type of ['net', 'uts', 'pid', 'cgroup'] as const) t.is(inside[type], holder.inodes[type], `${type} is the holder's`);
    for (const type of ['ipc', 'mnt'] as const) {
      t.not(inside[type], host[type], `${type} is not the host's`);
      t.not(inside[type], holder.inodes[type], `${type} is not the holder's`);
    }
    for (const type of ['user', 'time'] as const) t.is(inside[type], host[type], `${type}, not declared, is the host's`);
    t.true(stdout.includes(`hostname ${holder.hostname}\n`), stdout);
    // IFF_UP as the holder left it: a joined network namespace is someone else's, its interfaces untouched.
    const flags = Number(/^lo (0x[0-9a-f]+)$/m.exec(stdout)?.[1]);
    if (holder.loopbackUp) t.is(flags & 1, 1, 'loopback is up, as in the holder');
    else t.log('ip(8) could not bring the holder\'s loopback up: its state is not compared');
  } finally {
    holder.close();
  }
});

withHolder('joined mnt and time (entered by the clone chain before stage 2 runs) are the holder\'s', async (t) => {
  const holder = startNamespaceHolder(['mnt', 'time']);
  try {
    const doc = {
      namespaces: ['pid', 'mnt', 'time'], namespacePaths: { mnt: holder.paths.mnt, time: holder.paths.time },
      process: { args: ['/bin/true'], env: { PATH: '/usr/bin:/bin' } },
    };
    const { stdout } = await run(doc, { args: shell(LINKS) });
    const inside = linksOf(stdout);
    t.is(inside.mnt, holder.inodes.mnt);
    t.is(inside.time, holder.inodes.time);
    t.not(inside.pid, host.pid);
  } finally {
    holder.close();
  }
});

withHolder('a holder without its own UTS and network namespaces leaves the host\'s hostname and loopback alone', (t) => {
  const hostname = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
  const holder = startNamespaceHolder(['mnt', 'ipc']);
  try {
    t.is(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostname, 'the host was renamed');
    t.false(holder.loopbackUp);
  } finally {
    holder.close();
  }
});

withHolder('a path of the wrong type, a missing path and a file not on nsfs are field-path errors at load, and nothing is created', async (t) => {
  const holder = startNamespaceHolder(['net', 'uts']);
  try {
    const load = (paths: Record<string, string>) => parseProfile({ namespaces: ['pid', 'net', 'uts', 'mnt'], namespacePaths: paths, process: { args: ['/bin/true'] } }, SOURCE);
    const errors = t.throws(() => load({ net: holder.paths.uts!, uts: '/proc/self/nonexistent' }), { instanceOf: ProfileErrors })!;
    t.deepEqual(errors.errors.map((e) => `${e.fieldPath}: ${e.got}`), [
      `namespacePaths.net: ${holder.paths.uts}, a namespace of type uts`,
      'namespacePaths.uts: /proc/self/nonexistent, which does not exist',
    ]);
    t.throws(() => load({ net: '/etc/hostname' }), { message: /namespacePaths\.net: expected a net namespace file .*got \/etc\/hostname, which is not a namespace file/ });
    // Gone between load and launch: the launch's own check refuses it before anything exists.
    const profile = load({ net: holder.paths.net! });
    holder.close();
    for (let i = 0; i < 100 && fs.existsSync(holder.paths.net!); i++) await new Promise((r) => setTimeout(r, 20));
    await t.throwsAsync(launchContainer(profile, { stdio: 'pipe' }), { instanceOf: LaunchError, message: /namespacePaths\.net: .* is not a namespace file/ });
  } finally {
    holder.close();
  }
});
