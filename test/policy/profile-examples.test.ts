// Every shipped example loads, and says what its comments claim.
import test from 'ava';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadProfileFile, parseProfile, validateProfileFile } from '../../policy/profile/load.js';
import { profileFromOciConfig } from '../../policy/profile/oci-config.js';
import { ProfileErrors } from '../../policy/profile/profile-error.js';
import { NAMESPACE_TYPES } from '../../policy/profile/types.js';
import { loadPolicyFile, parsePolicy } from '../../policy/seccomp/index.js';
import { EXAMPLES, PROFILE_FIXTURES } from '../fixtures/profiles/paths.js';

const BUNDLE_CONFIG = { ociVersion: '1.0.2', root: { path: '/' }, process: { args: ['/bin/true'], cwd: '/' } };

/** Every profile under policy/examples: YAML files and OCI bundles' config.json. */
function exampleFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === 'policies' ? [] : exampleFiles(path);
    return /\.(ya?ml)$/.test(entry) || entry === 'config.json' ? [path] : [];
  });
}

const files = exampleFiles(EXAMPLES);

test('the examples are all found', (t) => {
  t.deepEqual(files.map((f) => f.slice(EXAMPLES.length + 1)).sort(),
    ['minimal.yaml', 'oci-bundle/config.json', 'strict.yaml', 'web-sandbox.yaml']);
});

for (const file of files) {
  test(`example ${file.slice(EXAMPLES.length + 1)} loads without an error`, (t) => {
    t.deepEqual(validateProfileFile(file).map((e) => e.message), []);
  });
}

test('minimal.yaml needs nothing but its command', (t) => {
  const profile = loadProfileFile(join(EXAMPLES, 'minimal.yaml'));
  t.is(profile.name, 'minimal');
  t.is(profile.process.args[0], '/bin/sh');
  t.like(profile.rootfs, { path: '/', readonly: true });
});

test('web-sandbox.yaml: loopback, sized tmpfs, a read-only bind, no capabilities', (t) => {
  const profile = loadProfileFile(join(EXAMPLES, 'web-sandbox.yaml'));
  t.deepEqual(profile.network, { loopback: true });
  t.deepEqual(profile.mounts.find((m) => m.destination === '/srv'),
    { type: 'bind', source: '/usr/share/doc', destination: '/srv', options: ['bind', 'nosuid', 'nodev', 'ro'], readonly: true, recursive: false });
  t.like(profile.mounts.find((m) => m.destination === '/tmp'), { type: 'tmpfs', sizeBytes: 16 * 1024 * 1024, mode: 0o1777 });
  t.deepEqual(Object.values(profile.process.capabilities).flat(), []);
  t.like(profile.process, { uid: 1000, gid: 1000, timeoutMs: 600_000 });
});

test('strict.yaml: all eight namespaces, nothing kept, a seccomp policy from its file', (t) => {
  const profile = loadProfileFile(join(EXAMPLES, 'strict.yaml'));
  t.deepEqual([...profile.namespaces].sort(), [...NAMESPACE_TYPES].sort());
  t.deepEqual(Object.values(profile.process.capabilities).flat(), []);
  t.true(profile.process.noNewPrivileges);
  t.is(profile.seccomp?.path, join(EXAMPLES, 'policies/deny-dangerous.json'));
  t.like(profile.seccomp?.policy, { defaultAction: 'SCMP_ACT_ALLOW' });
  t.deepEqual(profile.timeOffsets, { monotonic: 86400, boottime: 172800 });
  t.is(profile.user.uidMappings.length, 2);
  t.is(profile.user.setgroups, 'deny');
});

test('strict.yaml\'s policy passes policy/seccomp\'s own loader and validator, plugged in', (t) => {
  const files: string[] = [];
  const profile = loadProfileFile(join(EXAMPLES, 'strict.yaml'), {
    loadPolicyFile: (path) => { files.push(path); return loadPolicyFile(path); },
    validatePolicy: (policy, file) => { parsePolicy(policy, file); },
  });
  t.deepEqual(files, [join(EXAMPLES, 'policies/deny-dangerous.json')]);
  t.like(profile.seccomp?.policy, { defaultAction: 'SCMP_ACT_ALLOW' });
});

test('policy/seccomp\'s errors about an inline policy land below the policy\'s field', (t) => {
  const validatePolicy = (policy: unknown, file: string): void => { parsePolicy(policy, file); };
  const inline = { defaultAction: 'SCMP_ACT_NOPE' };
  t.deepEqual(validateProfileFile(join(PROFILE_FIXTURES, 'bundle/config.json'), { validatePolicy }), []);
  const errors = t.throws(() => parseProfile({ process: { args: ['/bin/true'] }, seccomp: inline }, 'p.yaml', { validatePolicy }), { instanceOf: ProfileErrors });
  t.deepEqual(errors!.errors.map((e) => e.fieldPath), ['seccomp.defaultAction']);
  t.regex(errors!.errors[0]!.message, /^p\.yaml: seccomp\.defaultAction: expected one of SCMP_ACT_KILL/);
  const oci = t.throws(() => profileFromOciConfig({ ...BUNDLE_CONFIG, linux: { seccomp: inline } }, 'config.json', { validatePolicy }),
    { instanceOf: ProfileErrors });
  t.deepEqual(oci!.errors.map((e) => e.fieldPath), ['linux.seccomp.defaultAction']);
});

test('oci-bundle/config.json reads with the config\'s own meaning', (t) => {
  const profile = loadProfileFile(join(EXAMPLES, 'oci-bundle/config.json'));
  t.is(profile.name, 'oci-bundle');
  t.deepEqual(profile.namespaces, ['pid', 'net', 'ipc', 'uts', 'mnt', 'user']);
  t.deepEqual(profile.process.capabilities.inheritable, []);
  t.deepEqual(profile.process.env, { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'dumb' });
  t.is(profile.user.setgroups, 'allow');
});
