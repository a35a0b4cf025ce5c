// OCI runtime-spec configs: reading one as a profile, writing a profile as one, field by field,
// and the round trip between them.
import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { loadProfileFile, parseProfile } from '../../policy/profile/load.js';
import { ociConfigFromProfile, ociConfigGaps, ociConfigJson, profileFromOciConfig } from '../../policy/profile/oci-config.js';
import { ProfileErrors } from '../../policy/profile/profile-error.js';
import { profileToDocument } from '../../policy/profile/profile-writer.js';
import { DEVICE_NAMES, type Mount, type Profile } from '../../policy/profile/types.js';
import { remountedWith } from '../../policy/profile/mounts.js';
import { PROPAGATION_OPTION_NAMES } from '../../policy/profile/mount-options.js';
import { EXAMPLES, PROFILE_FIXTURES } from '../fixtures/profiles/paths.js';
import { REAL_CONFIG_NAMES, readRealConfig } from '../fixtures/oci-configs/real-configs.js';
import { validProfileDocument } from '../fixtures/profiles/profile-document-arbitrary.js';

const BUNDLE = join(PROFILE_FIXTURES, 'bundle');

/** What a config cannot carry back: where the profile came from and the seccomp file's name. */
function comparable(profile: Profile): Omit<Profile, 'source'> {
  const { source: _source, ...rest } = profile;
  return rest.seccomp === undefined ? rest : { ...rest, seccomp: { policy: rest.seccomp.policy } };
}

/** Runtimes create all six default devices in a /dev tmpfs, so that is what a config reads back as. */
function asRuntimesSeeIt(profile: Profile): Profile {
  const mounts = profile.mounts.map((m) => (m.type === 'dev' && m.destination === '/dev' ? { ...m, devices: [...DEVICE_NAMES] } : m));
  return { ...profile, mounts: mounts.map((m) => withDeclaredPropagation(m, profile.rootfs.propagation)) };
}

/** The writer gives a bind that declares no propagation the root's (see ociMount). */
function withDeclaredPropagation(mount: Mount, propagation: string): Mount {
  if (mount.type !== 'bind' || mount.options.some((o) => PROPAGATION_OPTION_NAMES.includes(o))) return mount;
  const options = [...mount.options];
  options.splice(options.findIndex((o) => o === 'bind' || o === 'rbind') + 1, 0, `${mount.recursive ? 'r' : ''}${propagation}`);
  return remountedWith(mount, options);
}

function roundTrip(profile: Profile): Profile {
  const config = ociConfigFromProfile(profile, { rootfsPath: profile.rootfs.path });
  return profileFromOciConfig(JSON.parse(ociConfigJson(config)), '/bundles/x/config.json', { checkPaths: false });
}

test('strict.yaml is written as a config that asks for all of it', (t) => {
  const profile = loadProfileFile(join(EXAMPLES, 'strict.yaml'));
  const config = ociConfigFromProfile(profile, { rootfsPath: 'rootfs' });
  t.is(config.ociVersion, '1.1.0');
  t.deepEqual(config.root, { path: 'rootfs', readonly: true });
  t.is(config.hostname, 'strict');
  t.is(config.domainname, 'sandbox.invalid');
  t.deepEqual(config.process.user, { uid: 1000, gid: 1000 });
  t.deepEqual(config.process.args, profile.process.args);
  t.deepEqual(config.process.env, ['PATH=/usr/bin:/bin']);
  t.is(config.process.cwd, '/tmp');
  t.false(config.process.terminal);
  t.true(config.process.noNewPrivileges);
  t.deepEqual(config.process.capabilities, { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] });
  t.deepEqual(config.process.rlimits, [
    { type: 'RLIMIT_NOFILE', soft: 64, hard: 64 }, { type: 'RLIMIT_NPROC', soft: 32, hard: 32 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 }, { type: 'RLIMIT_FSIZE', soft: 8388608, hard: 8388608 },
  ]);
  t.deepEqual(config.linux.namespaces.map((n) => n.type), ['user', 'pid', 'uts', 'ipc', 'network', 'cgroup', 'mount', 'time']);
  t.deepEqual(config.linux.uidMappings, [{ containerID: 0, hostID: 300000, size: 1000 }, { containerID: 1000, hostID: 301000, size: 64536 }]);
  t.deepEqual(config.linux.gidMappings, [{ containerID: 0, hostID: 300000, size: 65536 }]);
  t.deepEqual(config.linux.maskedPaths, profile.maskedPaths);
  t.deepEqual(config.linux.readonlyPaths, profile.readonlyPaths);
  t.is(config.linux.rootfsPropagation, 'private');
  t.is(config.linux.seccomp, profile.seccomp?.policy);
  t.deepEqual(config.linux.timeOffsets, { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 172800, nanosecs: 0 } });
  t.deepEqual(config.mounts, [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=8388608'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ]);
  t.deepEqual(config.annotations, {
    'org.nsrig.profile.name': 'strict', 'org.nsrig.process.timeout': '10', 'org.nsrig.user.setgroups': 'deny', 'org.nsrig.network.loopback': 'true',
  });
});

test('bind mounts, read-only tmpfs, additional gids, args replaced for a probe', (t) => {
  const profile = parseProfile({
    namespaces: ['mnt', 'pid'],
    mounts: [
      { type: 'bind', source: '/usr', destination: '/usr', recursive: true },
      { type: 'bind', source: '/etc', destination: '/mnt', readonly: false },
      { type: 'tmpfs', destination: '/tmp', readonly: true, mode: '0700' },
    ],
    process: { args: ['/bin/true'], user: { uid: 5, gid: 6, additionalGids: [7, 8] }, rlimits: [{ type: 'core', soft: 0, hard: 'unlimited' }] },
  }, 'p.yaml');
  const config = ociConfigFromProfile(profile, { rootfsPath: '/abs/rootfs', args: ['/probe', 'uts'] });
  t.is(config.ociVersion, '1.0.2');
  t.deepEqual(config.process.args, ['/probe', 'uts']);
  t.deepEqual(config.process.user, { uid: 5, gid: 6, additionalGids: [7, 8] });
  t.is(config.linux.uidMappings, undefined);
  t.is(config.hostname, undefined);
  t.deepEqual(config.mounts, [
    { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'rprivate', 'nosuid', 'nodev', 'ro', 'rro'] },
    { destination: '/mnt', type: 'bind', source: '/etc', options: ['bind', 'private', 'nosuid', 'nodev'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=700', 'ro'] },
  ]);
  t.deepEqual(config.process.rlimits, [{ type: 'RLIMIT_CORE', soft: 0, hard: 18446744073709551615n }]);
  t.regex(ociConfigJson(config), /"hard": 18446744073709551615\b/);
  t.deepEqual(config.annotations, { 'org.nsrig.profile.name': 'p', 'org.nsrig.process.timeout': '30' });
});

test('a bundle config.json reads as the profile it describes', (t) => {
  const profile = loadProfileFile(join(BUNDLE, 'config.json'));
  const expected: Profile = {
    source: join(BUNDLE, 'config.json'),
    name: 'bundle',
    namespaces: ['pid', 'net', 'ipc', 'uts', 'mnt', 'user', 'cgroup', 'time'],
    hostname: 'bundle-host',
    domainname: 'bundle.invalid',
    user: {
      uidMappings: [{ containerId: 0, hostId: 100000, size: 65536 }],
      gidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }],
      setgroups: 'allow',
    },
    rootfs: { path: join(BUNDLE, 'rootfs'), readonly: true, propagation: 'slave' },
    mounts: [
      { type: 'proc', destination: '/proc', options: ['nosuid', 'noexec', 'nodev'] },
      {
        type: 'dev', destination: '/dev', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
        devices: ['null', 'zero', 'full', 'random', 'urandom', 'tty'],
      },
      {
        type: 'tmpfs', destination: '/tmp', options: ['nosuid', 'nodev', 'mode=1777', 'size=16m', 'ro'],
        sizeBytes: 16 * 1024 * 1024, mode: 0o1777, readonly: true,
      },
      { type: 'sysfs', destination: '/sys', options: ['nosuid', 'noexec', 'nodev'], readonly: false },
      // No options is none at all: OCI mounts get exactly what they declare.
      { type: 'mqueue', destination: '/dev/mqueue', options: [] },
      { type: 'bind', source: join(BUNDLE, 'rootfs'), destination: '/data', options: ['rbind', 'ro'], readonly: true, recursive: true },
      { type: 'bind', source: '/etc/hosts', destination: '/etc/hosts', options: ['bind'], readonly: false, recursive: false },
    ],
    maskedPaths: ['/proc/kcore'],
    readonlyPaths: [],
    network: { loopback: true },
    process: {
      args: ['/bin/sh', '-c', 'id'],
      env: { PATH: '/usr/bin:/bin', HOME: '/home/user', EMPTY: '' },
      cwd: '/tmp', uid: 1000, gid: 1000, additionalGids: [5, 6],
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'],
      },
      noNewPrivileges: true,
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }, { type: 'RLIMIT_CORE', soft: Infinity, hard: Infinity }],
      timeoutMs: 2500,
    },
    timeOffsets: { monotonic: 100, boottime: -5 },
    seccomp: { policy: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] } },
    // A rule without type, major or minor means every device: "a", and -1 for the wildcards.
    resources: { devices: [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }] },
    cgroupsPath: '/nsrig/test',
  };
  t.deepEqual(profile, expected);
});

test('a config\'s omissions keep their OCI meaning: nothing, not our defaults', (t) => {
  const profile = profileFromOciConfig({ ociVersion: '1.0.2', root: { path: '/' }, process: { args: ['/bin/true'], cwd: '/' } }, 'config.json');
  t.deepEqual(profile.namespaces, []);
  t.deepEqual(profile.mounts, []);
  t.deepEqual(profile.maskedPaths, []);
  t.deepEqual(profile.process.env, {});
  t.deepEqual(Object.values(profile.process.capabilities).flat(), []);
  t.false(profile.process.noNewPrivileges);
  t.deepEqual(profile.rootfs, { path: '/', readonly: false, propagation: 'private' });
});

const BASE = {
  ociVersion: '1.0.2',
  root: { path: '/', readonly: true },
  process: { args: ['/bin/true'], cwd: '/' },
  linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }],
    gidMappings: [{ containerID: 0, hostID: 1000, size: 10 }] },
};

function ociErrors(change: (config: Record<string, any>) => void): string[] {
  const config = structuredClone(BASE) as Record<string, any>;
  change(config);
  try {
    profileFromOciConfig(config, 'config.json');
  } catch (error) {
    if (error instanceof ProfileErrors) return error.errors.map((e) => e.message);
    throw error;
  }
  return [];
}

test('the base config of the refusal table is itself accepted', (t) => {
  t.deepEqual(ociErrors(() => undefined), []);
});

test('every mount of the real configs reads as its type with its options exactly as written', (t) => {
  for (const name of REAL_CONFIG_NAMES) {
    const mounts = readRealConfig(name).mounts as { type: string; destination: string; options?: string[] }[];
    const config = structuredClone(BASE) as Record<string, any>;
    config.linux.namespaces.push({ type: 'network' }, { type: 'ipc' });
    config.mounts = mounts;
    const profile = profileFromOciConfig(config, `/bundles/${name}/config.json`, { checkPaths: false });
    t.deepEqual(profile.mounts.map((m) => m.options), mounts.map((m) => m.options ?? []), name);
    const isBind = (m: { options?: string[] }) => m.options?.includes('bind') || m.options?.includes('rbind');
    t.deepEqual(profile.mounts.map((m) => (m.type === 'filesystem' ? m.fsType : m.type)),
      mounts.map((m) => (isBind(m) ? 'bind' : m.type === 'tmpfs' && m.destination === '/dev' ? 'dev' : m.type)), name);
  }
});

test('linux.devices (nodes to make) and linux.resources.devices (the cgroup allow-list) are read apart and written back apart', (t) => {
  const config = structuredClone(BASE) as Record<string, any>;
  config.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }, { path: '/dev/fifo', type: 'p' }];
  config.linux.resources = {
    devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }],
  };
  const profile = profileFromOciConfig(config, '/bundles/x/config.json', { checkPaths: false });
  t.deepEqual(profile.devices, [
    { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 },
    { path: '/dev/fifo', type: 'p', major: 0, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
  ]);
  t.deepEqual(profile.resources?.devices, [
    { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' },
    { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
  ]);
  const back = roundTrip(profile);
  t.deepEqual(back.devices, profile.devices);
  t.deepEqual(back.resources?.devices, profile.resources?.devices);
});

test('hooks: Docker\'s prestart hook reads as written, every kind goes back to config.json and to a profile document unchanged', (t) => {
  const docker = readRealConfig('docker') as Record<string, any>;
  const config = structuredClone(BASE) as Record<string, any>;
  config.hooks = {
    prestart: docker.hooks.prestart,
    createRuntime: [{ path: '/usr/bin/env', args: ['env', '-i'], env: ['A=1', 'B=two=2'], timeout: 3 }],
    createContainer: [{ path: '/bin/true' }],
    startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat >/dev/null'] }],
    poststart: [{ path: '/bin/true', timeout: 1 }, { path: '/bin/false' }],
    poststop: [{ path: '/bin/true', env: [] }],
  };
  const profile = profileFromOciConfig(config, '/bundles/x/config.json', { checkPaths: false });
  t.is(profile.hooks?.prestart?.[0]?.path, docker.hooks.prestart[0].path);
  t.deepEqual(profile.hooks?.prestart?.[0]?.args, docker.hooks.prestart[0].args);
  t.deepEqual(profile.hooks?.createRuntime, [{ path: '/usr/bin/env', args: ['env', '-i'], env: ['A=1', 'B=two=2'], timeoutSeconds: 3 }]);
  t.deepEqual(profile.hooks?.poststart, [{ path: '/bin/true', args: [], env: [], timeoutSeconds: 1 }, { path: '/bin/false', args: [], env: [] }]);
  const exported = ociConfigFromProfile(profile, { rootfsPath: 'rootfs' });
  t.deepEqual(exported.hooks?.createRuntime, config.hooks.createRuntime);
  t.deepEqual(exported.hooks?.poststop, [{ path: '/bin/true' }]);
  t.deepEqual(roundTrip(profile).hooks, profile.hooks);
  t.deepEqual(parseProfile(profileToDocument(profile), 'hooks.yaml', { checkPaths: false }).hooks, profile.hooks);
});

const REFUSALS: { title: string; change: (c: Record<string, any>) => void; messages: string[] }[] = [
  {
    title: 'errors name the config\'s own fields',
    change: (c) => { c.linux.uidMappings[0].size = 0; c.linux.gidMappings[0].containerID = -1; },
    messages: [
      'config.json: linux.uidMappings[0].size: expected an integer from 1 to 4294967295, got 0',
      'config.json: linux.gidMappings[0].containerID: expected an integer from 0 to 4294967294, got -1',
    ],
  },
  {
    title: 'unmapped process ids and missing mappings',
    change: (c) => { c.process.user = { uid: 50, gid: 0 }; delete c.linux.gidMappings; },
    messages: ['config.json: linux.gidMappings: expected mappings, since the user namespace is requested (runtimes refuse it without gidMappings), got nothing'],
  },
  {
    title: 'a uid the mappings leave out',
    change: (c) => { c.process.user = { uid: 50, gid: 0 }; },
    messages: ['config.json: process.user.uid: expected a uid that user.uidMappings maps, got 50'],
  },
  {
    title: 'an unknown namespace',
    change: (c) => { c.linux.namespaces.push({ type: 'net' }); },
    messages: ['config.json: linux.namespaces[3].type: expected one of user, pid, uts, ipc, network, cgroup, mount, time, got "net"'],
  },
  {
    title: 'sysctls of the host, or of a namespace the config does not ask for',
    change: (c) => { c.linux.sysctl = { 'vm.swappiness': '10', 'net.ipv4.ip_forward': '1', 'kernel.shmmax': 5 }; },
    messages: [
      'config.json: linux.sysctl["vm.swappiness"]: expected a sysctl of the net, ipc or uts namespace (net.*, kernel.msg*, kernel.sem, kernel.shm*, '
        + 'fs.mqueue.*, kernel.hostname, kernel.domainname), got "vm.swappiness", which is not namespaced: it would change the host',
      'config.json: linux.sysctl["net.ipv4.ip_forward"]: sysctl net.ipv4.ip_forward requires the net namespace: expected "net" in namespaces, '
        + 'got namespaces mnt, pid, user',
      'config.json: linux.sysctl["kernel.shmmax"]: expected a string (quote it), got 5',
    ],
  },
  {
    title: 'an AppArmor profile, an SELinux label, a personality with flags',
    change: (c) => {
      c.process.apparmorProfile = 'docker-default';
      c.process.selinuxLabel = 'system_u:system_r:container_t:s0';
      c.linux.personality = { domain: 'LINUX32', flags: ['x'] };
    },
    messages: [
      'config.json: linux.personality.flags: expected no flags (config-linux.md defines none), got a list of 1',
      'config.json: process.apparmorProfile: expected an empty apparmorProfile (nsrig applies no AppArmor profile; runc and crun refuse one '
        + 'where AppArmor is not enabled), got "docker-default"',
      'config.json: process.selinuxLabel: expected an empty selinuxLabel (nsrig sets no SELinux label; runc and crun refuse one where SELinux '
        + 'is not enabled), got "system_u:system_r:container_t:s0"',
    ],
  },
  {
    title: 'hooks: a relative path, no path, a timeout of 0, an environment entry without "=", an unknown kind',
    change: (c) => {
      c.hooks = {
        createRuntime: [{ path: 'bin/hook' }, { args: ['x'] }],
        poststop: [{ path: '/bin/true', timeout: 0, env: ['PATH'] }],
        postStart: [],
      };
    },
    messages: [
      'config.json: hooks.postStart: expected one of the fields prestart, createRuntime, createContainer, startContainer, poststart, poststop, got an unknown field (did you mean "poststart"?)',
      'config.json: hooks.createRuntime[0].path: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "bin/hook"',
      'config.json: hooks.createRuntime[1].path: expected an absolute path (path is required), got nothing',
      'config.json: hooks.poststop[0].env[0]: expected a "NAME=value" string, got "PATH"',
      'config.json: hooks.poststop[0].timeout: expected a whole number of seconds greater than 0, at most 2147483, got 0',
    ],
  },
  {
    title: 'devices: a type, numbers past dev_t, a mode, a path twice, a relative path',
    change: (c) => {
      c.linux.devices = [
        { path: '/dev/sda', type: 'x', major: 8, minor: 0 }, { path: '/dev/big', type: 'c', major: 4096, minor: 1048576 },
        { path: '/dev/m', type: 'c', major: 1, minor: 3, fileMode: 0o10000 }, { path: '/dev/f', type: 'p' }, { path: 'dev/rel', type: 'p' },
        { path: '/dev/f', type: 'c', major: 1, minor: 3 },
      ];
    },
    messages: [
      'config.json: linux.devices[0].type: expected one of c, b, u, p, got "x" (did you mean "c"?)',
      'config.json: linux.devices[1].major: expected an integer from 0 to 4095, got 4096',
      'config.json: linux.devices[1].minor: expected an integer from 0 to 1048575, got 1048576',
      'config.json: linux.devices[2].fileMode: expected an integer from 0 to 4095, got 4096',
      'config.json: linux.devices[4].path: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "dev/rel"',
      'config.json: linux.devices[5].path: expected each path once, got "/dev/f"',
    ],
  },
  {
    title: 'cgroup limits nsrig does not set, a malformed allow-list and a systemd cgroupsPath',
    change: (c) => {
      c.linux.resources = { devices: 'all', rdma: {}, memory: { kernel: 1 } };
      c.linux.cgroupsPath = 'system.slice:nsrig:x';
    },
    messages: [
      'config.json: linux.resources.rdma: expected no rdma (nsrig sets no RDMA limits), got an object',
      'config.json: linux.resources.memory.kernel: expected no kernel (kernel memory limits are deprecated and Linux 5.4+ ignores them; nsrig sets none), got 1',
      'config.json: linux.resources.devices: expected a list, got "all"',
      'config.json: linux.cgroupsPath: nsrig writes cgroupfs directly, like runc without --systemd-cgroup: expected a cgroup path, absolute ("/a/b") or relative ("a/b"), without "." or ".." parts, got a systemd "slice:prefix:name" path "system.slice:nsrig:x"',
    ],
  },
  {
    title: 'a mount without a type, and id-mapped mounts',
    change: (c) => {
      c.mounts = [
        { destination: '/dev/pts', source: 'devpts' },
        { destination: '/mnt', type: 'bind', source: '/etc', options: ['rbind'], uidMappings: [] },
      ];
    },
    messages: [
      'config.json: mounts[0].type: expected a filesystem type, or bind (type "bind" or options with bind or rbind), got nothing',
      'config.json: mounts[1].uidMappings: expected no uidMappings (nsrig makes no id-mapped mounts), got an empty list',
    ],
  },
  {
    title: 'options nsrig cannot honour, and options no filesystem takes',
    change: (c) => {
      c.mounts = [
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'size=1m', 'tmpcopyup'] },
        { destination: '/proc', type: 'proc', source: 'proc', options: ['ro', '', 'hidepid=2,subset=pid'] },
        { destination: '/mnt', type: 'bind', source: '/etc', options: ['rbind', 'rshared', 'mode=755'] },
      ];
    },
    messages: [
      'config.json: mounts[0].options[2]: expected no tmpcopyup (nsrig does not copy the mount point\'s files into the new tmpfs (a runc extension)), got "tmpcopyup"',
      'config.json: mounts[1].options[1]: expected one mount option, not empty and without ",", got ""',
      'config.json: mounts[1].options[2]: expected one mount option, not empty and without ",", got "hidepid=2,subset=pid"',
      'config.json: mounts[2].options[2]: expected a mount flag, a propagation or an r* option: a bind mount takes no filesystem data (the kernel ignores it), got "mode=755"',
    ],
  },
  {
    title: 'a tmpfs size, named by its option',
    change: (c) => { c.mounts = [{ destination: '/tmp', type: 'tmpfs', options: ['nosuid', 'size=1q', 'mode=1777'] }]; },
    messages: ['config.json: mounts[0].options[1]: expected size= a number of bytes, with k, m, g or % as tmpfs reads it, got "size=1q"'],
  },
  {
    title: 'environment entries without a name or twice',
    change: (c) => { c.process.env = ['A=1', 'NOVALUE', '=x', 'A=2']; },
    messages: [
      'config.json: process.env[1]: expected a "NAME=value" string, got "NOVALUE"',
      'config.json: process.env[2]: expected a "NAME=value" string, got "=x"',
      'config.json: process.env[3]: expected each variable once, got "A=2"',
    ],
  },
  {
    title: 'time offsets finer than a second',
    change: (c) => {
      c.linux.namespaces.push({ type: 'time' });
      c.linux.timeOffsets = { monotonic: { secs: 1, nanosecs: 5 } };
    },
    messages: [
      'config.json: linux.timeOffsets.monotonic.nanosecs: expected 0 (profiles hold whole seconds), got 5',
    ],
  },
  {
    title: 'capabilities the kernel does not know, or would not keep',
    change: (c) => { c.process.capabilities = { bounding: ['CAP_NOPE'], effective: ['CAP_KILL'] }; },
    messages: ['config.json: process.capabilities.bounding[0]: expected a capability name from capabilities(7), such as CAP_NET_BIND_SERVICE, got "CAP_NOPE"'],
  },
  {
    title: 'an effective capability that is not permitted',
    change: (c) => { c.process.capabilities = { effective: ['CAP_KILL'] }; },
    messages: ['config.json: process.capabilities.effective[0]: expected a capability that is also in permitted, got "CAP_KILL"'],
  },
  {
    title: 'unknown properties, with suggestions, and our annotations misspelt',
    change: (c) => { c.linux.maskedPath = []; c.annotations = { 'org.nsrig.profile.nmae': 'x', 'org.nsrig.process.timeout': 'soon' }; },
    messages: [
      'config.json: linux.maskedPath: expected one of the fields namespaces, uidMappings, gidMappings, maskedPaths, readonlyPaths, rootfsPropagation, '
        + 'seccomp, timeOffsets, resources, devices, cgroupsPath, sysctl, personality, intelRdt, mountLabel, memoryPolicy, netDevices, unshareFlags, '
        + 'got an unknown field (did you mean "maskedPaths"?)',
      'config.json: annotations["org.nsrig.profile.nmae"]: expected one of the nsrig annotations org.nsrig.profile.name, org.nsrig.process.timeout, '
        + 'org.nsrig.user.setgroups, org.nsrig.network.loopback, org.nsrig.network.veth.hostAddress, org.nsrig.network.veth.containerAddress, '
        + 'got an unknown annotation',
    ],
  },
  {
    title: 'an annotation value of the wrong kind',
    change: (c) => { c.annotations = { 'org.nsrig.process.timeout': 'soon' }; },
    messages: ['config.json: annotations["org.nsrig.process.timeout"]: expected a number of seconds from 0.001 to 86400, got "soon"'],
  },
  {
    title: 'a rootfs without a mount namespace, and no root at all',
    change: (c) => { c.linux.namespaces = [{ type: 'pid' }]; delete c.linux.uidMappings; delete c.linux.gidMappings; c.root = { path: 'rootfs' }; },
    messages: ['config.json: root: rootfs requires the mnt namespace: expected "mnt" in namespaces, got namespaces pid'],
  },
  {
    title: 'a version outside 1.x',
    change: (c) => { c.ociVersion = '2.0.0'; delete c.root; },
    messages: [
      'config.json: ociVersion: expected a runtime-spec version 1.x.y, got "2.0.0"',
      'config.json: root: expected an object, got nothing',
    ],
  },
];

for (const { title, change, messages } of REFUSALS) {
  test(`OCI: refuses ${title}`, (t) => {
    t.deepEqual(ociErrors(change), messages);
  });
}

for (const example of ['minimal.yaml', 'web-sandbox.yaml', 'strict.yaml']) {
  test(`${example} survives profile → config.json → profile`, (t) => {
    const profile = loadProfileFile(join(EXAMPLES, example));
    t.deepEqual(comparable(roundTrip(profile)), comparable(asRuntimesSeeIt(profile)));
  });
}

test('generated profiles survive profile → config.json → profile', (t) => {
  fc.assert(fc.property(validProfileDocument, (doc) => {
    const profile = parseProfile(doc, '<generated>');
    t.deepEqual(comparable(roundTrip(profile)), comparable(asRuntimesSeeIt(profile)));
  }), { numRuns: 150 });
  t.pass();
});

test('ociConfigGaps names what a runtime will not do from the config alone', (t) => {
  const profile = parseProfile({
    user: { setgroups: 'deny' },
    mounts: [{ type: 'dev', devices: ['null'] }, { type: 'dev', destination: '/mnt' }],
    network: { loopback: false, veth: { hostAddress: '10.9.0.1/30', containerAddress: '10.9.0.2/30' } },
    process: { args: ['/bin/true'] },
  }, 'p.yaml');
  t.deepEqual(ociConfigGaps(profile).map((g) => g.fieldPath), [
    'mounts[0].devices', 'mounts[1].destination', 'user.setgroups', 'network.loopback', 'network.veth',
  ]);
  const tmpfsDev = parseProfile({ namespaces: ['mnt'], mounts: [{ type: 'tmpfs', destination: '/dev' }], process: { args: ['x'] } }, 'p.yaml');
  t.deepEqual(ociConfigGaps(tmpfsDev).map((g) => g.fieldPath), ['mounts[0]', 'mounts']);
  t.deepEqual(ociConfigGaps(parseProfile({ namespaces: ['mnt'], mounts: [], process: { args: ['x'] } }, 'p.yaml')).map((g) => g.fieldPath), ['mounts']);
});
