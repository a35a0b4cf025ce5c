// Which invariants apply to a fixed config (nsrig check --config): read from the same generation
// options the property runs use, so every profile an invariant's generator makes is one it applies
// to, and the configs real tools write get the reasons a person would give.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { parseProfile } from '../../policy/profile/load.js';
import { profileFromOciConfig } from '../../policy/profile/oci-config.js';
import { parsePolicy } from '../../policy/seccomp/index.js';
import { profileDocument } from '../../harness/generators/profile-document.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { notApplicable } from '../../harness/applicability.js';
import type { Profile } from '../../policy/profile/types.js';
import { readRealConfig, type RealConfigName } from '../fixtures/oci-configs/real-configs.js';

const fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-applicability-test-'));
test.after.always(() => fs.rmSync(fixtureDir, { recursive: true, force: true }));
const userNamespaceDir = path.join(fixtureDir, 'userns');
const host = { fixtureDir, userNamespaceFiles: { dir: userNamespaceDir, sibling: 'sibling', host: 'host', inodes: { sibling: 0, host: 0 } } };

function realProfile(name: RealConfigName, change: (c: Record<string, any>) => void = () => {}): Profile {
  const config = readRealConfig(name) as Record<string, any>;
  config.process.terminal = false;
  change(config);
  return profileFromOciConfig(config, '/bundle/config.json', { checkPaths: false, validatePolicy: (p, f) => void parsePolicy(p, f) });
}

function skipped(profile: Profile): Record<string, string | undefined> {
  return Object.fromEntries(INVARIANTS.flatMap((inv) => {
    const why = notApplicable(inv, profile, host);
    return why === undefined ? [] : [[inv.id, why]];
  }));
}

/** A run's namespace holder, as HostFixtures makes one (the files are not opened: checkPaths is false). */
const HELD = { user: '/proc/4242/ns/user', net: '/proc/4242/ns/net', uts: '/proc/4242/ns/uts', ipc: '/proc/4242/ns/ipc', pid: '/proc/4242/ns/pid_for_children', cgroup: '/proc/4242/ns/cgroup' };

test('every profile an invariant generates for itself is one the invariant applies to', (t) => {
  for (const inv of INVARIANTS) {
    for (const document of fc.sample(profileDocument(inv.generate ?? {}, { fixtureDir, userNamespaceDir, heldNamespaces: HELD }), { seed: 11, numRuns: 15 })) {
      const profile = parseProfile(document, '<generated>', { checkPaths: false });
      t.is(notApplicable(inv, profile, host), undefined, `${inv.id} on ${JSON.stringify(document)}`);
    }
  }
});

test("runc spec's config: no user namespace, so the user-namespace invariants skip with that reason; the pid ones apply", (t) => {
  const why = skipped(realProfile('runc spec'));
  for (const id of ['user.maps-equal-profile', 'user.setgroups-as-declared', 'user.unmapped-shows-overflow']) {
    t.is(why[id], 'not applicable to this config: it declares no user namespace', id);
  }
  for (const id of ['pid.init-is-pid1', 'pid.host-signal-refused', 'net.host-listener-unreachable', 'uts.hostname-isolated', 'user.ids-equal-profile', 'caps.sets-as-declared']) {
    t.is(why[id], undefined, id);
  }
  t.is(why['cgroup.namespace-root'], 'not applicable to this config: it declares no cgroup namespace');
  t.is(why['seccomp.denied-returns-errno'], 'not applicable to this config: it declares no seccomp policy');
  t.regex(why['user.bind-file-owner-mapped']!, /fixture directory/);
  t.regex(why['user.foreign-namespace-join-refused']!, /no user namespace.*user namespace files/);
});

test("runc spec --rootless: its user namespace makes the mapping invariants apply; it has no network namespace, so net.* skip", (t) => {
  const why = skipped(realProfile('runc spec --rootless'));
  t.is(why['user.maps-equal-profile'], undefined);
  t.is(why['user.setgroups-as-declared'], undefined);
  t.is(why['net.host-listener-unreachable'], 'not applicable to this config: it declares no net namespace');
});

test('a config joining a user namespace skips the invariants that read its declared mappings, naming why', (t) => {
  const joined = realProfile('runc spec --rootless', (c) => {
    c.linux.namespaces = c.linux.namespaces.map((ns: { type: string }) => (ns.type === 'user' ? { type: 'user', path: '/proc/4242/ns/user' } : ns));
  });
  const why = skipped(joined);
  const reason = 'it joins a user namespace, whose mappings and setgroups are its creator\'s, not the ones the config declares';
  for (const id of ['user.maps-equal-profile', 'user.setgroups-as-declared', 'user.unmapped-shows-overflow']) t.is(why[id], `not applicable to this config: ${reason}`, id);
  t.regex(why['user.nested-map-within-parent'] ?? '', /joins a user namespace/);
  t.is(skipped(realProfile('runc spec --rootless'))['user.maps-equal-profile'], undefined, 'a created one applies');
});

test("Podman's pids limit of 2048 is not forked up to on a shared host; a small one with a cgroup mount applies", (t) => {
  t.is(skipped(realProfile('podman'))['resources.pids-limit-holds'],
    'not applicable to this config: its pids limit 2048 is above 64: reaching it would start that many processes on this host');
  t.is(skipped(realProfile('podman', (c) => {
    c.linux.resources.pids.limit = 32;
  }))['resources.pids-limit-holds'], undefined);
  t.is(skipped(realProfile('runc spec'))['resources.pids-limit-holds'], 'not applicable to this config: it declares no pids limit');
});

test('a config whose process is not root skips what needs the namespace root, naming the ids', (t) => {
  const why = skipped(realProfile('runc spec', (c) => {
    c.process.user = { uid: 1000, gid: 1000 };
  }));
  t.is(why['proc.readonly-paths-unwritable'], 'not applicable to this config: its process runs as 1000:1000, not as the namespace root 0:0');
});

test("Podman's policy: the errno invariant applies only for calls the probe may make harmlessly, never kexec_load or acct", (t) => {
  const podman = realProfile('podman');
  t.is(notApplicable(INVARIANTS.find((i) => i.id === 'seccomp.mode-filter-when-declared')!, podman, host), undefined);
  const denying = realProfile('podman', (c) => {
    c.linux.seccomp.syscalls.push({ names: ['getppid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 });
  });
  t.is(notApplicable(INVARIANTS.find((i) => i.id === 'seccomp.denied-returns-errno')!, denying, host), undefined);
  const request = INVARIANTS.find((i) => i.id === 'seccomp.denied-returns-errno')!;
  if (request.scenario !== 'single') return t.fail('seccomp.denied-returns-errno is a single-container invariant');
  const probed = request.request(denying, {} as never).syscalls?.map((s) => s.name) ?? [];
  t.true(probed.includes('getppid'));
  t.false(probed.some((n) => ['kexec_load', 'acct', 'vhangup', 'reboot'].includes(n)), probed.join(', '));
});
