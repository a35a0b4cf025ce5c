// linux.namespaces[].path on the built-in engine, with real namespaces: a holder made by
// unshare(1) provides /proc/PID/ns/*; the container is in the holder's namespace for each type
// it joins (the same inode, the holder's hostname and loopback) and in a fresh one for each type
// it creates. Types entered at four points are covered: net, uts, ipc by stage 2, pid by the
// cloning thread, mnt, cgroup and time by the clone chain, and every one of them by the joining
// process when the user namespace is joined or new beside joins (core/plan.ts JoinPoint); the
// namespaces created beside a joined user namespace belong to it (ioctl_ns NS_GET_USERNS).
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import { launchContainer, LaunchError } from '../../core/container.js';
import { parseProfile } from '../../policy/profile/load.js';
import { ProfileErrors } from '../../policy/profile/profile-error.js';
import { namespaceHolderProblem, startNamespaceHolder, type HeldNamespace, type NamespaceHolder } from '../../harness/namespace-holder.js';
import { assertNoLeftovers, HOLD, heldReady, run, shell, SOURCE } from './container-run.js';
import { owningUserNamespace } from '../../core/host-kernel.js';
import { execInContainer } from '../../core/container-exec.js';

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

withHolder('a joined user namespace: the namespaces the container creates belong to it, uts and net are the holder\'s, and no id map is written', async (t) => {
  const holder = startNamespaceHolder(['user', 'uts', 'net']);
  try {
    const doc = {
      namespaces: ['user', 'pid', 'uts', 'net', 'ipc', 'mnt'],
      namespacePaths: { user: holder.paths.user, uts: holder.paths.uts, net: holder.paths.net },
      process: { args: ['/bin/true'], env: { PATH: '/usr/bin:/bin' } },
    };
    const mapBefore = fs.readFileSync(`/proc/${holder.pid}/uid_map`, 'utf8');
    const { stdout, exit, outside } = await run(doc, {
      args: shell(`${LINKS}; echo "hostname $(hostname)"; echo "uid $(id -u)"; echo "pid $$"; ${HOLD}`), ready: heldReady,
      outside: (c) => Object.fromEntries((['pid', 'ipc', 'mnt', 'uts', 'net'] as const).map((ns) => [ns, owningUserNamespace(`/proc/${c.pid}/ns/${ns}`)])),
    });
    t.is(exit.code, 0);
    const inside = linksOf(stdout);
    for (const type of ['user', 'uts', 'net'] as const) t.is(inside[type], holder.inodes[type], `${type} is the holder's`);
    for (const type of ['pid', 'ipc', 'mnt'] as const) {
      t.not(inside[type], host[type], `${type} is not the host's`);
      t.is<number | undefined, number | undefined>(outside[type], holder.inodes.user, `${type}, created, belongs to the joined user namespace`);
    }
    t.true(stdout.includes(`hostname ${holder.hostname}\n`), stdout);
    t.true(stdout.includes('uid 0\n') && stdout.includes('pid 1\n'), stdout);
    t.is(fs.readFileSync(`/proc/${holder.pid}/uid_map`, 'utf8'), mapBefore, 'the joined namespace keeps its own mappings');
  } finally {
    holder.close();
  }
});

// Only /proc is mounted: the new user namespace's root holds no capability over the joined IPC and
// network namespaces, which the host owns, so mqueue and sysfs could not be mounted (EPERM), as
// under runc 1.1 and crun.
withHolder('beside a new user namespace, net, uts, ipc and cgroup are the holder\'s (joined before the user namespace is made), the rest fresh', async (t) => {
  const holder = startNamespaceHolder(['net', 'uts', 'ipc', 'cgroup']);
  try {
    const doc = {
      namespaces: ['user', 'pid', 'uts', 'net', 'ipc', 'mnt', 'cgroup'],
      namespacePaths: { net: holder.paths.net, uts: holder.paths.uts, ipc: holder.paths.ipc, cgroup: holder.paths.cgroup },
      mounts: [{ type: 'proc' }],
      process: { args: ['/bin/true'], env: { PATH: '/usr/bin:/bin' } },
    };
    const { stdout, exit } = await run(doc, { args: shell(`${LINKS}; echo "hostname $(hostname)"; cat /proc/self/uid_map`) });
    t.is(exit.code, 0);
    const inside = linksOf(stdout);
    for (const type of ['net', 'uts', 'ipc', 'cgroup'] as const) t.is(inside[type], holder.inodes[type], `${type} is the holder's`);
    for (const type of ['user', 'pid', 'mnt'] as const) t.not(inside[type], host[type], `${type} is not the host's`);
    t.true(stdout.includes(`hostname ${holder.hostname}\n`), stdout);
    t.regex(stdout, /^\s*0\s+100000\s+65536$/m, 'the new user namespace has the profile\'s mappings');
  } finally {
    holder.close();
  }
});

withHolder('a process exec\'d into a container that joined a user namespace is in that namespace and the container\'s others', async (t) => {
  const holder = startNamespaceHolder(['user', 'uts']);
  try {
    const doc = { namespaces: ['user', 'pid', 'uts', 'mnt'], namespacePaths: { user: holder.paths.user, uts: holder.paths.uts }, process: { args: ['/bin/true'], env: { PATH: '/usr/bin:/bin' } } };
    const { outside, exit } = await run(doc, {
      args: shell(HOLD), ready: heldReady,
      outside: async (c) => {
        const joined = await execInContainer(c, { args: shell(`${LINKS}; id -u`), env: { PATH: '/usr/bin:/bin' } });
        let out = '';
        joined.stdout.on('data', (d: Buffer) => { out += d; });
        const code = (await joined.wait()).code;
        return { code, out, first: Object.fromEntries(['user', 'pid', 'uts', 'mnt'].map((ns) => [ns, fs.statSync(`/proc/${c.pid}/ns/${ns}`).ino])) };
      },
    });
    t.is(exit.code, 0);
    t.is(outside.code, 0, outside.out);
    const inside = linksOf(outside.out);
    t.is(inside.user, holder.inodes.user);
    for (const ns of ['user', 'pid', 'uts', 'mnt']) t.is(inside[ns], outside.first[ns], ns);
    t.true(outside.out.endsWith('0\n'), outside.out);
  } finally {
    holder.close();
  }
});

withHolder('a joined user namespace that maps no uid 0 is refused before anything is set up there, naming the field', async (t) => {
  const holder = startNamespaceHolder(['user'], { userMap: '1 100001 65535\n' });
  try {
    const doc = { namespaces: ['user', 'pid', 'mnt'], namespacePaths: { user: holder.paths.user }, mounts: [{ type: 'proc' }], process: { args: ['/bin/true'] } };
    // Unmapped, nsrig's uid 0 shows there as the kernel's overflow ids.
    const [uid, gid] = ['overflowuid', 'overflowgid'].map((f) => fs.readFileSync(`/proc/sys/kernel/${f}`, 'utf8').trim());
    const e = await t.throwsAsync(run(doc), { instanceOf: LaunchError });
    t.true((e?.message ?? '').includes(`namespacePaths.user: the joined user namespace maps no uid 0 or gid 0 (the container's first process is uid ${uid}, gid ${gid} in it)`), e?.message);
  } finally {
    holder.close();
  }
});

/** Starts a holder of `types` and checks the host's hostname is as it was, then the case's own checks. */
function holderLeavesHostname(t: ExecutionContext, types: readonly HeldNamespace[], more: (holder: NamespaceHolder) => void): void {
  const hostname = fs.readFileSync('/proc/sys/kernel/hostname', 'utf8');
  const holder = startNamespaceHolder(types);
  try {
    t.is(fs.readFileSync('/proc/sys/kernel/hostname', 'utf8'), hostname, 'the host was renamed');
    more(holder);
  } finally {
    holder.close();
  }
}

withHolder('a joined user namespace\'s holder changes nothing on the host: hostname and the host\'s user namespace as they were', (t) => {
  holderLeavesHostname(t, ['user', 'uts'], (holder) => {
    t.not(holder.inodes.user, host.user);
    t.is<number | undefined, number | undefined>(owningUserNamespace(holder.paths.uts!), holder.inodes.user, 'the holder\'s uts namespace is its user namespace\'s');
  });
});

withHolder('a holder without its own UTS and network namespaces leaves the host\'s hostname and loopback alone', (t) => {
  holderLeavesHostname(t, ['mnt', 'ipc'], (holder) => t.false(holder.loopbackUp));
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
