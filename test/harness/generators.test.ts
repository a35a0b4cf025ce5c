// Generated profiles and policies are always valid, honour what an invariant asks of them, and
// the generated seccomp policies deny only calls the probe can live without (on the real kernel).
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { compilePolicy, parsePolicy, syscallNumber } from '../../policy/seccomp/index.js';
import { parseProfile } from '../../policy/profile/load.js';
import { DEFAULT_MASKED_PATHS } from '../../policy/profile/types.js';
import { denyingPolicy, DENIABLE_SYSCALLS } from '../../harness/generators/seccomp-policy.js';
import { USER_NAMESPACE_FILES } from '../../harness/generators/mount-set.js';
import { kernelCapabilities } from '../../harness/generators/capability-set.js';
import { profileDocument } from '../../harness/generators/profile-document.js';
import { ownHardLimits } from '../../harness/generators/rlimits.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { runSingle } from '../../harness/scenario.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { errnoName } from '../../policy/kernel/errno.js';

const fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-generators-test-'));
test.after.always(() => fs.rmSync(fixtureDir, { recursive: true, force: true }));

test('generated seccomp policies pass the policy validator and compile, denying one to three distinct harmless calls', (t) => {
  for (const policy of fc.sample(denyingPolicy(), { seed: 7, numRuns: 200 })) {
    t.notThrows(() => parsePolicy(policy, 'generated.json'));
    const compiled = compilePolicy(parsePolicy(policy, 'generated.json'), { arch: 'x86_64', capabilities: [], kernel: os.release() });
    t.deepEqual(compiled.skippedNames, []);
    const names = policy.syscalls.flatMap((r) => r.names);
    t.true(names.length >= 1 && names.length <= 3);
    t.is(new Set(names).size, names.length);
    t.true(names.every((n) => (DENIABLE_SYSCALLS as readonly string[]).includes(n)));
  }
});

test('every invariant gets valid profiles that honour its generation options', (t) => {
  const userNamespaceDir = path.join(fixtureDir, 'nsrig-userns-1-test');
  for (const inv of INVARIANTS) {
    const g = inv.generate ?? {};
    for (const document of fc.sample(profileDocument(g, { fixtureDir, userNamespaceDir }), { seed: 3, numRuns: 25 })) {
      const profile = parseProfile(document, '<generated>', { checkPaths: true });
      for (const ns of g.requireNamespaces ?? []) t.true(profile.namespaces.includes(ns), `${inv.id} needs ${ns}`);
      if (g.names) t.true(profile.hostname !== undefined && profile.domainname !== undefined, inv.id);
      if (g.rwBind) t.true(profile.mounts.some((m) => m.type === 'bind' && m.source === fixtureDir && !m.readonly), inv.id);
      if (g.root) t.is(profile.process.uid, 0, inv.id);
      if (g.userNamespaceFiles) t.true(profile.mounts.some((m) => m.type === 'bind' && m.source === fixtureDir && m.recursive && m.destination === USER_NAMESPACE_FILES), inv.id);
      if (g.allCapabilities) t.deepEqual(profile.process.capabilities.effective, kernelCapabilities(), inv.id);
      if (g.timeOffsets) t.true(profile.namespaces.includes('time') && profile.timeOffsets !== undefined, inv.id);
      if (g.seccomp) t.truthy(profile.seccomp, inv.id);
      if (g.pidsLimit) {
        const limit = profile.resources?.pids?.limit ?? 0;
        t.true(limit >= 20 && limit <= 40, `${inv.id} declares a pids limit with room for the probe: ${limit}`);
      }
      if (g.memoryLimit) {
        const m = profile.resources?.memory;
        t.true(m !== undefined && m.limit! >= 32 * 2 ** 20 && m.limit! <= 64 * 2 ** 20 && m.limit! % 2 ** 20 === 0 && m.swap === m.limit, `${inv.id} declares a small memory limit, swap equal to it: ${JSON.stringify(m)}`);
      }
      if (g.cpuResources) {
        const c = profile.resources?.cpu;
        t.true(c?.shares !== undefined && c.shares >= 256 && (c.quota === undefined) === (c.period === undefined) && (c.quota ?? 1) >= (c.period ?? 2) / 2, `${inv.id} declares shares and at least half a CPU: ${JSON.stringify(c)}`);
      }
      if (g.blockIOWeight) {
        const w = profile.resources?.blockIO?.weight ?? 0;
        t.true(w >= 10 && w <= 1000, `${inv.id} declares a blockIO weight: ${w}`);
      }
      if (g.flaggedTmpfs) {
        const flagged = profile.mounts.filter((m) => m.type === 'tmpfs' && m.destination === '/opt');
        t.is(flagged.length, 1, `${inv.id} mounts one tmpfs at /opt`);
        t.true(flagged[0]!.options.includes('mode=1777') && !profile.mounts.some((m) => m.type === 'bind' && m.destination === '/opt'), inv.id);
      }
      if (g.sysctl) {
        const keys = Object.keys(profile.sysctl ?? {});
        t.true(keys.length >= 1 && keys.every((k) => (k.startsWith('net.') && profile.namespaces.includes('net')) || (k.startsWith('kernel.') && profile.namespaces.includes('ipc'))), `${inv.id}: ${keys.join()}`);
      }
      if (g.processLimits) {
        const hard = ownHardLimits();
        t.true(profile.process.umask !== undefined && profile.process.rlimits.length >= 1, `${inv.id} declares a umask and rlimits`);
        for (const r of profile.process.rlimits) t.true(r.soft <= r.hard && r.hard <= hard[r.type]! && r.type !== 'RLIMIT_NOFILE', `${inv.id}: ${r.type} ${r.soft}/${r.hard} only lowers nsrig's own`);
      }
      if (g.pidsLimit || g.cgroupMount || g.memoryLimit || g.cpuResources || g.blockIOWeight) {
        t.true(profile.mounts.some((m) => m.type === 'cgroup' && m.destination === '/sys/fs/cgroup' && m.options.includes('ro')), `${inv.id} mounts cgroupfs read-only`);
      }
      if (g.maskPathsWithContent) {
        t.true(DEFAULT_MASKED_PATHS.every((p) => profile.maskedPaths.includes(p)), `${inv.id} keeps the default masked paths`);
        const extra = profile.maskedPaths.filter((p) => !DEFAULT_MASKED_PATHS.includes(p));
        t.true(extra.length > 0 && extra.every((p) => fs.readFileSync(p, 'utf8').length > 0), `${inv.id} masks paths that have content here`);
      }
    }
  }
});

test('what a target cannot do is never generated: excluded fields, refused namespaces, undeniable calls', (t) => {
  const options = {
    names: true, seccomp: true, excludeNamespaces: ['cgroup' as const], excludeFields: ['domainname' as const, 'timeOffsets' as const], undeniableSyscalls: ['getppid', 'times'],
  };
  for (const document of fc.sample(profileDocument(options, { fixtureDir }), { seed: 5, numRuns: 100 })) {
    const profile = parseProfile(document, '<generated>', { checkPaths: true });
    t.truthy(profile.hostname);
    t.is(profile.domainname, undefined);
    t.is(profile.timeOffsets, undefined);
    t.false(profile.namespaces.includes('cgroup'));
    const denied = (document.seccomp as { syscalls: { names: string[] }[] }).syscalls.flatMap((r) => r.names);
    t.true(denied.length > 0 && !denied.includes('getppid') && !denied.includes('times'), denied.join());
  }
});

test('action policies give each call one action, never an undeniable call, always with noNewPrivileges; they compile', (t) => {
  for (const document of fc.sample(profileDocument({ seccompActions: true, undeniableSyscalls: ['getppid'] }, { fixtureDir }), { seed: 7, numRuns: 100 })) {
    const profile = parseProfile(document, '<generated>', { checkPaths: true });
    t.true(profile.process.noNewPrivileges);
    const names = (document.seccomp as { syscalls: { names: string[] }[] }).syscalls.flatMap((r) => r.names);
    t.true(names.length > 0 && !names.includes('getppid') && new Set(names).size === names.length, names.join());
    t.notThrows(() => compilePolicy(parsePolicy(document.seccomp, 'generated.json'), { arch: 'x86_64', capabilities: [], kernel: os.release() }));
  }
});

test('with every deniable call denied, the probe still observes and acts, and each denied call returns the errno', async (t) => {
  const profile = parseProfile({
    name: 'deny-all-deniable',
    namespaces: ['user', 'mnt', 'pid', 'net', 'ipc', 'uts'],
    hostname: 'deny',
    user: { uidMappings: [{ containerId: 0, hostId: 200000, size: 100 }], gidMappings: [{ containerId: 0, hostId: 200000, size: 100 }] },
    mounts: [{ type: 'proc', destination: '/proc' }, { type: 'tmpfs', destination: '/tmp' }, { type: 'dev', destination: '/dev', devices: ['null'] }],
    network: { loopback: true },
    seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [...DENIABLE_SYSCALLS], action: 'SCMP_ACT_ERRNO', errnoRet: 95 }] },
    process: { args: ['true'], user: { uid: 7, gid: 7 }, noNewPrivileges: true, timeout: 20 },
  }, 'deny.yaml');
  const { observed } = await runSingle(new BuiltinTarget(), profile, {
    children: true,
    orphan: 'nsrig-generators-test-orphan',
    bind: [{ proto: 'tcp', port: 4000 }, { proto: 'udp', port: 4000 }],
    connect: [{ host: '127.0.0.1', port: 4000 }],
    read: ['/proc/self/status'],
    writeInto: ['/tmp'],
    createFile: ['/tmp/created'],
    stat: ['/tmp/created'],
    ipc: { create: { shmKey: 0x6e750001, mqueue: '/nsrig-generators-test' } },
    syscalls: DENIABLE_SYSCALLS.map((name) => ({ name, nr: syscallNumber(name)! })),
  });
  t.is(observed.self.seccomp, 2);
  t.is(observed.children.length, 2);
  t.deepEqual(observed.syscalls.map((s) => [s.name, s.result, s.code]), DENIABLE_SYSCALLS.map((n) => [n, -1, errnoName(95)]));
  t.deepEqual([...observed.bind, ...observed.connect, ...observed.writeInto, ...observed.created].map((o) => o.code), [null, null, null, null, null]);
  t.deepEqual(observed.stats.map((s) => s.uid), [7]);
  t.true(observed.read[0].bytes > 0);
  t.is(observed.orphan?.errno, null);
  t.deepEqual(Object.values(observed.ipcCreated).map((o) => o.code), [null, null]);
});
