// resources and cgroupsPath in profiles and config.json: every malformed value is an error at its
// field path (the values the issue found accepted by runc's decoder's standards among them), and a
// valid one survives profile → config.json → profile and profile → YAML → profile unchanged.
import test from 'ava';
import fc from 'fast-check';
import { parseProfile } from '../../policy/profile/load.js';
import { ociConfigFromProfile, ociConfigJson, profileFromOciConfig } from '../../policy/profile/oci-config.js';
import { profileToYaml } from '../../policy/profile/profile-writer.js';
import { ProfileErrors } from '../../policy/profile/profile-error.js';

const BASE = { namespaces: ['pid', 'mnt'], process: { args: ['/bin/true'] } };

function errorsOf(doc: Record<string, unknown>): string[] {
  try {
    parseProfile({ ...BASE, ...doc }, 'p.yaml', { checkPaths: false });
    return [];
  } catch (e) {
    if (e instanceof ProfileErrors) return e.errors.map((x) => x.message);
    throw e;
  }
}

const CASES: [string, Record<string, unknown>, string[]][] = [
  ['devices as a string or a number', { resources: { devices: 'a' } }, ['p.yaml: resources.devices: expected a list, got "a"']],
  ['a rule whose allow is null, another whose allow is a string and access a path', {
    resources: { devices: [{ allow: null }, { allow: 'yes', access: '../../etc' }] },
  }, [
    'p.yaml: resources.devices[0].allow: expected true or false, got null',
    'p.yaml: resources.devices[1].allow: expected true or false, got "yes"',
    'p.yaml: resources.devices[1].access: expected some of r, w and m, each at most once, got "../../etc"',
  ]],
  ['a rule without allow, a bad type, a major past 12 bits, access twice', {
    resources: { devices: [{ type: 'c' }, { allow: true, type: 'x', major: 4096, access: 'rr' }] },
  }, [
    'p.yaml: resources.devices[0].allow: expected true or false (the runtime-spec requires it), got nothing',
    'p.yaml: resources.devices[1].type: expected one of a (all), c (character) or b (block), got "x"',
    'p.yaml: resources.devices[1].major: expected an integer from -1 to 4095, got 4096',
    'p.yaml: resources.devices[1].access: expected some of r, w and m, each at most once, got "rr"',
  ]],
  ['pids without its limit, memory past 2^53, swappiness past 100', {
    resources: { pids: {}, memory: { limit: 2 ** 60, swappiness: 101 } },
  }, [
    'p.yaml: resources.pids.limit: expected a limit (the runtime-spec requires it), got nothing',
    'p.yaml: resources.memory.limit: expected an integer number of bytes up to 9007199254740991, 0 for not set or -1 for no limit, got 1152921504606846976',
    'p.yaml: resources.memory.swappiness: expected an integer from 0 to 100, got 101',
  ]],
  ['swap below the limit', { resources: { memory: { limit: 100, swap: 50 } } },
    ['p.yaml: resources.memory.swap: expected memory plus swap, at least memory.limit (100), or -1 for no limit, got 50']],
  ['swap without a limit', { resources: { memory: { swap: 50 } } },
    ['p.yaml: resources.memory.swap: expected no swap limit without a memory limit (memory plus swap cannot be limited alone; runc refuses it too), or -1, got 50']],
  ['cpu values the kernel would refuse or clamp', { resources: { cpu: { shares: 1, cpus: '0-', period: 10 } } }, [
    'p.yaml: resources.cpu.cpus: expected a CPU or memory node list such as "0-3,7", got "0-"',
  ]],
  ['hugepage sizes and unified keys', { resources: { hugepageLimits: [{ pageSize: '2M', limit: 1 }], unified: { 'cgroup.procs': '1', 'memory.high': 5 } } }, [
    'p.yaml: resources.hugepageLimits[0].pageSize: expected a page size such as "2MB" or "1GB", got "2M"',
    'p.yaml: resources.unified["cgroup.procs"]: expected a controller\'s interface file such as "memory.high" (no "/", no cgroup.* file), got "cgroup.procs"',
    'p.yaml: resources.unified["memory.high"]: expected the value to write, as a string, got 5',
  ]],
  ['a cgroupsPath that climbs out', { cgroupsPath: 'a/../../b' },
    ['p.yaml: cgroupsPath: expected a cgroup path, absolute ("/a/b") or relative ("a/b"), without "." or ".." parts, got "a/../../b"']],
  ['a NUL byte in cgroupsPath', { cgroupsPath: 'a\0b' },
    ['p.yaml: cgroupsPath: expected a cgroup path, absolute ("/a/b") or relative ("a/b"), without "." or ".." parts without NUL bytes, got "a\\u0000b"']],
];

for (const [title, doc, messages] of CASES) {
  test(`refused: ${title}`, (t) => t.deepEqual(errorsOf(doc), messages));
}

test('cpu shares of 1 (clamped to 2 by the kernel, refused by runc) is an error', (t) => {
  t.deepEqual(errorsOf({ resources: { cpu: { shares: 1 } } }), ['p.yaml: resources.cpu.shares: expected an integer from 2 to 262144, or 0 for not set, got 1']);
});

const FULL = {
  pids: { limit: 64 },
  memory: { limit: 67108864, reservation: 33554432, swap: 134217728, swappiness: 10, disableOOMKiller: false },
  cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
  blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
  hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
  unified: { 'memory.high': '50000000' },
  devices: [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }],
};

test('a full resources section survives profile → config.json → profile and profile → YAML → profile', (t) => {
  const profile = parseProfile({ ...BASE, resources: FULL, cgroupsPath: 'nsrig-test/x' }, 'p.yaml', { checkPaths: false });
  t.deepEqual(profile.resources, FULL);
  const config = ociConfigFromProfile(profile, { rootfsPath: '/' });
  // A wildcard is written as the spec writes "any": the field left out.
  t.deepEqual((config.linux.resources as typeof FULL).devices[0], { allow: false, type: 'a', access: 'rwm' });
  t.is(config.linux.cgroupsPath, 'nsrig-test/x');
  const back = profileFromOciConfig(JSON.parse(ociConfigJson(config)), '/b/config.json', { checkPaths: false });
  t.deepEqual([back.resources, back.cgroupsPath], [FULL, 'nsrig-test/x']);
  const again = parseProfile(profileToYaml(profile), 'again.yaml', { checkPaths: false });
  t.deepEqual([again.resources, again.cgroupsPath], [FULL, 'nsrig-test/x']);
});

test('an empty cgroupsPath in a config.json is none, as runc reads it', (t) => {
  const profile = parseProfile({ ...BASE, resources: { pids: { limit: 64 } } }, 'p.yaml', { checkPaths: false });
  const config = JSON.parse(ociConfigJson(ociConfigFromProfile(profile, { rootfsPath: '/' })));
  config.linux.cgroupsPath = '';
  t.is(profileFromOciConfig(config, '/b/config.json', { checkPaths: false }).cgroupsPath, undefined);
});

test('property: any value of the wrong JSON type at any resources field is an error at that path, never a crash', (t) => {
  const paths: [string, string][] = [['pids', 'limit'], ['memory', 'limit'], ['memory', 'swappiness'], ['memory', 'disableOOMKiller'],
    ['cpu', 'shares'], ['cpu', 'cpus'], ['blockIO', 'weight']];
  fc.assert(fc.property(fc.constantFrom(...paths), fc.oneof(fc.string(), fc.object(), fc.constant(null), fc.double({ noInteger: true }), fc.array(fc.nat())),
    ([section, field], value) => {
      const wrongType = field === 'disableOOMKiller' ? typeof value !== 'boolean' : field === 'cpus' ? typeof value !== 'string' : typeof value !== 'number';
      fc.pre(wrongType);
      const errors = errorsOf({ resources: { [section]: { [field]: value } } });
      return errors.length >= 1 && errors.every((m) => m.startsWith(`p.yaml: resources.${section}.${field}: expected `));
    }), { numRuns: 300 });
  t.pass();
});
