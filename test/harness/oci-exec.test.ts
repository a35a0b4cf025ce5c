// `RUNTIME exec` against the real runc and crun: the joined process holds every exec invariant,
// a descriptor preserved on purpose arrives as fd 3, a refused exec is a TargetError, and an
// `exec --cgroup` path that leaves the container's cgroup is refused (or, on the runtime version
// whose defect is on record, is seen running outside). Serial: each test runs real containers.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { loadProfileFile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { ociConfigFromProfile } from '../../policy/profile/oci-config.js';
import { ociJson, OCI_RLIM_INFINITY } from '../../policy/profile/oci-spec.js';
import { TargetError, type ExecRequest } from '../../harness/target.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import type { OciSession } from '../../harness/targets/oci/oci-session.js';
import { processForExec } from '../../harness/targets/oci/oci-exec.js';
import { projectRoot } from '../../harness/targets/oci/host-root-view.js';
import { execRequestFor, runExec } from '../../harness/exec-scenario.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import type { ExecInvariant } from '../../harness/invariant.js';
import { probeCommand, reportReader } from '../../harness/scenario.js';
import { execOnlyStdioFds } from '../../harness/invariants/exec/only-stdio-fds.js';
import { HostFixtures } from '../../harness/host-facts.js';
import type { Observations, ProbeRequest } from '../../harness/probe/protocol.js';
import { readCgroupLayout } from '../../harness/targets/oci/cgroup-layout.js';
import { OciTestHost } from './oci-test-host.js';
import { readProcessCgroups } from '../../core/cgroup-layout.js';

const host = OciTestHost.create('oci-exec-test', { crun: true });
const privateTmp = host.tmpdir;
let fixtures: HostFixtures;
let closed: Promise<void> | undefined;
const closeFixtures = (): Promise<void> => (closed ??= fixtures?.close() ?? Promise.resolve());
test.before(async () => {
  fixtures = await HostFixtures.create();
  host.defer(closeFixtures);
});

test.after('every session left nothing behind: no bundle, process.json, state root or runtime process', async (t) => {
  await closeFixtures();
  t.deepEqual(fs.readdirSync(privateTmp), []);
  t.deepEqual(host.processesUsingIt(), []);
});

const RUNTIMES = ['runc', 'crun'] as const;
const EXEC_INVARIANTS = INVARIANTS.filter((i): i is ExecInvariant => i.scenario === 'exec');

/** The strict example (user, pid, net, ipc, uts, mnt and cgroup namespaces, seccomp, no capabilities, NoNewPrivs), less the time namespace runc 1.1 cannot make. */
function strict(): Profile {
  const profile = loadProfileFile(path.join(projectRoot(), 'policy', 'examples', 'strict.yaml'));
  const adapted: Profile = { ...profile, namespaces: profile.namespaces.filter((ns) => ns !== 'time') };
  delete adapted.timeOffsets;
  return adapted;
}

async function runtimeMissing(t: ExecutionContext, runtime: string): Promise<boolean> {
  const problems = await new OciTarget(runtime).preflight();
  if (problems.length === 0) return false;
  t.log(`skipped: ${runtime} cannot run here: ${problems.join('; ')}`);
  t.pass();
  return true;
}

/** A container whose probe reported and holds, for the callback; always destroyed. */
async function withHoldingContainer<T>(runtime: string, work: (session: OciSession, init: Observations) => Promise<T>): Promise<T> {
  const session = await new OciTarget(runtime).start({ profile: strict(), args: probeCommand({ hold: true }), stdin: 'pipe' }) as OciSession;
  try {
    const init = await reportReader(session)();
    return await work(session, init);
  } finally {
    session.stdin?.end();
    await session.destroy();
  }
}

async function execProbe(session: OciSession, request: Omit<ExecRequest, 'args'>, probe: ProbeRequest = {}): Promise<Observations> {
  const joined = await session.exec({ ...request, args: probeCommand(probe) });
  const report = await reportReader(joined)();
  if (!probe.linger) await joined.wait();
  return report;
}

test("an exec's process.json is the container's process section with the request's command, environment, cwd and user", (t) => {
  const profile: Profile = { ...strict(), process: { ...strict().process, rlimits: [{ type: 'RLIMIT_NOFILE', soft: 64, hard: Infinity }] } };
  const container = ociConfigFromProfile(profile, { rootfsPath: 'rootfs' }).process;
  const p = processForExec(container, { args: ['/bin/true'], env: { A: '1' }, cwd: '/srv', user: { uid: 7, gid: 8 } });
  t.deepEqual(p.args, ['/bin/true']);
  t.deepEqual(p.env, ['A=1']);
  t.is(p.cwd, '/srv');
  t.deepEqual(p.user, { ...container.user, uid: 7, gid: 8 });
  t.false(p.terminal);
  // What the exec does not ask for is the container's: nothing gained, nothing lost.
  t.deepEqual(p.capabilities, container.capabilities);
  t.is(p.noNewPrivileges, container.noNewPrivileges);
  t.deepEqual(p.rlimits, container.rlimits);
  t.is(p.rlimits[0]!.hard, OCI_RLIM_INFINITY);
  t.regex(ociJson(p), /"hard": 18446744073709551615\b/);
  t.deepEqual(processForExec(container, { args: ['/bin/true'] }), { ...container, terminal: false, args: ['/bin/true'] });
});

for (const runtime of RUNTIMES) {
  test.serial(`${runtime}: a process joined with exec holds every exec invariant (strict example)`, async (t) => {
    if (await runtimeMissing(t, runtime)) return;
    const profile = strict();
    const given = execRequestFor(profile);
    t.not(given.user!.uid, profile.process.uid, 'the exec runs as another user than the init');
    // The init watches the join too, for the invariants that judge it (exec.joining-process-unreachable ...).
    const [init, joined, window] = await runExec(new OciTarget(runtime), profile, given, {}, { memory: true });
    t.not(joined.self.pid, init.self.pid);
    t.true(window!.watched.appeared.length > 0, 'the init saw the joining process appear');
    for (const invariant of EXEC_INVARIANTS) t.deepEqual(invariant.check(init, joined, given, profile, fixtures.facts, window), { holds: true }, invariant.id);
  });

  test.serial(`${runtime}: a descriptor preserved on purpose arrives as fd 3 and only then is allowed`, async (t) => {
    if (await runtimeMissing(t, runtime)) return;
    const file = path.join(privateTmp, `preserved-${runtime}`);
    fs.writeFileSync(file, 'x', { mode: 0o644 });
    const fd = fs.openSync(file, 'r');
    try {
      const joined = await withHoldingContainer(runtime, (session) => execProbe(session, { preserveFd: fd }));
      t.deepEqual(joined.self.fds.filter((f) => f.fd > 2 && f.inherited).map((f) => [f.fd, f.target]), [[3, file]]);
      const profile = strict();
      t.deepEqual(execOnlyStdioFds.check(joined, joined, { preserveFd: fd }, profile, fixtures.facts), { holds: true });
      t.false(execOnlyStdioFds.check(joined, joined, {}, profile, fixtures.facts).holds, 'the same fd, not asked for, is a leak');
    } finally {
      fs.closeSync(fd);
      fs.rmSync(file);
    }
  });

  test.serial(`${runtime}: an exec the runtime refuses (a cwd that does not exist) is a TargetError, and the container still takes execs`, async (t) => {
    if (await runtimeMissing(t, runtime)) return;
    await withHoldingContainer(runtime, async (session) => {
      const error = await t.throwsAsync(session.exec({ args: probeCommand({}), cwd: '/no/such/dir' }), { instanceOf: TargetError });
      t.regex(error!.message, /refused/);
      const joined = await execProbe(session, {});
      t.is(joined.self.cwd, strict().process.cwd);
    });
  });
}

/**
 * crun before containers/crun#2117 joined `exec --cgroup` paths to the container's cgroup without
 * checking that they stay below it (containers/crun#2114): the version on record here escapes.
 * runc 1.1 refuses them since opencontainers/runc#3403.
 */
const ESCAPING_VERSIONS: Record<string, string[]> = { crun: ['1.8.1'] };

/**
 * runc checks a sub-cgroup with a string prefix test, so on cgroup v1 `pids:../IDx` passes for a
 * container in cgroup ID: a sibling whose name starts with the container's (opencontainers/runc#5351).
 * crun 1.8.1 checks nothing (containers/crun#2114).
 */
const SIBLING_ESCAPING_VERSIONS: Record<string, string[]> = { runc: ['1.1.5+ds1', '1.1.5'], crun: ['1.8.1'] };

/** Each cgroup path of /proc/PID/cgroup, by hierarchy ("ID:controllers"). */
function hostCgroups(pid: number): Map<string, string> {
  return new Map(readProcessCgroups(pid).memberships.map((m) => [`${m.hierarchyId}:${m.name !== undefined ? `name=${m.name}` : m.controllers.join(',')}`, m.path]));
}

const below = (p: string, root: string) => p === root || p.startsWith(root === '/' ? '/' : `${root}/`);

const ESCAPES = ['..', '../..', './..', 'a/../..', '/..', 'pids:..'];

/**
 * On a v1 or hybrid host /sys/fs/cgroup is a tmpfs: an exec that escapes to it (crun#2114) makes a
 * plain cgroup.procs file there, which no cgroup owns and nothing else would remove. The files
 * there before the test are the host's; a new plain file of that name is the escape's and goes.
 */
function removeEscapeStrays(before: ReadonlySet<string>): string[] {
  const mode = readCgroupLayout().mode;
  if (mode !== 'v1' && mode !== 'hybrid') return [];
  const made = fs.readdirSync('/sys/fs/cgroup', { withFileTypes: true })
    .filter((e) => e.isFile() && !before.has(e.name) && (e.name === 'cgroup.procs' || e.name === 'tasks'));
  for (const e of made) fs.rmSync(path.join('/sys/fs/cgroup', e.name));
  return made.map((e) => `/sys/fs/cgroup/${e.name}`);
}

for (const runtime of RUNTIMES) {
  test.serial(`${runtime}: exec --cgroup paths that leave the container's cgroup (${ESCAPES.join(' ')}) are refused and nothing runs outside it, or seen running outside on a version on record`, async (t) => {
    if (await runtimeMissing(t, runtime)) return;
    const version = (await new OciTarget(runtime).info()).version;
    const escapes = ESCAPING_VERSIONS[runtime]?.includes(version) ?? false;
    const hostEntries = new Set(fs.readdirSync('/sys/fs/cgroup'));
    t.teardown(() => {
      const removed = removeEscapeStrays(hostEntries);
      if (removed.length > 0) t.log(`removed what the escaping exec wrote on the host's cgroup tmpfs: ${removed.join(', ')}`);
    });
    await withHoldingContainer(runtime, async (session) => {
      const initCgroups = hostCgroups(session.hostPid!);
      const outside: string[] = [];
      for (const sub of ESCAPES) {
        let joined;
        try {
          // A shell, not the probe: Node aborts at start-up in a cgroup outside its cgroup namespace's root.
          joined = await session.exec({ args: ['/bin/sh', '-c', 'echo started; exec sleep 60'], subCgroup: sub });
        } catch (e) {
          t.true(e instanceof TargetError, `${sub}: ${(e as Error).message}`);
          continue;
        }
        await new Promise((resolve) => joined.stdout.once('data', resolve));
        // While it sleeps: where the host sees it, against the init's cgroup in each hierarchy.
        const escaped = [...hostCgroups(joined.hostPid!)].filter(([hierarchy, p]) => !below(p, initCgroups.get(hierarchy) ?? '/'));
        if (escaped.length > 0) outside.push(`${sub} → ${escaped.map(([hierarchy, p]) => `${hierarchy} ${p}`).join(', ')} (init: ${[...initCgroups.values()][0]})`);
      }
      if (escapes) {
        t.log(`${runtime} ${version} has containers/crun#2114: ${outside.join('; ')}`);
        t.true(outside.length > 0, `${runtime} ${version} is on record as escaping; it no longer does: take it off ESCAPING_VERSIONS`);
      } else {
        t.deepEqual(outside, []);
      }
    });
  });
}

for (const runtime of RUNTIMES) {
  const pidsMount = readCgroupLayout().v1Mounts.get('pids')?.[0];
  (pidsMount === undefined ? test.skip : test.serial)(`${runtime}: exec --cgroup pids:../IDx, a sibling cgroup whose name starts with the container's, is refused, or seen running outside on a version on record${pidsMount === undefined ? ' (skipped: the prefix check is per v1 hierarchy, and this host has no cgroup v1 pids hierarchy)' : ''}`, async (t) => {
    if (await runtimeMissing(t, runtime)) return;
    const version = (await new OciTarget(runtime).info()).version;
    const escapes = SIBLING_ESCAPING_VERSIONS[runtime]?.includes(version) ?? false;
    let sibling: string | undefined;
    let outside: string | undefined;
    try {
      await withHoldingContainer(runtime, async (session) => {
        const own = readProcessCgroups(session.hostPid!).ofController('pids')!;
        sibling = path.join(pidsMount!, `${own}x`);
        fs.mkdirSync(sibling);
        let joined;
        try {
          joined = await session.exec({ args: ['/bin/sh', '-c', 'echo started; exec sleep 60'], subCgroup: `pids:../${path.basename(own)}x` });
        } catch (e) {
          t.true(e instanceof TargetError, (e as Error).message);
          return;
        }
        await new Promise((resolve) => joined.stdout.once('data', resolve));
        const p = readProcessCgroups(joined.hostPid!).ofController('pids')!;
        if (!below(p, own)) outside = `pids ${p} (container: ${own})`;
      });
    } finally {
      // The container (and the exec that joined it) is gone now: the sibling is empty.
      if (sibling !== undefined) fs.rmdirSync(sibling);
    }
    if (escapes) {
      t.log(`${runtime} ${version}: ${outside}`);
      t.not(outside, undefined, `${runtime} ${version} is on record as escaping into the sibling; it no longer does: take it off SIBLING_ESCAPING_VERSIONS`);
    } else {
      t.is(outside, undefined);
    }
  });
}
