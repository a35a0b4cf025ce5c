// The deliberately broken wrapper runtimes: each really breaks its one property, in config.json and
// in the container it runs, and the container still runs. (That each is caught by the right
// invariant is the harness's test.) Every fact is compared with plain runc on the same profile.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadProfileFile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { remountedWith } from '../../policy/profile/mounts.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { writeBundle } from '../../harness/targets/oci/bundle-writer.js';
import { projectRoot } from '../../harness/targets/oci/host-root-view.js';
import type { OciRuntimeConfig } from '../../policy/profile/oci-config.js';
import type { LaunchRequest } from '../../harness/target.js';
import { WRAPPER_RUNTIMES, wrapperRuntimePath } from '../../harness/targets/runtime-wrappers/wrapper-runtimes.js';
import { OciTestHost } from './oci-test-host.js';
import { ForeignCgroup } from '../../harness/container-holdings.js';

const host = OciTestHost.create('oci-wrappers-test');
const privateTmp = host.tmpdir;

test.after('every session left nothing behind: no bundle, state root, runtime process or cgroup', (t) => {
  t.deepEqual(fs.readdirSync(privateTmp), []);
  t.deepEqual(host.processesUsingIt(), []);
  const ours = `nsrig-oci-${process.pid}-`;
  const cgroups = fs.readdirSync('/sys/fs/cgroup').flatMap((h) => {
    try {
      return fs.readdirSync(path.join('/sys/fs/cgroup', h)).filter((c) => c.startsWith(ours));
    } catch {
      return [];
    }
  });
  t.deepEqual(cgroups, []);
});

/** One line per fact, key=value; the shell (dash) runs as uid 1000 under the strict profile. */
const FACTS_SCRIPT = [
  'for ns in uts pid net ipc; do echo "ns.$ns=$(readlink /proc/self/ns/$ns)"; done',
  'echo "hostname=$(hostname)"',
  'echo "uid_map=$(head -n 1 /proc/self/uid_map | tr -s " " | sed "s/^ //")"',
  'grep -E "^(CapBnd|Seccomp|NoNewPrivs|Umask):" /proc/self/status | tr -d "\\t" | sed "s/:/=/"',
  'awk \'$5 == "/" { print "root=" substr($6, 1, 2) }\' /proc/self/mountinfo',
  'echo "procsys=$(awk \'$5 == "/proc/sys" { print substr($6, 1, 2) }\' /proc/self/mountinfo)"',
  'echo "keys.masked=$(awk \'$5 == "/proc/keys"\' /proc/self/mountinfo | wc -l)"',
  'echo "fd3=$(readlink /proc/self/fd/3 || echo none)"',
  'echo "keepalive=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"',
  'echo "tmp.noexec=$(awk \'$5 == "/tmp" { print ($6 ~ /(^|,)noexec(,|$)/) }\' /proc/self/mountinfo)"',
].join('\n');

/** The strict example, less the time namespace that runc 1.1 cannot make. */
function strictForRunc(): Profile {
  const strict = loadProfileFile(path.join(projectRoot(), 'policy', 'examples', 'strict.yaml'));
  const profile: Profile = { ...strict, namespaces: strict.namespaces.filter((ns) => ns !== 'time') };
  delete profile.timeOffsets;
  // A umask of the profile's own, for runc-ignores-rlimits-umask to drop.
  profile.process = { ...strict.process, args: ['/bin/sh', '-c', FACTS_SCRIPT], umask: 0o027 };
  // A limit the facts script stays far below, for runc-ignores-pids-limit to drop.
  profile.resources = { ...strict.resources, pids: { limit: 64 } };
  // A memory limit, cpu shares and a blkio weight, for runc-ignores-memory-limit, -cpu-resources and -blockio-weight to drop.
  profile.resources = { ...profile.resources, memory: { limit: 128 * 1024 * 1024 }, cpu: { shares: 512 }, blockIO: { weight: 300 } };
  // A noexec tmpfs, for runc-ignores-noexec to make executable.
  profile.mounts = strict.mounts.map((m) => (m.type === 'tmpfs' && m.destination === '/tmp' ? remountedWith(m, [...m.options, 'noexec']) : m));
  // A kernel parameter of the container's own network namespace (7200 in a new one), for runc-ignores-sysctl to drop.
  profile.sysctl = { ...strict.sysctl, 'net.ipv4.tcp_keepalive_time': '1234' };
  return profile;
}

interface Observed {
  /** The container's id, which names its cgroups. */
  id: string;
  facts: Record<string, string>;
  config: OciRuntimeConfig;
  code: number | null;
  stderr: string;
}

async function observe(runtime: string, launch: Partial<LaunchRequest> = {}): Promise<Observed> {
  const session = await new OciTarget(runtime).start({ profile: strictForRunc(), stdin: 'null', ...launch });
  let stdout = '';
  let stderr = '';
  session.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  session.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const status = await session.wait();
  // The wrapper rewrote config.json in place before exec'ing runc: read it before it goes.
  const config = JSON.parse(fs.readFileSync(session.bundle.configPath, 'utf8')) as OciRuntimeConfig;
  await session.destroy();
  const facts: Record<string, string> = {};
  for (const line of stdout.trim().split('\n')) {
    const [key, value] = [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)];
    // Each container's own namespaces are new each run; what matters is whether they are the host's.
    facts[key] = key.startsWith('ns.') ? (value === hostNamespace(key.slice(3)) ? 'host' : 'private') : value;
  }
  return { id: session.id, facts, config, code: status.code, stderr };
}

function hostNamespace(type: string): string {
  return fs.readlinkSync(`/proc/self/ns/${type}`);
}

let baseline: Promise<Observed> | undefined;
const plainRunc = (): Promise<Observed> => (baseline ??= observe('runc'));

test('plain runc gives the strict profile everything it asks for (the baseline each wrapper departs from)', async (t) => {
  const { facts, code, stderr } = await plainRunc();
  t.is(code, 0, stderr);
  for (const ns of ['uts', 'pid', 'net', 'ipc']) t.is(facts[`ns.${ns}`], 'private', ns);
  t.is(facts.hostname, 'strict');
  t.is(facts.uid_map, '0 300000 1000');
  t.is(facts.CapBnd, '0000000000000000');
  t.is(facts.Seccomp, '2');
  t.is(facts.NoNewPrivs, '1');
  t.is(facts.root, 'ro');
  t.is(facts.procsys, 'ro');
  t.is(facts['keys.masked'], '1');
  t.is(facts.fd3, 'none');
  t.is(facts['tmp.noexec'], '1');
  t.is(facts.Umask, '0027');
  t.is(facts.keepalive, '1234');
});

/** A wrapper that drops one linux.resources section the strict profile declares, and nothing else. */
function droppedResource(t: ExecutionContext, section: string, declared: unknown): Breakage {
  return {
    config: (c, plain) => {
      const of = (config: OciRuntimeConfig) => (config.linux.resources as Record<string, unknown> | undefined)?.[section];
      t.deepEqual(of(plain), declared);
      t.is(of(c), undefined);
    },
    facts: () => undefined,
    changes: [],
  };
}

interface Breakage {
  /** What config.json says after the wrapper ran, against what plain runc was given. */
  config(c: OciRuntimeConfig, plain: OciRuntimeConfig): void;
  /** What the container shows. */
  facts(f: Record<string, string>): void;
  /** The facts that differ from plain runc's: these and no others. */
  changes: string[];
  /** How the container is launched, when the breakage needs more than `run`. */
  launch?: Partial<LaunchRequest>;
  /** What the wrapper left once the container was deleted (its id given), checked and removed. */
  afterDelete?(id: string): void;
}

const hasNamespace = (c: OciRuntimeConfig, type: string): boolean => c.linux.namespaces.some((n) => n.type === type);

const BREAKAGES: Record<string, (t: import('ava').ExecutionContext) => Breakage> = {
  'runc-drops-uts': (t) => ({
    config: (c) => t.false(hasNamespace(c, 'uts') || c.hostname !== undefined),
    facts: (f) => {
      t.is(f['ns.uts'], 'host');
      t.is(f.hostname, os.hostname());
    },
    changes: ['ns.uts', 'hostname'],
  }),
  // The strict profile joins no namespace, so its container is plain runc's; doubles-oci.test.ts
  // shows the wrapper caught on generated profiles that join a holder's namespaces.
  'runc-drops-namespace-path': (t) => ({
    config: (c) => t.false(c.linux.namespaces.some((n) => n.path !== undefined)),
    facts: () => {},
    changes: [],
  }),
  'runc-drops-pid': (t) => ({
    config: (c) => t.false(hasNamespace(c, 'pid')),
    facts: (f) => t.is(f['ns.pid'], 'host'),
    changes: ['ns.pid'],
  }),
  'runc-drops-net': (t) => ({
    config: (c) => t.false(hasNamespace(c, 'network') || Object.keys(c.linux.sysctl ?? {}).some((k) => k.startsWith('net.'))),
    // The host's own keepalive time, whatever it is, unless it happens to be the strict profile's.
    facts: (f) => t.is(f['ns.net'], 'host'),
    changes: ['ns.net', ...(fs.readFileSync('/proc/sys/net/ipv4/tcp_keepalive_time', 'utf8').trim() === '1234' ? [] : ['keepalive'])],
  }),
  'runc-shares-ipc': (t) => ({
    config: (c) => t.false(hasNamespace(c, 'ipc')),
    facts: (f) => t.is(f['ns.ipc'], 'host'),
    changes: ['ns.ipc'],
  }),
  'runc-wrong-uid-map': (t) => ({
    config: (c) => t.deepEqual(c.linux.uidMappings!.map((m) => m.hostID), [300001, 301001]),
    facts: (f) => t.is(f.uid_map, '0 300001 1000'),
    changes: ['uid_map'],
  }),
  'runc-no-readonly-rootfs': (t) => ({
    config: (c) => t.false(c.root.readonly),
    facts: (f) => t.is(f.root, 'rw'),
    changes: ['root'],
  }),
  'runc-keeps-all-caps': (t) => ({
    config: (c) => t.true(c.process.capabilities.bounding.includes('CAP_SYS_ADMIN')),
    // Every capability the kernel has: cap_last_cap + 1 bits.
    facts: (f) => t.is(BigInt(`0x${f.CapBnd}`), (1n << (BigInt(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim()) + 1n)) - 1n),
    changes: ['CapBnd'],
  }),
  'runc-drops-seccomp': (t) => ({
    config: (c) => t.is(c.linux.seccomp, undefined),
    facts: (f) => t.is(f.Seccomp, '0'),
    changes: ['Seccomp'],
  }),
  'runc-writable-proc-sys': (t) => ({
    config: (c) => t.deepEqual(c.linux.readonlyPaths, []),
    facts: (f) => t.is(f.procsys, ''),
    changes: ['procsys'],
  }),
  'runc-unmasks-paths': (t) => ({
    config: (c) => t.deepEqual(c.linux.maskedPaths, []),
    facts: (f) => t.is(f['keys.masked'], '0'),
    changes: ['keys.masked'],
  }),
  'runc-drops-no-new-privileges': (t) => ({
    config: (c) => t.false(c.process.noNewPrivileges),
    facts: (f) => t.is(f.NoNewPrivs, '0'),
    changes: ['NoNewPrivs'],
  }),
  'runc-leaks-fd': (t) => ({
    // The config is untouched: the leak is in how runc is called.
    config: (c, plain) => t.deepEqual(c, plain),
    facts: (f) => t.true(f.fd3!.startsWith(privateTmp) && f.fd3!.includes('nsrig-bundle-'), f.fd3),
    changes: ['fd3'],
  }),
  // The strict profile's binds are the rig's, of host directories that are private mounts here:
  // only the config shows the change (doubles-oci shows it caught, over a shared fixture).
  'runc-drops-bind-propagation': (t) => ({
    config: (c, plain) => {
      const binds = (config: OciRuntimeConfig) => config.mounts.filter((m) => m.options?.includes('bind') || m.options?.includes('rbind'));
      t.true(binds(plain).length > 0 && binds(plain).every((m) => m.options!.some((o) => /^r?private$/.test(o))));
      t.true(binds(c).every((m) => !m.options!.some((o) => /^r?(private|slave|shared|unbindable)$/.test(o))));
    },
    facts: () => undefined,
    changes: [],
  }),
  // The strict profile's binds are private already: only the config shows the change (doubles-oci shows it caught, over a shared fixture).
  'runc-private-binds': (t) => ({
    config: (c, plain) => {
      const binds = (config: OciRuntimeConfig) => config.mounts.filter((m) => m.options?.includes('bind') || m.options?.includes('rbind'));
      t.is(binds(c).length, binds(plain).length);
      t.true(binds(c).length > 0 && binds(c).every((m) => m.options!.filter((o) => /^r?(private|slave|shared|unbindable)$/.test(o)).join() === (m.options!.includes('rbind') ? 'rprivate' : 'private')));
    },
    facts: () => undefined,
    changes: [],
  }),
  // The config is untouched and the strict profile's rootfs has no symlink at a mount point: doubles-oci shows it caught.
  'runc-follows-rootfs-symlinks': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // The config is untouched and the shell has no keyctl: doubles-oci shows it caught.
  'runc-no-new-keyring': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // The strict profile's policy has no argument condition to drop: doubles-oci shows it caught.
  'runc-ignores-seccomp-args': (t) => ({
    config: (c) => t.true(((c.linux.seccomp as { syscalls?: { args?: unknown }[] } | undefined)?.syscalls ?? []).every((s) => s.args === undefined)),
    facts: () => undefined,
    changes: [],
  }),
  // The strict profile's process (uid 1000) runs as the host's uid 1000; it holds no capability to join with: doubles-oci shows it caught.
  'runc-drops-user': (t) => ({
    config: (c) => t.true(!hasNamespace(c, 'user') && c.linux.uidMappings === undefined && c.linux.gidMappings === undefined),
    facts: (f) => t.is(f.uid_map, '0 0 4294967295'),
    changes: ['uid_map'],
  }),
  'runc-maps-extra-uid': (t) => ({
    config: (c, plain) => t.deepEqual(c.linux.uidMappings, [...(plain.linux.uidMappings ?? []), { containerID: 65536, hostID: 365536, size: 1 }]),
    // The facts script reads the first range only, which stays: doubles-oci shows the extra one caught.
    facts: (f) => t.is(f.uid_map, '0 300000 1000'),
    changes: [],
  }),
  // The strict profile's policy has only an errno rule, which stays: doubles-oci shows it caught.
  'runc-seccomp-actions-as-errno': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // run is untouched; what they break is exec (oci-exec.test.ts shows it, doubles-oci shows it caught).
  'runc-exec-adds-cap': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  'runc-exec-leaks-fd': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // The facts script stays below any limit: only the config shows the change, doubles-oci shows it caught.
  'runc-ignores-pids-limit': (t) => ({
    config: (c, plain) => {
      const pids = (config: OciRuntimeConfig) => (config.linux.resources as { pids?: unknown } | undefined)?.pids;
      t.deepEqual(pids(plain), { limit: 64 });
      t.is(pids(c), undefined);
    },
    facts: () => undefined,
    changes: [],
  }),
  // The facts script reads no cgroup: only the config shows these, doubles-oci shows them caught.
  'runc-ignores-memory-limit': (t) => droppedResource(t, 'memory', { limit: 128 * 1024 * 1024 }),
  'runc-ignores-cpu-resources': (t) => droppedResource(t, 'cpu', { shares: 512 }),
  'runc-ignores-blockio-weight': (t) => droppedResource(t, 'blockIO', { weight: 300 }),
  'runc-ignores-noexec': (t) => ({
    config: (c) => t.true(c.mounts.filter((m) => m.type === 'tmpfs').every((m) => !m.options?.includes('noexec'))),
    facts: (f) => t.is(f['tmp.noexec'], '0'),
    changes: ['tmp.noexec'],
  }),
  // The facts script runs no set-user-ID program and makes no node: only the config shows these, doubles-oci shows them caught.
  'runc-ignores-nosuid': (t) => ({
    config: (c, plain) => {
      t.true(plain.mounts.some((m) => m.type === 'tmpfs' && m.options?.includes('nosuid')));
      t.true(c.mounts.filter((m) => m.type === 'tmpfs').every((m) => !m.options?.includes('nosuid')));
    },
    facts: () => undefined,
    changes: [],
  }),
  'runc-ignores-nodev': (t) => ({
    config: (c, plain) => {
      t.true(plain.mounts.some((m) => m.type === 'tmpfs' && m.options?.includes('nodev')));
      t.true(c.mounts.filter((m) => m.type === 'tmpfs').every((m) => !m.options?.includes('nodev')));
    },
    facts: () => undefined,
    changes: [],
  }),
  // The strict profile may have no recursive bind: doubles-oci shows it caught.
  'runc-ignores-rro': (t) => ({
    config: (c) => t.true(c.mounts.every((m) => !m.options?.includes('rro'))),
    facts: () => undefined,
    changes: [],
  }),
  // Every cgroup mount loses ro (the strict profile may have none): doubles-oci shows it caught.
  'runc-writable-cgroupfs': (t) => ({
    config: (c) => t.true(c.mounts.filter((m) => m.type === 'cgroup').every((m) => !m.options?.includes('ro'))),
    facts: () => undefined,
    changes: [],
  }),
  // The strict profile has no hooks to move: doubles-oci shows it caught, with the recording hooks.
  'runc-hook-wrong-namespace': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  'runc-ignores-rlimits-umask': (t) => ({
    config: (c, plain) => {
      t.true((plain.process.rlimits?.length ?? 0) > 0 && plain.process.user.umask === 0o027);
      t.is((c.process as { rlimits?: unknown }).rlimits, undefined);
      t.is(c.process.user.umask, undefined);
    },
    facts: (f) => t.not(f.Umask, '0027'),
    changes: ['Umask'],
  }),
  'runc-ignores-sysctl': (t) => ({
    config: (c, plain) => {
      t.deepEqual(plain.linux.sysctl, { 'net.ipv4.tcp_keepalive_time': '1234' });
      t.is(c.linux.sysctl, undefined);
    },
    facts: (f) => t.is(f.keepalive, '7200'),
    changes: ['keepalive'],
  }),
  // Launched with create, then start, and config.json's hostname edited in between.
  'runc-start-rereads-config': (t) => ({
    config: (c) => t.is(c.hostname, 'edited-after-create'),
    facts: (f) => t.is(f.hostname, 'edited-after-create'),
    changes: ['hostname'],
    launch: { lifecycle: 'create-start', editAfterCreate: { hostname: 'edited-after-create' } },
  }),
  // What they break is an operation, not the container: doubles-oci shows each caught by its
  // lifecycle invariant. Here each still runs the container, launched create then start.
  'runc-create-runs-program': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
    launch: { lifecycle: 'create-start' },
  }),
  'runc-kill-sends-other-signal': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
    launch: { lifecycle: 'create-start' },
  }),
  // The cgroup it leaves is checked, then removed, so the file's own leftover check holds.
  'runc-delete-leaves-cgroup': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
    launch: { lifecycle: 'create-start' },
    afterDelete: (id) => {
      const left = fs.readdirSync('/sys/fs/cgroup').flatMap((h) => {
        try {
          return fs.readdirSync(path.join('/sys/fs/cgroup', h)).filter((c) => c === id).map((c) => path.join('/sys/fs/cgroup', h, c));
        } catch {
          return [];
        }
      });
      t.is(left.length, 1, `one cgroup of ${id} left: ${left.join(', ')}`);
      for (const dir of left) fs.rmdirSync(dir);
    },
  }),
  // The cgroup the init was moved into between create and start is gone after the delete.
  'runc-delete-removes-foreign-cgroup': (t) => {
    let foreign: ForeignCgroup | undefined;
    return {
      config: (c, plain) => t.deepEqual(c, plain),
      facts: () => undefined,
      changes: [],
      launch: {
        lifecycle: 'create-start',
        beforeStart: (pid) => {
          foreign = ForeignCgroup.adopt(pid);
        },
      },
      afterDelete: () => {
        t.not(foreign, undefined, 'the init was moved into a foreign cgroup');
        t.false(foreign?.exists() ?? true, `${foreign?.dir ?? 'the foreign cgroup'} was removed by the delete`);
        foreign?.remove();
      },
    };
  },
  // Nothing changes in the container: its delete does (the test below).
  'runc-delete-forces': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // Nothing changes in the container: its kill once stopped does (the test below).
  'runc-kill-stopped-deletes': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // Nothing changes in the container: a second start of it does (the test below).
  'runc-start-running-succeeds': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
  // What changes is the claim alone: see the test below.
  'runc-claims-spec-1.1': (t) => ({
    config: (c, plain) => t.deepEqual(c, plain),
    facts: () => undefined,
    changes: [],
  }),
};

test('runc refuses a delete without --force of a running container and it runs on; runc-delete-forces kills and removes it', async (t) => {
  for (const [runtime, refused] of [['runc', true], [wrapperRuntimePath('runc-delete-forces'), false]] as const) {
    const session = await new OciTarget(runtime).start({ profile: strictForRunc(), args: ['/bin/sh', '-c', 'read line'], stdin: 'pipe' });
    try {
      t.like(await session.state(), { status: 'running' }, runtime);
      const outcome = await session.deleteUnforced();
      t.is(outcome.refused, refused, `${runtime}: ${outcome.said}`);
      if (refused) t.regex(outcome.said, /not stopped/);
      t.is((await session.state())?.status, refused ? 'running' : undefined, runtime);
    } finally {
      session.stdin?.end();
      await session.destroy();
    }
  }
});

test('runc refuses a kill of a stopped container and keeps it; runc-kill-stopped-deletes deletes it and succeeds', async (t) => {
  for (const [runtime, refused] of [['runc', true], [wrapperRuntimePath('runc-kill-stopped-deletes'), false]] as const) {
    const session = await new OciTarget(runtime).start({ profile: strictForRunc(), args: ['/bin/true'], stdin: 'null', lifecycle: 'create-start' });
    try {
      await session.wait();
      t.like(await session.state(), { status: 'stopped' }, runtime);
      const outcome = await session.killAsIs('SIGKILL');
      t.is(outcome.refused, refused, `${runtime}: ${outcome.said}`);
      t.is((await session.state())?.status, refused ? 'stopped' : undefined, runtime);
    } finally {
      await session.destroy();
    }
  }
});

test('runc refuses a start of a running container; runc-start-running-succeeds says it started it', async (t) => {
  for (const [runtime, refused] of [['runc', true], [wrapperRuntimePath('runc-start-running-succeeds'), false]] as const) {
    const session = await new OciTarget(runtime).start({ profile: strictForRunc(), args: ['/bin/sh', '-c', 'read line'], stdin: 'pipe', lifecycle: 'create-start' });
    try {
      t.like(await session.state(), { status: 'running' }, runtime);
      const outcome = await session.startAsIs();
      t.is(outcome.refused, refused, `${runtime}: ${outcome.said}`);
      t.like(await session.state(), { status: 'running' }, runtime);
    } finally {
      session.stdin?.end();
      await session.destroy();
    }
  }
});

test('runc-claims-spec-1.1 claims runtime-spec 1.1.0 in features and --version, so domainname, which it ignores, is no limit', async (t) => {
  const target = new OciTarget(wrapperRuntimePath('runc-claims-spec-1.1'));
  t.deepEqual(await target.specVersionClaim(), { version: '1.1.0', source: 'runc-claims-spec-1.1 features, ociVersionMax' });
  t.regex(spawnSync(wrapperRuntimePath('runc-claims-spec-1.1'), ['--version'], { encoding: 'utf8' }).stdout, /^spec: 1\.1\.0$/m);
  const { excludeFields } = await target.constraints();
  t.deepEqual(excludeFields, []);
  const plain = await new OciTarget('runc').constraints();
  t.deepEqual(plain.excludeFields?.map((e) => e.field), ['domainname'], 'plain runc, claiming 1.0.2-dev, is excused');
});

for (const wrapper of WRAPPER_RUNTIMES.filter((w) => w.kind === 'isolation')) {
  test(`${wrapper.name} breaks what it says (${wrapper.breaks}) and the container still runs`, async (t) => {
    const breakage = BREAKAGES[wrapper.name];
    if (breakage === undefined) return t.fail(`no expectation written for ${wrapper.name}`);
    const expected = breakage(t);
    const { id, facts, config, code, stderr } = await observe(wrapperRuntimePath(wrapper.name), expected.launch);
    expected.afterDelete?.(id);
    t.is(code, 0, stderr);
    const plain = await plainRunc();
    expected.config(config, plain.config);
    expected.facts(facts);
    // Everything else is as plain runc has it.
    t.deepEqual(Object.keys(plain.facts).filter((k) => plain.facts[k] !== facts[k]), expected.changes);
  });
}

test('every wrapper in the catalogue is an executable file here, and every file here is in the catalogue', (t) => {
  const dir = path.dirname(wrapperRuntimePath('x'));
  const files = fs.readdirSync(dir).filter((f) => f.startsWith('runc-'));
  t.deepEqual(files.sort(), WRAPPER_RUNTIMES.map((w) => w.name).sort());
  for (const f of files) fs.accessSync(path.join(dir, f), fs.constants.X_OK);
});

test('a wrapper finds the bundle in create with -b and --root=, and passes other commands through', (t) => {
  const dir = fs.mkdtempSync(path.join(privateTmp, 'nsrig-bundle-'));
  fs.chmodSync(dir, 0o711);
  const state = path.join(dir, 'state');
  const id = `nsrig-oci-wrapper-test-${process.pid}`;
  writeBundle(strictForRunc(), path.join(dir, 'bundle'));
  const wrapper = wrapperRuntimePath('runc-drops-uts');
  try {
    // The created container keeps the stdio it inherits, so pipes here would never close.
    const log = path.join(dir, 'runtime.log');
    const created = spawnSync(wrapper, [`--root=${state}`, '--log', log, '--log-format', 'json', 'create', '-b', path.join(dir, 'bundle'), id],
      { stdio: 'ignore', timeout: 20_000 });
    t.is(created.status, 0, fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : 'no log');
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'bundle', 'config.json'), 'utf8')) as OciRuntimeConfig;
    t.false(hasNamespace(config, 'uts'));
    const state1 = spawnSync(wrapper, ['--root', state, 'state', id], { encoding: 'utf8', timeout: 20_000 });
    t.is(JSON.parse(state1.stdout).status, 'created');
    t.regex(spawnSync(wrapper, ['--version'], { encoding: 'utf8', timeout: 20_000 }).stdout, /^runc version/);
  } finally {
    spawnSync(wrapper, ['--root', state, 'delete', '--force', id], { stdio: 'ignore', timeout: 20_000 });
    t.is(spawnSync('runc', ['--root', state, 'list', '-q'], { encoding: 'utf8', timeout: 20_000 }).stdout, '');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
