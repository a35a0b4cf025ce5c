// umask, oomScoreAdj, personality, sysctl and namespacePaths: read from our format and from the
// config.json real tools wrote, with field-path errors for what runc and crun refuse too, and
// the warning for ambient capabilities that cannot be raised.
import test from 'ava';
import { parseProfile } from '../../policy/profile/load.js';
import { ProfileErrors } from '../../policy/profile/profile-error.js';
import { readRealConfig } from '../fixtures/oci-configs/real-configs.js';

const ARGS = { args: ['/bin/true'] };

function errorsOf(input: string | object, source = 'p.yaml'): string[] {
  try {
    parseProfile(input, source, { checkPaths: false });
    return [];
  } catch (error) {
    if (error instanceof ProfileErrors) return error.errors.map((e) => e.message.slice(e.file.length + 2));
    throw error;
  }
}

test('umask: quoted octal text or a YAML octal number; a bare YAML number is refused as decimal', (t) => {
  t.is(parseProfile({ process: { ...ARGS, umask: '0027' } }, 'p.yaml').process.umask, 0o27);
  t.is(parseProfile('process: { args: [x], umask: 0o22 }', 'p.yaml').process.umask, 0o22);
  t.deepEqual(errorsOf('process: { args: [x], umask: 0022 }'),
    ['process.umask: expected an octal umask written "0022" (quoted) or 0o22, got 22, which YAML reads as a decimal number']);
  t.deepEqual(errorsOf({ process: { ...ARGS, umask: '0999' } }), ['process.umask: expected a umask from 0 to 0777, written "0022" (quoted) or 0o22, got "0999"']);
  t.is(parseProfile({ process: ARGS }, 'p.yaml').process.umask, undefined);
});

test('oomScoreAdj from -1000 to 1000; personality linux or linux32', (t) => {
  t.is(parseProfile({ process: { ...ARGS, oomScoreAdj: -1000 } }, 'p.yaml').process.oomScoreAdj, -1000);
  t.deepEqual(errorsOf({ process: { ...ARGS, oomScoreAdj: 1001, personality: 'linux64' } }), [
    'process.oomScoreAdj: expected an integer from -1000 to 1000, got 1001',
    'process.personality: expected one of linux, linux32, got "linux64" (did you mean "linux"?)',
  ]);
});

test('sysctl: only with its namespace, never a global one, never beside the field that sets the same name', (t) => {
  const profile = parseProfile({ namespaces: ['net', 'ipc', 'uts'], sysctl: { 'net.core.somaxconn': '512', 'fs.mqueue.msg_max': '20',
    'kernel.domainname': 'x' }, process: ARGS }, 'p.yaml');
  t.deepEqual(profile.sysctl, { 'net.core.somaxconn': '512', 'fs.mqueue.msg_max': '20', 'kernel.domainname': 'x' });
  t.deepEqual(errorsOf({ namespaces: ['uts'], hostname: 'h', sysctl: { 'kernel.hostname': 'y', 'kernel.sem': '1 2 3 4', 'kernel/../x': '1' },
    process: ARGS }), [
    'sysctl["kernel.hostname"]: sysctl kernel.hostname conflicts with hostname: expected no kernel.hostname beside the hostname field, got both',
    'sysctl["kernel.sem"]: sysctl kernel.sem requires the ipc namespace: expected "ipc" in namespaces, got namespaces uts',
    'sysctl["kernel/../x"]: expected a sysctl name of dot-separated parts (letters, digits, "_", "-"), such as net.ipv4.ip_forward, got the name "kernel/../x"',
  ]);
});

test('namespacePaths: any type of the profile\'s own namespaces, user too and beside a new user namespace, but not time beside timeOffsets', (t) => {
  const profile = parseProfile({ namespaces: ['net', 'mnt'], namespacePaths: { net: '/run/netns/a', mnt: '/proc/1/ns/mnt' }, process: ARGS }, 'p.yaml', { checkPaths: false });
  t.deepEqual(profile.namespacePaths, { net: '/run/netns/a', mnt: '/proc/1/ns/mnt' });
  t.deepEqual(errorsOf({ namespaces: ['net', 'mnt', 'time'], namespacePaths: { ipc: '/run/x', time: '/proc/1/ns/time', net: 'relative' }, timeOffsets: { monotonic: 5 }, process: ARGS }), [
    'namespacePaths.ipc: expected "ipc" in namespaces, got a path for a namespace the profile does not ask for',
    'namespacePaths.time: expected either a time namespace to join or timeOffsets, not both, got both (the offsets of a joined time namespace are its creator\'s)',
    'namespacePaths.net: expected an absolute path without ".", ".." or empty parts and no trailing "/", got "relative"',
  ]);
  const beside = parseProfile({ namespaces: ['user', 'net', 'mnt'], namespacePaths: { net: '/run/netns/a', mnt: '/proc/9/ns/mnt' }, process: ARGS },
    'p.yaml', { checkPaths: false });
  t.deepEqual(beside.namespacePaths, { net: '/run/netns/a', mnt: '/proc/9/ns/mnt' });
  t.deepEqual(beside.user.uidMappings, [{ containerId: 0, hostId: 100000, size: 65536 }], 'a new user namespace keeps its mappings');
  // A joined user namespace keeps its own mappings: none are assumed, declared ones are ignored with a
  // warning (runc 1.1 ignores them; containerd and CRI-O declare them beside the path), and the ids are
  // not checked against them.
  const warnings: string[] = [];
  const joined = parseProfile({ namespaces: ['user', 'pid', 'mnt'], namespacePaths: { user: '/proc/9/ns/user' }, user: { uidMappings: [{ containerId: 0, hostId: 1000, size: 1 }] },
    process: { ...ARGS, user: { uid: 5000, gid: 0 } } }, 'p.yaml', { checkPaths: false, warn: (m) => warnings.push(m) });
  t.deepEqual(joined.namespacePaths, { user: '/proc/9/ns/user' });
  // Kept as declared (a config.json written back carries them, as runc 1.1 requires), never written.
  t.deepEqual([joined.user.uidMappings, joined.user.gidMappings, joined.process.uid], [[{ containerId: 0, hostId: 1000, size: 1 }], [{ containerId: 0, hostId: 1000, size: 1 }], 5000]);
  t.deepEqual(warnings, ['p.yaml: user.uidMappings: ignored: the user namespace is joined (namespacePaths.user) and keeps its own mappings']);
});

test('namespacePaths on the host: a missing file, a file not on nsfs and a namespace of another type are field-path errors', (t) => {
  const load = (paths: Record<string, string>) => {
    try {
      parseProfile({ namespaces: ['net', 'ipc', 'mnt'], namespacePaths: paths, process: ARGS }, 'p.yaml');
      return [];
    } catch (e) {
      return (e as ProfileErrors).errors.map((err) => `${err.fieldPath}: ${err.got}`);
    }
  };
  t.deepEqual(load({ net: '/proc/self/ns/net', ipc: '/proc/self/ns/ipc' }), []);
  t.deepEqual(load({ net: '/proc/self/ns/ipc', ipc: '/etc/passwd', mnt: '/nonexistent-namespace' }), [
    'namespacePaths.net: /proc/self/ns/ipc, a namespace of type ipc',
    'namespacePaths.ipc: /etc/passwd, which is not a namespace file',
    'namespacePaths.mnt: /nonexistent-namespace, which does not exist',
  ]);
});

test('a config.json joining a user namespace needs no uidMappings; those it gives are ignored with a warning naming them', (t) => {
  const config = (mappings: boolean) => JSON.stringify({
    ociVersion: '1.0.2', root: { path: '/' }, process: { cwd: '/', args: ['/bin/true'], user: { uid: 0, gid: 0 } },
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'user', path: '/proc/9/ns/user' }, { type: 'network', path: '/run/netns/a' }, { type: 'mount' }],
      ...(mappings ? { uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] } : {}),
    },
  });
  const warnings: string[] = [];
  const bare = parseProfile(config(false), '/b/config.json', { checkPaths: false });
  t.deepEqual(bare.namespacePaths, { user: '/proc/9/ns/user', net: '/run/netns/a' });
  const mapped = parseProfile(config(true), '/b/config.json', { checkPaths: false, warn: (m) => warnings.push(m) });
  t.deepEqual(bare.user.uidMappings, []);
  t.deepEqual(mapped.user.uidMappings, [{ containerId: 0, hostId: 1000, size: 1 }]);
  t.deepEqual(warnings, [
    '/b/config.json: linux.uidMappings: ignored: the user namespace is joined (linux.namespaces[1].path) and keeps its own mappings',
    '/b/config.json: linux.gidMappings: ignored: the user namespace is joined (linux.namespaces[1].path) and keeps its own mappings',
  ]);
});

test('linux.namespaces[].path of a config.json: its errors name the entry\'s own field, duplicate types are refused', (t) => {
  const config = readRealConfig('podman') as { linux: { namespaces: { type: string; path?: string }[] } };
  config.linux.namespaces = [{ type: 'pid' }, { type: 'network', path: '/proc/self/ns/uts' }, { type: 'mount' }, { type: 'uts', path: '/etc/hostname' }];
  let errors: string[] = [];
  try {
    parseProfile(config, 'config.json');
  } catch (e) {
    errors = (e as ProfileErrors).errors.map((err) => `${err.fieldPath}: ${err.got}`);
  }
  t.deepEqual(errors.filter((e) => e.startsWith('linux.namespaces')), [
    'linux.namespaces[1].path: /proc/self/ns/uts, a namespace of type uts',
    'linux.namespaces[3].path: /etc/hostname, which is not a namespace file',
  ]);
  config.linux.namespaces = [{ type: 'pid' }, { type: 'network', path: '/proc/self/ns/net' }, { type: 'mount' }, { type: 'network' }];
  t.true(errorsOf(config, 'config.json').some((e) => e.startsWith('linux.namespaces[3].type:')), errorsOf(config, 'config.json').join('\n'));
});

test('net.* sysctls are refused when the joined network namespace is nsrig\'s own, the host\'s (runc\'s rule), in both formats', (t) => {
  const doc = (net: string) => ({ namespaces: ['net', 'mnt'], namespacePaths: { net }, sysctl: { 'net.ipv4.ip_forward': '1' }, process: ARGS });
  const refused = 'sysctl["net.ipv4.ip_forward"]: sysctl net.ipv4.ip_forward would change the host\'s: expected a network namespace of the '
    + 'container\'s own (namespacePaths.net names nsrig\'s own, the host\'s), got the host\'s network namespace';
  for (const link of ['/proc/self/ns/net', `/proc/${process.pid}/ns/net`]) {
    t.throws(() => parseProfile(doc(link), 'p.yaml'), { instanceOf: ProfileErrors, message: new RegExp(escape(refused)) });
  }
  // Without reading the host (checkPaths false) nothing can be compared, so nothing is refused.
  t.deepEqual(parseProfile(doc('/proc/self/ns/net'), 'p.yaml', { checkPaths: false }).sysctl, { 'net.ipv4.ip_forward': '1' });
  const config = {
    ociVersion: '1.0.2', root: { path: '/' }, process: { cwd: '/', args: ['/bin/true'], user: { uid: 0, gid: 0 } },
    linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/proc/self/ns/net' }], sysctl: { 'net.core.somaxconn': '64' } },
  };
  t.throws(() => parseProfile(JSON.stringify(config), '/b/config.json'), {
    instanceOf: ProfileErrors, message: /linux\.sysctl\["net\.core\.somaxconn"\]: .*linux\.namespaces\[1\]\.path names nsrig's own, the host's/ });
});

test('Podman\'s umask and Docker\'s oomScoreAdj and sysctls are read, under the config\'s own names', (t) => {
  const podman = readRealConfig('podman');
  const docker = readRealConfig('docker');
  // Only the fields this test is about: the rest of each config is for tests of their own.
  const only = (config: Record<string, any>) => ({
    ociVersion: config.ociVersion, root: { path: '/' }, process: { ...config.process, capabilities: undefined, rlimits: undefined },
    linux: { namespaces: config.linux.namespaces, sysctl: config.linux.sysctl },
  });
  const fromPodman = parseProfile(only(podman), '/b/config.json', { checkPaths: false });
  t.is(fromPodman.process.umask, 0o22);
  t.deepEqual(fromPodman.sysctl, { 'net.ipv4.ping_group_range': '0 0' });
  const fromDocker = parseProfile(only(docker), '/b/config.json', { checkPaths: false });
  t.is(fromDocker.process.oomScoreAdj, 0);
  t.deepEqual(fromDocker.sysctl, { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' });
  const noIpc = only(docker);
  noIpc.linux.namespaces = [{ type: 'mount' }];
  noIpc.process.user = { uid: 0, gid: 0, umask: 4096 };
  t.deepEqual(errorsOf(noIpc, '/b/config.json'), [
    'process.user.umask: expected a umask from 0 to 0777, written "0022" (quoted) or 0o22, got 4096',
    'linux.sysctl["net.ipv4.ip_unprivileged_port_start"]: sysctl net.ipv4.ip_unprivileged_port_start requires the net namespace: expected "net" in namespaces, got namespaces mnt',
    'linux.sysctl["net.ipv4.ping_group_range"]: sysctl net.ipv4.ping_group_range requires the net namespace: expected "net" in namespaces, got namespaces mnt',
  ]);
});

test('runc spec\'s ambient capabilities, which are not inheritable, are left out with one warning line each', (t) => {
  const config = readRealConfig('runc spec') as Record<string, any>;
  const warnings: string[] = [];
  const profile = parseProfile({ ociVersion: '1.0.2', root: { path: '/' }, process: { ...config.process, terminal: false } }, '/b/config.json',
    { checkPaths: false, warn: (m) => warnings.push(m) });
  t.deepEqual(profile.process.capabilities.ambient, []);
  t.deepEqual(profile.process.capabilities.permitted, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE']);
  t.deepEqual(warnings, ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'].map((cap, i) =>
    `/b/config.json: process.capabilities.ambient[${i}]: ${cap} is not raised, since it is not in inheritable (runc and crun start the process without it too)`));
  t.true(warnings.every((w) => !w.includes('\n')));
});

test('an ambient capability that is also inheritable and permitted is kept, and errors still name its place in the config', (t) => {
  const process = { args: ['x'], cwd: '/', capabilities: { permitted: ['CAP_KILL', 'CAP_CHOWN'], inheritable: ['CAP_KILL', 'CAP_CHOWN'],
    ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_BOGUS'] } };
  t.deepEqual(errorsOf({ ociVersion: '1.0.2', root: { path: '/' }, process }, '/b/config.json'), [
    'process.capabilities.ambient[2]: expected a capability name from capabilities(7), such as CAP_NET_BIND_SERVICE, got "CAP_BOGUS"',
  ]);
});

test('the new fields survive profile → config.json → profile and profile → YAML → profile', async (t) => {
  const { ociConfigFromProfile, ociConfigJson, profileFromOciConfig } = await import('../../policy/profile/oci-config.js');
  const { profileToYaml } = await import('../../policy/profile/profile-writer.js');
  const profile = parseProfile({
    namespaces: ['pid', 'net', 'ipc', 'mnt'], namespacePaths: { net: '/run/netns/x' }, sysctl: { 'net.core.somaxconn': '64', 'kernel.shmmni': '99' },
    process: { ...ARGS, umask: '0027', oomScoreAdj: -5, personality: 'linux32' },
  }, '/p/x.yaml', { checkPaths: false });
  const config = JSON.parse(ociConfigJson(ociConfigFromProfile(profile, { rootfsPath: '/' })));
  t.is(config.process.user.umask, 0o27);
  t.is(config.process.oomScoreAdj, -5);
  t.deepEqual(config.linux.personality, { domain: 'LINUX32' });
  t.deepEqual(config.linux.namespaces[1], { type: 'network', path: '/run/netns/x' });
  const back = profileFromOciConfig(config, '/b/config.json', { checkPaths: false });
  for (const again of [back, parseProfile(profileToYaml(profile), '/p/x.yaml', { checkPaths: false })]) {
    t.deepEqual([again.process.umask, again.process.oomScoreAdj, again.process.personality], [0o27, -5, 'linux32']);
    t.deepEqual(again.sysctl, profile.sysctl);
    t.deepEqual(again.namespacePaths, profile.namespacePaths);
  }
});

test('terminal and consoleSize: a boolean, and a size only with a terminal, each dimension an unsigned short', (t) => {
  const profile = parseProfile({ process: { ...ARGS, terminal: true, consoleSize: { height: 24, width: 80 } } }, 'p.yaml');
  t.true(profile.process.terminal);
  t.deepEqual(profile.process.consoleSize, { height: 24, width: 80 });
  t.deepEqual(errorsOf({ process: { ...ARGS, terminal: 'yes' } }), ['process.terminal: expected true or false, got "yes"']);
  t.deepEqual(errorsOf({ process: { ...ARGS, terminal: true, consoleSize: { height: 70000, width: -1 } } }), [
    'process.consoleSize.height: expected an integer from 0 to 65535, got 70000',
    'process.consoleSize.width: expected an integer from 0 to 65535, got -1',
  ]);
  t.deepEqual(errorsOf({ process: { ...ARGS, consoleSize: { height: 1, width: 1 } } }),
    ['process.consoleSize: expected no consoleSize without terminal: true (there is no terminal to size), got an object']);
  // runc spec writes terminal: true; a config's consoleSize without a terminal is ignored, as runc and crun ignore it.
  const config = readRealConfig('runc spec') as { process: Record<string, unknown> };
  t.true(parseProfile(config, '/b/config.json', { checkPaths: false }).process.terminal);
  const plain = parseProfile({ ...config, process: { ...config.process, terminal: false, consoleSize: { height: 1, width: 2 } } }, '/b/config.json', { checkPaths: false });
  t.is(plain.process.terminal, undefined);
  t.is(plain.process.consoleSize, undefined);
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
