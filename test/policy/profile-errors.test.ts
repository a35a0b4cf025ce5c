// Exact messages for bad profiles: each names the file, the field path, what was expected and
// what was found, and every error in a document is reported at once.
import test from 'ava';
import { parseProfile } from '../../policy/profile/load.js';
import { ProfileError, ProfileErrors } from '../../policy/profile/profile-error.js';

const FILE = 'profile.yaml';
const ARGS = { args: ['/bin/true'] };

function errorsOf(input: string | object): string[] {
  try {
    parseProfile(input, FILE);
  } catch (error) {
    if (error instanceof ProfileErrors) return error.errors.map((e) => e.message);
    throw error;
  }
  return [];
}

const mapping = (containerId: number, hostId: number, size: number): object => ({ containerId, hostId, size });

const CASES: { title: string; doc: string | object; messages: string[] }[] = [
  {
    title: 'a mapping size of 0',
    doc: { user: { uidMappings: [mapping(0, 100000, 1), mapping(1, 200000, 0)] }, process: ARGS },
    messages: ['profile.yaml: user.uidMappings[1].size: expected an integer from 1 to 4294967295, got 0'],
  },
  {
    title: 'overlapping container ranges',
    doc: { user: { uidMappings: [mapping(0, 100000, 100), mapping(50, 300000, 10)] }, process: ARGS },
    messages: ['profile.yaml: user.uidMappings[1].containerId: expected container ids that do not overlap user.uidMappings[0] (0 to 99), got 50 to 59'],
  },
  {
    title: 'overlapping host ranges',
    doc: { user: { gidMappings: [mapping(0, 100000, 100), mapping(100, 100099, 10)] }, process: ARGS },
    messages: ['profile.yaml: user.gidMappings[1].hostId: expected host ids that do not overlap user.gidMappings[0] (100000 to 100099), got 100099 to 100108'],
  },
  {
    title: 'a range running past the last id',
    doc: { user: { uidMappings: [mapping(0, 4294967000, 1000)] }, process: ARGS },
    messages: ['profile.yaml: user.uidMappings[0].size: expected an integer from 1 to 295 (hostId + size must not pass 4294967295), got 1000'],
  },
  {
    title: 'more mapping lines than the kernel takes',
    doc: { user: { uidMappings: Array.from({ length: 341 }, (_, i) => mapping(i, 100000 + i, 1)) }, process: ARGS },
    messages: ['profile.yaml: user.uidMappings: expected 1 to 340 mappings, got a list of 341'],
  },
  {
    title: 'the id (uid_t)-1',
    doc: { user: { uidMappings: [mapping(4294967295, 0, 1)] }, process: ARGS },
    messages: ['profile.yaml: user.uidMappings[0].containerId: expected an integer from 0 to 4294967294, got 4294967295'],
  },
  {
    title: 'a misspelt field, with a suggestion',
    doc: { namespace: ['pid'], process: ARGS },
    messages: ['profile.yaml: namespace: expected one of the fields name, namespaces, hostname, domainname, user, rootfs, mounts, maskedPaths, '
      + 'readonlyPaths, devices, network, process, timeOffsets, seccomp, resources, cgroupsPath, sysctl, namespacePaths, hooks, got an unknown field (did you mean "namespaces"?)'],
  },
  {
    title: 'an OCI spelling in our format',
    doc: { user: { uidMappings: [{ containerID: 0, hostId: 1, size: 1 }] }, process: ARGS },
    messages: [
      'profile.yaml: user.uidMappings[0].containerID: expected one of the fields containerId, hostId, size, got an unknown field (did you mean "containerId"?)',
      'profile.yaml: user.uidMappings[0].containerId: expected an integer from 0 to 4294967294, got nothing',
    ],
  },
  {
    title: 'an OCI namespace name',
    doc: { namespaces: ['pid', 'network', 'pid'], process: ARGS },
    messages: [
      'profile.yaml: namespaces[1]: expected one of user, pid, uts, ipc, net, cgroup, mnt, time, got "network" (did you mean "net"?)',
      'profile.yaml: namespaces[2]: expected each namespace once, got "pid"',
    ],
  },
  {
    title: 'a hostname without the uts namespace',
    doc: { namespaces: ['pid', 'mnt'], hostname: 'box', process: ARGS },
    messages: ['profile.yaml: hostname: hostname requires the uts namespace: expected "uts" in namespaces, got namespaces pid, mnt'],
  },
  {
    title: 'a hostname starting with a hyphen, and one too long',
    doc: { hostname: '-box', domainname: 'x'.repeat(65), process: ARGS },
    messages: [
      'profile.yaml: hostname: expected a host name of at most 64 bytes: letters, digits and "-" in labels separated by ".", no label starting with "-", got "-box"',
      `profile.yaml: domainname: expected a domain name of 1 to 64 printable ASCII characters without spaces, got "${'x'.repeat(57)}..."`,
    ],
  },
  {
    title: 'mounts that need namespaces the profile lacks',
    doc: {
      namespaces: ['user', 'mnt'],
      mounts: [{ type: 'proc' }, { type: 'sysfs' }, { type: 'mqueue' }],
      process: ARGS,
    },
    messages: [
      'profile.yaml: mounts[0].type: a proc mount in a user namespace requires the pid namespace: expected "pid" in namespaces, got namespaces user, mnt',
      'profile.yaml: mounts[1].type: a sysfs mount requires the net namespace: expected "net" in namespaces, got namespaces user, mnt',
      'profile.yaml: mounts[2].type: an mqueue mount requires the ipc namespace: expected "ipc" in namespaces, got namespaces user, mnt',
    ],
  },
  {
    title: 'mounts without the mnt namespace',
    doc: { namespaces: ['pid'], mounts: [{ type: 'tmpfs', destination: '/tmp' }], process: ARGS },
    messages: ['profile.yaml: mounts: mounts requires the mnt namespace: expected "mnt" in namespaces, got namespaces pid'],
  },
  {
    title: 'user settings and time offsets without their namespaces',
    doc: { namespaces: ['pid'], user: { setgroups: 'allow' }, timeOffsets: { monotonic: 5 }, process: ARGS },
    messages: [
      'profile.yaml: user: user requires the user namespace: expected "user" in namespaces, got namespaces pid',
      'profile.yaml: timeOffsets: timeOffsets requires the time namespace: expected "time" in namespaces, got namespaces pid',
    ],
  },
  {
    title: 'process ids the mappings leave out',
    doc: { user: { uidMappings: [mapping(0, 100000, 1000)], setgroups: 'allow' }, process: { ...ARGS, user: { uid: 1000, gid: 0, additionalGids: [0, 5000] } } },
    messages: [
      'profile.yaml: process.user.uid: expected a uid that user.uidMappings maps, got 1000',
      'profile.yaml: process.user.additionalGids[1]: expected a gid that user.gidMappings maps, got 5000',
    ],
  },
  {
    title: 'supplementary groups with setgroups denied',
    doc: { process: { ...ARGS, user: { additionalGids: [1] } } },
    messages: ['profile.yaml: process.user.additionalGids: supplementary groups require setgroups allow: expected an empty list, or user.setgroups set to allow, got 1 groups'],
  },
  {
    title: 'bad destinations',
    doc: {
      mounts: [
        { type: 'tmpfs', destination: 'tmp' }, { type: 'tmpfs', destination: '/a/../b' }, { type: 'tmpfs', destination: '/run/' },
        { type: 'tmpfs', destination: '/x' }, { type: 'tmpfs', destination: '/x' }, { type: 'dev', destination: '/' },
      ],
      process: ARGS,
    },
    messages: [
      'profile.yaml: mounts[0].destination: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "tmp"',
      'profile.yaml: mounts[1].destination: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "/a/../b"',
      'profile.yaml: mounts[2].destination: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "/run/"',
      'profile.yaml: mounts[5].destination: expected a destination other than "/" (the root is set by rootfs), got "/"',
      'profile.yaml: mounts[4].destination: expected a destination no other mount uses (mounts[3] already mounts there), got "/x"',
    ],
  },
  {
    title: 'a mount hidden by a later one',
    doc: { mounts: [{ type: 'tmpfs', destination: '/dev/shm' }, { type: 'dev' }], process: ARGS },
    messages: ['profile.yaml: mounts[1].destination: expected a destination that does not cover the earlier mounts[0] at /dev/shm (put the outer mount first), got "/dev"'],
  },
  {
    title: 'bind sources: relative, missing, absent',
    doc: {
      mounts: [
        { type: 'bind', source: 'usr', destination: '/a' }, { type: 'bind', source: '/no/such/dir', destination: '/b' },
        { type: 'bind', destination: '/c' },
      ],
      process: ARGS,
    },
    messages: [
      'profile.yaml: mounts[0].source: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "usr"',
      'profile.yaml: mounts[1].source: expected an existing file or directory on the host, got "/no/such/dir" (ENOENT)',
      'profile.yaml: mounts[2].source: expected an absolute path without ".", ".." or empty parts and no trailing "/", got nothing',
    ],
  },
  {
    title: 'tmpfs sizes and modes, and a field of another mount type',
    doc: {
      mounts: [
        { type: 'tmpfs', destination: '/a', size: '16x', mode: '8888' }, { type: 'tmpfs', destination: '/b', size: 0, mode: 0o10000 },
        { type: 'proc', size: '1m' }, { type: 'nfs', destination: '/c' },
      ],
      process: ARGS,
    },
    messages: [
      'profile.yaml: mounts[0].mode: expected a mode from 0 to 7777 in octal, written as a string such as "1777" (or a number), got "8888"',
      'profile.yaml: mounts[0].size: expected a size in bytes from 1 to 2^53-1, or a number with k, m or g such as "64k", "16m", "1g", got "16x"',
      'profile.yaml: mounts[1].mode: expected a mode from 0 to 7777 in octal, written as a string such as "1777" (or a number), got 4096',
      'profile.yaml: mounts[1].size: expected a size in bytes from 1 to 2^53-1, or a number with k, m or g such as "64k", "16m", "1g", got 0',
      'profile.yaml: mounts[2].size: expected one of the fields type, destination, options, got an unknown field',
      'profile.yaml: mounts[3].type: expected one of proc, sysfs, tmpfs, bind, mqueue, dev, devpts, cgroup, cgroup2, filesystem, got "nfs"',
    ],
  },
  {
    title: 'filesystems by name: none given, one nsrig has a type for, a name no filesystem has',
    doc: {
      mounts: [
        { type: 'filesystem', destination: '/a' }, { type: 'filesystem', fsType: 'tmpfs', destination: '/b' },
        { type: 'filesystem', fsType: 'ext4 -o', destination: '/c', source: 7 }, { type: 'devpts', readonly: true },
      ],
      process: ARGS,
    },
    messages: [
      'profile.yaml: mounts[0].fsType: expected a filesystem type such as "overlay" or "ramfs" (letters, digits, ".", "_", "-"), got nothing',
      'profile.yaml: mounts[1].fsType: expected a type nsrig has no mount type for (write type: tmpfs), got "tmpfs"',
      'profile.yaml: mounts[2].source: expected a mount source string, got 7',
      'profile.yaml: mounts[2].fsType: expected a filesystem type such as "overlay" or "ramfs" (letters, digits, ".", "_", "-"), got "ext4 -o"',
      'profile.yaml: mounts[3].readonly: expected one of the fields type, destination, options, got an unknown field',
    ],
  },
  {
    title: 'mount options: shorthands beside a list, refused and misplaced options, bad tmpfs data',
    doc: {
      mounts: [
        { type: 'tmpfs', destination: '/a', readonly: true, options: ['nosuid', 'mode=1778', 'size=lots'] },
        { type: 'proc', options: ['bind', 42, 'remount'] },
        { type: 'bind', source: '/', destination: '/b', options: 'ro' },
        { type: 'bind', source: '/', destination: '/c', options: ['ro', 'uid=0'] },
      ],
      process: ARGS,
    },
    messages: [
      'profile.yaml: mounts[0].readonly: expected no readonly beside options (write it as an option), got both',
      'profile.yaml: mounts[1].options[1]: expected a mount option string, got 42',
      'profile.yaml: mounts[1].options[2]: expected no remount (nsrig mounts each filesystem anew; a config has nothing to remount), got "remount"',
      'profile.yaml: mounts[2].options: expected a list, got "ro"',
      'profile.yaml: mounts[3].options[2]: expected a mount flag, a propagation or an r* option: a bind mount takes no filesystem data (the kernel ignores it), got "uid=0"',
    ],
  },
  {
    title: 'devices: unknown, repeated, and a bare YAML null',
    doc: 'process: {args: [/bin/true]}\nmounts:\n  - {type: dev, devices: [zero, zero, sda, null]}\n',
    messages: [
      'profile.yaml: mounts[0].devices[1]: expected each device once, got "zero"',
      'profile.yaml: mounts[0].devices[2]: expected one of null, zero, full, random, urandom, tty, got "sda"',
      'profile.yaml: mounts[0].devices[3]: expected one of null, zero, full, random, urandom, tty, got null (YAML reads a bare null as no value; write "null")',
    ],
  },
  {
    title: 'a YAML mode written in decimal',
    doc: 'process: {args: [/bin/true]}\nmounts:\n  - {type: tmpfs, destination: /tmp, mode: 1777}\n  - {type: tmpfs, destination: /run, mode: 0o755}\n',
    messages: ['profile.yaml: mounts[0].mode: expected an octal mode written "1777" (quoted) or 0o1777, got 1777, which YAML reads as a decimal number'],
  },
  {
    title: 'capabilities: unknown, repeated, and sets the kernel would refuse',
    doc: {
      process: {
        ...ARGS,
        capabilities: { bounding: ['sys_admn', 'chown', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: [], inheritable: ['kill'], ambient: ['kill'], extra: [] },
      },
    },
    messages: [
      'profile.yaml: process.capabilities.extra: expected one of the fields bounding, effective, permitted, inheritable, ambient, got an unknown field',
      'profile.yaml: process.capabilities.bounding[0]: expected a capability name from capabilities(7), such as CAP_NET_BIND_SERVICE, got "sys_admn" (did you mean "CAP_SYS_ADMIN"?)',
      'profile.yaml: process.capabilities.bounding[2]: expected each capability once, got "CAP_CHOWN"',
    ],
  },
  {
    title: 'effective outside permitted, ambient outside inheritable',
    doc: { process: { ...ARGS, capabilities: { effective: ['CAP_KILL'], permitted: ['CAP_CHOWN'], inheritable: [], ambient: ['CAP_CHOWN'] } } },
    messages: [
      'profile.yaml: process.capabilities.effective[0]: expected a capability that is also in permitted, got "CAP_KILL"',
      'profile.yaml: process.capabilities.ambient[0]: expected a capability that is also in permitted and inheritable, got "CAP_CHOWN"',
    ],
  },
  {
    title: 'rlimits: unknown, inverted, repeated, inexact',
    doc: {
      process: {
        ...ARGS,
        rlimits: [
          { type: 'RLIMIT_NOFLE', soft: 1, hard: 1 }, { type: 'nofile', soft: 10, hard: 5 }, { type: 'cpu', soft: 1, hard: 'unlimited' },
          { type: 'RLIMIT_CPU', soft: 1, hard: 1 }, { type: 'core', soft: 2 ** 60, hard: -1 },
        ],
      },
    },
    messages: [
      'profile.yaml: process.rlimits[0].type: expected one of RLIMIT_CPU, RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_STACK, RLIMIT_CORE, RLIMIT_RSS, RLIMIT_NPROC, '
        + 'RLIMIT_NOFILE, RLIMIT_MEMLOCK, RLIMIT_AS, RLIMIT_LOCKS, RLIMIT_SIGPENDING, RLIMIT_MSGQUEUE, RLIMIT_NICE, RLIMIT_RTPRIO, RLIMIT_RTTIME, '
        + 'got "RLIMIT_NOFLE" (did you mean "RLIMIT_NOFILE"?)',
      'profile.yaml: process.rlimits[1].soft: expected a soft limit no greater than the hard limit (5), got 10',
      'profile.yaml: process.rlimits[3].type: expected each limit once, got "RLIMIT_CPU"',
      'profile.yaml: process.rlimits[4].soft: expected an integer from 0 to 9007199254740991, or "unlimited", got 1152921504606846976',
      'profile.yaml: process.rlimits[4].hard: expected an integer from 0 to 9007199254740991, or "unlimited", got -1',
    ],
  },
  {
    title: 'process: empty args, bad env, relative cwd, timeouts out of range',
    doc: { process: { args: [], env: { 'A=B': 'x', N: 1, '': 'y' }, cwd: 'tmp', timeout: 86401 } },
    messages: [
      'profile.yaml: process.args: expected at least the program to run, got an empty list',
      'profile.yaml: process.env["A=B"]: expected a variable name that is not empty and has no "=" or NUL, got the name "A=B"',
      'profile.yaml: process.env.N: expected a string (quote it), got 1',
      'profile.yaml: process.env[""]: expected a variable name that is not empty and has no "=" or NUL, got the name ""',
      'profile.yaml: process.cwd: expected an absolute path, got "tmp"',
      'profile.yaml: process.timeout: expected a number of seconds from 0.001 to 86400, got 86401',
    ],
  },
  {
    title: 'no process at all',
    doc: { name: 'x' },
    messages: ['profile.yaml: process.args: expected a list, got nothing'],
  },
  {
    title: 'NUL bytes in arguments',
    doc: { process: { args: ['/bin/echo', 'a\0b'] } },
    messages: ['profile.yaml: process.args[1]: expected a string without NUL bytes, got "a\\u0000b"'],
  },
  {
    title: 'veth addresses: different subnets, a network address, bad text',
    doc: {
      network: { veth: { hostAddress: '10.0.0.1/30', containerAddress: '10.0.0.5/30' } }, process: ARGS,
    },
    messages: ['profile.yaml: network.veth.containerAddress: expected an address in the host end\'s subnet (10.0.0.1/30), got "10.0.0.5/30"'],
  },
  {
    title: 'veth: reserved and malformed addresses',
    doc: { network: { veth: { hostAddress: '10.0.0.0/30', containerAddress: '10.0.0.256/30' } }, process: ARGS },
    messages: [
      'profile.yaml: network.veth.hostAddress: expected a host address (not the network or broadcast address) in a subnet of /31 or larger, got "10.0.0.0/30"',
      'profile.yaml: network.veth.containerAddress: expected an IPv4 address with prefix length, such as "10.200.0.1/30", got "10.0.0.256/30"',
    ],
  },
  {
    title: 'network without the net namespace',
    doc: { namespaces: ['pid'], network: { loopback: true }, process: ARGS },
    messages: ['profile.yaml: network: network requires the net namespace: expected "net" in namespaces, got namespaces pid'],
  },
  {
    title: 'time offsets out of range',
    doc: { namespaces: ['time', 'pid'], timeOffsets: { monotonic: 4611686019, boottime: 1.5 }, process: ARGS },
    messages: [
      'profile.yaml: timeOffsets.monotonic: expected an integer from -4611686018 to 4611686018, got 4611686019',
      'profile.yaml: timeOffsets.boottime: expected an integer from -4611686018 to 4611686018, got 1.5',
    ],
  },
  {
    title: 'null is not the same as leaving a field out',
    doc: { name: null, process: null },
    messages: [
      'profile.yaml: name: expected a name of 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit, got null',
      'profile.yaml: process: expected an object, got null',
    ],
  },
  {
    title: 'a seccomp file that is not there, and a seccomp of the wrong type',
    doc: { process: ARGS, seccomp: 42 },
    messages: ['profile.yaml: seccomp: expected a path to an OCI seccomp JSON file, or the policy as an object, got 42'],
  },
  {
    title: 'a document that is a list',
    doc: '- a\n- b\n',
    messages: ['profile.yaml: expected an object, got a list of 2'],
  },
  {
    title: 'YAML syntax',
    doc: 'process:\n  args: [/bin/true\n',
    messages: ['profile.yaml: expected valid YAML or JSON, got Flow sequence in block collection must be sufficiently indented and end with a ] at line 3, column 1'],
  },
  {
    title: 'duplicate keys',
    doc: 'name: a\nname: b\nprocess: {args: [x]}\n',
    messages: ['profile.yaml: expected valid YAML or JSON, got Map keys must be unique at line 2, column 1'],
  },
];

for (const { title, doc, messages } of CASES) {
  test(`refuses ${title}`, (t) => {
    t.deepEqual(errorsOf(doc), messages);
  });
}

test('the error carries its parts apart from the message', (t) => {
  const error = t.throws(() => parseProfile({ process: { args: ['/bin/true'], timeout: 0 } }, FILE), { instanceOf: ProfileErrors });
  const [first] = error!.errors;
  t.true(first instanceof ProfileError);
  t.like(first, { file: FILE, fieldPath: 'process.timeout', expected: 'a number of seconds from 0.001 to 86400', got: '0', rule: undefined });
  t.is(error!.message, `${FILE}: 1 error\n  ${first!.message}`);
});

test('a rule error names its rule', (t) => {
  const error = t.throws(() => parseProfile({ namespaces: [], hostname: 'h', process: { args: ['x'] } }, FILE), { instanceOf: ProfileErrors });
  t.like(error!.errors[0], { fieldPath: 'hostname', rule: 'hostname requires the uts namespace', got: 'no namespaces' });
});
