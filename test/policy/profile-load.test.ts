// Defaults, accepted spellings, files and the seccomp hooks of the profile loader.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FieldError } from '../../policy/field-error.js';
import { loadProfileFile, parseProfile, validateProfileFile } from '../../policy/profile/load.js';
import { ProfileError, ProfileErrors } from '../../policy/profile/profile-error.js';
import { CAPABILITY_NAMES, capabilityNumber, normaliseCapabilityName } from '../../policy/profile/capabilities.js';
import { normaliseRlimitName, RLIMIT_NUMBERS } from '../../policy/profile/rlimits.js';
import {
  DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_NAMESPACES, DEFAULT_PATH, DEFAULT_READONLY_PATHS, type Profile,
} from '../../policy/profile/types.js';
import { PROFILE_FIXTURES } from '../fixtures/profiles/paths.js';

const TRUE = { args: ['/bin/true'] };

test('a profile with only args resolves to every default', (t) => {
  const profile = parseProfile({ process: TRUE }, '/somewhere/hello.yaml');
  const caps = [...DEFAULT_CAPABILITIES];
  const tmpfsOptions = ['nosuid', 'nodev', 'mode=1777', `size=${64 * 1024 * 1024}`];
  const expected: Profile = {
    source: '/somewhere/hello.yaml',
    name: 'hello',
    namespaces: [...DEFAULT_NAMESPACES],
    user: {
      uidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
      gidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
      setgroups: 'deny',
    },
    rootfs: { path: '/', readonly: true, propagation: 'private' },
    mounts: [
      { type: 'proc', destination: '/proc', options: ['nosuid', 'noexec', 'nodev'] },
      {
        type: 'dev', destination: '/dev', options: ['nosuid', 'noexec', 'strictatime', 'mode=755', 'size=65536k'],
        devices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'],
      },
      { type: 'tmpfs', destination: '/dev/shm', options: tmpfsOptions, sizeBytes: 64 * 1024 * 1024, mode: 0o1777, readonly: false },
      { type: 'mqueue', destination: '/dev/mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { type: 'tmpfs', destination: '/tmp', options: tmpfsOptions, sizeBytes: 64 * 1024 * 1024, mode: 0o1777, readonly: false },
      { type: 'sysfs', destination: '/sys', options: ['nosuid', 'noexec', 'nodev', 'ro'], readonly: true },
    ],
    maskedPaths: [...DEFAULT_MASKED_PATHS],
    readonlyPaths: [...DEFAULT_READONLY_PATHS],
    network: { loopback: true },
    process: {
      args: ['/bin/true'], env: { PATH: DEFAULT_PATH }, cwd: '/', uid: 0, gid: 0, additionalGids: [],
      capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] },
      noNewPrivileges: true, rlimits: [], timeoutMs: 30000,
    },
  };
  t.deepEqual(profile, expected);
});

test('defaults follow the namespaces: no mnt means no mounts and a writable host root', (t) => {
  const profile = parseProfile({ namespaces: ['pid', 'uts'], process: TRUE }, 'p.yaml');
  t.deepEqual(profile.mounts, []);
  t.deepEqual(profile.maskedPaths, []);
  t.deepEqual(profile.readonlyPaths, []);
  t.deepEqual(profile.rootfs, { path: '/', readonly: false, propagation: 'private' });
  t.deepEqual(profile.user, { uidMappings: [], gidMappings: [], setgroups: 'allow' });
  t.deepEqual(profile.network, { loopback: false });
});

test('default mounts leave out what a missing namespace could not mount', (t) => {
  const profile = parseProfile({ namespaces: ['mnt', 'user'], process: TRUE }, 'p.yaml');
  t.deepEqual(profile.mounts.map((m) => `${m.type} ${m.destination}`), ['dev /dev', 'tmpfs /dev/shm', 'tmpfs /tmp']);
});

test('one side of the id mappings serves for the other', (t) => {
  const uidOnly = parseProfile({ user: { uidMappings: [{ containerId: 0, hostId: 5000, size: 10 }] }, process: TRUE }, 'p.yaml');
  t.deepEqual(uidOnly.user.gidMappings, [{ containerId: 0, hostId: 5000, size: 10 }]);
  const gidOnly = parseProfile({ user: { gidMappings: [{ containerId: 0, hostId: 7000, size: 10 }] }, process: TRUE }, 'p.yaml');
  t.deepEqual(gidOnly.user.uidMappings, [{ containerId: 0, hostId: 7000, size: 10 }]);
});

test('ranges that only touch do not overlap, and the last id is reachable', (t) => {
  const profile = parseProfile({
    user: { uidMappings: [{ containerId: 0, hostId: 4294967194, size: 101 }, { containerId: 101, hostId: 0, size: 4294967194 }] },
    process: TRUE,
  }, 'p.yaml');
  t.is(profile.user.uidMappings.length, 2);
});

test('capability names take any case and an optional prefix', (t) => {
  const profile = parseProfile({ process: { ...TRUE, capabilities: ['chown', 'Cap_Kill', 'CAP_NET_RAW'] } }, 'p.yaml');
  t.deepEqual(profile.process.capabilities, {
    bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'], effective: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'],
    permitted: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW'], inheritable: [], ambient: [],
  });
  const sets = parseProfile({ process: { ...TRUE, capabilities: { permitted: ['kill'], inheritable: ['kill'], ambient: ['kill'] } } }, 'p.yaml');
  t.deepEqual(sets.process.capabilities, { bounding: [], effective: [], permitted: ['CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] });
});

test('the capability table matches capability.h', (t) => {
  t.is(CAPABILITY_NAMES.length, 41);
  t.is(CAPABILITY_NAMES[0], 'CAP_CHOWN');
  t.is(CAPABILITY_NAMES[40], 'CAP_CHECKPOINT_RESTORE');
  t.is(capabilityNumber('CAP_SYS_ADMIN'), 21);
  t.is(capabilityNumber('CAP_SETFCAP'), 31);
  t.is(capabilityNumber('CAP_BPF'), 39);
  t.is(normaliseCapabilityName('net_bind_service'), 'CAP_NET_BIND_SERVICE');
  t.is(normaliseCapabilityName('CAP_FLY'), undefined);
  t.throws(() => capabilityNumber('CAP_FLY'), { instanceOf: RangeError });
  t.is(RLIMIT_NUMBERS.RLIMIT_NOFILE, 7);
  t.is(RLIMIT_NUMBERS.RLIMIT_RTTIME, 15);
  t.is(normaliseRlimitName('nofile'), 'RLIMIT_NOFILE');
});

test('env given is exactly the environment; env left out is PATH alone', (t) => {
  t.deepEqual(parseProfile({ process: { ...TRUE, env: {} } }, 'p.yaml').process.env, {});
  t.deepEqual(parseProfile({ process: { ...TRUE, env: { A: '1', B: '' } } }, 'p.yaml').process.env, { A: '1', B: '' });
});

test('sizes, modes, limits and timeouts as people write them', (t) => {
  const profile = parseProfile(`
process:
  args: [/bin/true]
  rlimits: [{type: nofile, soft: 10, hard: unlimited}]
  timeout: 0.25
mounts:
  - {type: tmpfs, destination: /a, size: 64k, mode: "0755"}
  - {type: tmpfs, destination: /b, size: 16M, mode: 0o1777}
  - {type: tmpfs, destination: /c, size: "1g", mode: "700", readonly: true}
  - {type: tmpfs, destination: /d, size: 4096}
`, 'p.yaml');
  t.deepEqual(profile.mounts, [
    { type: 'tmpfs', destination: '/a', options: ['nosuid', 'nodev', 'mode=755', 'size=65536'], sizeBytes: 65536, mode: 0o755, readonly: false },
    {
      type: 'tmpfs', destination: '/b', options: ['nosuid', 'nodev', 'mode=1777', `size=${16 * 1024 * 1024}`],
      sizeBytes: 16 * 1024 * 1024, mode: 0o1777, readonly: false,
    },
    {
      type: 'tmpfs', destination: '/c', options: ['nosuid', 'nodev', 'mode=700', `size=${1024 ** 3}`, 'ro'],
      sizeBytes: 1024 ** 3, mode: 0o700, readonly: true,
    },
    { type: 'tmpfs', destination: '/d', options: ['nosuid', 'nodev', 'mode=1777', 'size=4096'], sizeBytes: 4096, mode: 0o1777, readonly: false },
  ]);
  t.deepEqual(profile.process.rlimits, [{ type: 'RLIMIT_NOFILE', soft: 10, hard: Infinity }]);
  t.is(profile.process.timeoutMs, 250);
});

test('in JSON a numeric mode is the mode itself', (t) => {
  const json = JSON.stringify({ process: TRUE, mounts: [{ type: 'tmpfs', destination: '/tmp', mode: 1023 }] });
  const profile = parseProfile(json, 'p.json');
  t.like(profile.mounts[0], { mode: 0o1777 });
});

test('a name comes from the file when the profile has none', (t) => {
  t.is(parseProfile({ process: TRUE }, '/x/My Profile.v2.yaml').name, 'My-Profile.v2');
  t.is(parseProfile({ process: TRUE }, '<generated>').name, 'generated');
  t.is(parseProfile({ name: 'given', process: TRUE }, 'p.yaml').name, 'given');
});

test('a seccomp path is relative to the profile file, and its large values stay exact with the loader hook', (t) => {
  const file = join(PROFILE_FIXTURES, 'with-seccomp.yaml');
  const profile = loadProfileFile(file);
  t.is(profile.seccomp?.path, join(PROFILE_FIXTURES, 'policies/allow-all.json'));
  t.like(profile.seccomp?.policy, { defaultAction: 'SCMP_ACT_ALLOW' });
  const seen: string[] = [];
  const exact = loadProfileFile(file, { loadPolicyFile: (path) => { seen.push(path); return { exact: 18446744073709551615n }; } });
  t.deepEqual(seen, [join(PROFILE_FIXTURES, 'policies/allow-all.json')]);
  t.deepEqual(exact.seccomp?.policy, { exact: 18446744073709551615n });
});

test('validatePolicy sees each policy with its file and field path, and its errors join the profile\'s', (t) => {
  const calls: [unknown, string, string][] = [];
  const validatePolicy = (policy: unknown, file: string, fieldPath: string): void => {
    calls.push([policy, file, fieldPath]);
    throw new ProfileError(file, `${fieldPath === '' ? '' : `${fieldPath}.`}defaultAction`, 'a known action', '"SCMP_ACT_MAYBE"');
  };
  const inline = { defaultAction: 'SCMP_ACT_MAYBE' };
  const errors = t.throws(() => parseProfile({ process: { args: [] }, seccomp: inline }, 'p.yaml', { validatePolicy }), { instanceOf: ProfileErrors });
  t.deepEqual(calls, [[inline, 'p.yaml', 'seccomp']]);
  t.deepEqual(errors!.errors.map((e) => e.message), [
    'p.yaml: process.args: expected at least the program to run, got an empty list',
    'p.yaml: seccomp.defaultAction: expected a known action, got "SCMP_ACT_MAYBE"',
  ]);
  calls.length = 0;
  const fromFile = validateProfileFile(join(PROFILE_FIXTURES, 'with-seccomp.yaml'), { validatePolicy });
  t.is(calls[0]![1], join(PROFILE_FIXTURES, 'policies/allow-all.json'));
  t.is(calls[0]![2], '');
  t.deepEqual(fromFile.map((e) => e.fieldPath), ['defaultAction']);
});

test('a validator\'s own located errors keep their place; anything else lands on the seccomp field', (t) => {
  // A validator locates its errors by throwing FieldError, the one shape policy/seccomp's PolicyError has too.
  class PolicyLikeError extends FieldError {
    constructor(message: string) {
      super(message, 'policy.json', 'syscalls[0].action', 'an action', '"X"');
    }
  }
  const located = t.throws(() => parseProfile({ process: TRUE, seccomp: {} }, 'p.yaml', {
    validatePolicy: () => { throw new PolicyLikeError('bad'); },
  }), { instanceOf: ProfileErrors });
  t.is(located!.errors[0]!.message, 'policy.json: syscalls[0].action: expected an action, got "X"');
  const plain = t.throws(() => parseProfile({ process: TRUE, seccomp: {} }, 'p.yaml', {
    validatePolicy: () => { throw new TypeError('no syscalls'); },
  }), { instanceOf: ProfileErrors });
  t.is(plain!.errors[0]!.message, 'p.yaml: seccomp: expected a valid seccomp policy, got no syscalls');
});

test('inline policy integers past 2^53 are read exactly from YAML and JSON', (t) => {
  const yaml = 'process: {args: [/bin/true]}\nseccomp:\n  defaultAction: SCMP_ACT_ALLOW\n  syscalls: [{names: [x], action: SCMP_ACT_ERRNO, '
    + 'args: [{index: 0, value: 18446744073709551615, op: SCMP_CMP_EQ}]}]\n';
  const policy = parseProfile(yaml, 'p.yaml').seccomp?.policy as { syscalls: { args: { value: unknown; index: unknown }[] }[] };
  t.is(policy.syscalls[0]!.args[0]!.value, 18446744073709551615n);
  t.is(policy.syscalls[0]!.args[0]!.index, 0);
  const json = JSON.stringify({ process: { args: ['x'] }, seccomp: { defaultAction: 'SCMP_ACT_ALLOW', value: 1 } }).replace('"value":1', '"value":9007199254740993');
  t.is((parseProfile(json, 'p.json').seccomp?.policy as { value: unknown }).value, 9007199254740993n);
});

test('validateProfileFile returns every error and never throws for bad input', (t) => {
  t.deepEqual(validateProfileFile(join(PROFILE_FIXTURES, 'with-seccomp.yaml')), []);
  t.deepEqual(validateProfileFile(join(PROFILE_FIXTURES, 'no-such-file.yaml')).map((e) => e.message),
    [`${join(PROFILE_FIXTURES, 'no-such-file.yaml')}: expected a readable profile file (YAML, JSON or an OCI config.json), got ENOENT`]);
  t.deepEqual(validateProfileFile(join(PROFILE_FIXTURES, 'broken.yaml')).map((e) => e.fieldPath), ['']);
  t.deepEqual(validateProfileFile(join(PROFILE_FIXTURES, 'not-a-list.json')).map((e) => e.expected), ['valid YAML or JSON']);
});

test('rootfs: an existing directory, checked unless told not to', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsrig-profile-'));
  try {
    writeFileSync(join(dir, 'file'), '');
    t.like(parseProfile({ rootfs: { path: dir }, process: TRUE }, 'p.yaml').rootfs, { path: dir, readonly: true });
    const errors = t.throws(() => parseProfile({ rootfs: { path: join(dir, 'file') }, process: TRUE }, 'p.yaml'), { instanceOf: ProfileErrors });
    t.is(errors!.errors[0]!.message, `p.yaml: rootfs.path: expected an existing directory on the host, got "${join(dir, 'file')}"`);
    const unchecked = parseProfile({ rootfs: { path: '/no/such' }, mounts: [{ type: 'bind', source: '/no/such', destination: '/x' }], process: TRUE },
      'p.yaml', { checkPaths: false });
    t.is(unchecked.rootfs.path, '/no/such');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
