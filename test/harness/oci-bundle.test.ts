// The bundle writer: the rootfs it generates and the mounts it adds to the profile's. The
// profile → config.json mapping itself is tested with policy/profile.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProfile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { BundleError, writeBundle } from '../../harness/targets/oci/bundle-writer.js';
import { projectRoot } from '../../harness/targets/oci/host-root-view.js';
import { PROBE_IN_CONTAINER, RIG_DIR, rigBinds } from '../../harness/probe-rig.js';

function profileOf(doc: object): Profile {
  return parseProfile({ process: { args: ['/bin/true'] }, ...doc }, '<oci-bundle-test>', { checkPaths: false });
}

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-bundle-test-'));
  fs.chmodSync(dir, 0o711);
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a host-root profile gets a generated rootfs: merged-/usr symlinks, mount points, a minimal /etc', (t) => {
  const dir = path.join(tempDir(t), 'bundle');
  const bundle = writeBundle(profileOf({}), dir, { args: ['/bin/sh', '-c', 'echo hi'] });
  const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  t.deepEqual(config.process.args, ['/bin/sh', '-c', 'echo hi']);
  t.is(config.root.path, 'rootfs');
  t.true(config.root.readonly);
  t.is(bundle.rootfsPath, path.join(dir, 'rootfs'));
  for (const name of ['bin', 'sbin', 'lib', 'lib64']) {
    const host = fs.lstatSync(`/${name}`, { throwIfNoEntry: false });
    if (host?.isSymbolicLink()) t.is(fs.readlinkSync(path.join(dir, 'rootfs', name)), fs.readlinkSync(`/${name}`), name);
  }
  for (const mountPoint of ['usr', 'proc', 'dev', 'tmp', 'sys']) t.true(fs.statSync(path.join(dir, 'rootfs', mountPoint)).isDirectory(), mountPoint);
  // Nested destinations are the runtime's to create, inside the parent mount.
  t.false(fs.existsSync(path.join(dir, 'rootfs', 'dev', 'shm')));
  const passwd = fs.readFileSync(path.join(dir, 'rootfs', 'etc', 'passwd'), 'utf8');
  t.regex(passwd, /^root:x:0:0:/m);
  t.false(passwd.includes(fs.readFileSync('/etc/passwd', 'utf8')), 'the host\'s passwd is not copied');
});

test('the rig\'s host binds come first, read-only, and include node and the project for the probe', (t) => {
  const dir = path.join(tempDir(t), 'bundle');
  const bundle = writeBundle(profileOf({}), dir);
  const nodeDir = path.dirname(fs.realpathSync(process.execPath));
  // A rig bind below one of the profile's mounts (the project under a /tmp tmpfs) follows that mount instead.
  const profileDestinations = bundle.config.mounts.filter((m) => !bundle.rigMounts.includes(m)).map((m) => m.destination);
  const below = (m: { destination: string }) => profileDestinations.some((d) => m.destination.startsWith(`${d}/`));
  const first = bundle.rigMounts.filter((m) => !below(m));
  t.deepEqual(bundle.config.mounts.slice(0, first.length), first);
  t.deepEqual(bundle.config.mounts.slice(bundle.config.mounts.length - (bundle.rigMounts.length - first.length)), bundle.rigMounts.filter(below));
  const rig = new Map(rigBinds().map((b) => [b.destination, b.source]));
  for (const bind of bundle.rigMounts) {
    t.is(bind.type, 'bind');
    // Host directories at their own paths; the probe's rig at its fixed path, whatever the checkout's.
    t.is(bind.source, rig.get(bind.destination) ?? bind.destination);
    t.true(bind.options!.includes('ro'), bind.destination);
    // Below a profile mount the runtime makes the mount point, inside that mount.
    const kind = fs.statSync(bind.source!).isFile() ? 'isFile' : 'isDirectory';
    if (!below(bind)) t.true(fs.statSync(path.join(dir, 'rootfs', bind.destination))[kind](), bind.destination);
  }
  const covers = (p: string): boolean => bundle.rigMounts.some((b) => p === b.destination || p.startsWith(`${b.destination}/`));
  t.true(covers(nodeDir), nodeDir);
  t.true(covers(PROBE_IN_CONTAINER), PROBE_IN_CONTAINER);
  t.deepEqual(bundle.rigMounts.filter((b) => rig.has(b.destination)).map((b) => b.destination), [...rig.keys()]);
  if (fs.existsSync('/etc/alternatives')) t.true(covers('/etc/alternatives'), 'Debian\'s alternatives, for /usr/bin/awk and the like');
  // The profile's own mounts, unchanged and in their order.
  t.deepEqual(profileDestinations, ['/proc', '/dev', '/dev/shm', '/dev/mqueue', '/tmp', '/sys']);
});

test('without the probe the project is not bound', (t) => {
  const bundle = writeBundle(profileOf({}), path.join(tempDir(t), 'bundle'), { probe: false });
  t.false(bundle.rigMounts.some((b) => b.destination.startsWith(RIG_DIR) || b.source === projectRoot()));
});

test('the generated rootfs belongs to the container\'s root, as an image would', (t) => {
  const dir = path.join(tempDir(t), 'bundle');
  writeBundle(profileOf({ user: { uidMappings: [{ containerId: 0, hostId: 200000, size: 65536 }], gidMappings: [{ containerId: 0, hostId: 210000, size: 65536 }] } }), dir);
  for (const p of ['rootfs', 'rootfs/usr', 'rootfs/etc/passwd', 'rootfs/proc']) {
    const st = fs.lstatSync(path.join(dir, p));
    t.deepEqual([st.uid, st.gid], [200000, 210000], p);
  }
  t.is(fs.statSync(dir).mode & 0o777, 0o711, 'the bundle directory lets the container\'s root through');
});

test('a file bind source gets a file as its mount point', (t) => {
  const root = tempDir(t);
  const source = path.join(root, 'answer.txt');
  fs.writeFileSync(source, '42');
  const dir = path.join(root, 'bundle');
  writeBundle(profileOf({ mounts: [{ type: 'bind', source, destination: '/srv/answer.txt' }] }), dir);
  t.true(fs.statSync(path.join(dir, 'rootfs', 'srv', 'answer.txt')).isFile());
});

test('a profile with its own rootfs is used as it is: no generated rootfs, no rig binds', (t) => {
  const image = tempDir(t);
  const dir = path.join(tempDir(t), 'bundle');
  const bundle = writeBundle(profileOf({ rootfs: { path: image } }), dir);
  t.is(bundle.config.root.path, image);
  t.deepEqual(bundle.rigMounts, []);
  t.false(fs.existsSync(path.join(dir, 'rootfs')));
  t.deepEqual(fs.readdirSync(image), []);
});

test('a directory that already holds a bundle is refused', (t) => {
  const dir = tempDir(t);
  writeBundle(profileOf({}), dir);
  const error = t.throws(() => writeBundle(profileOf({}), dir), { instanceOf: BundleError });
  t.regex(error!.message, /already holds config\.json/);
});

test('a bundle the container\'s root could not reach is refused, saying what to change', (t) => {
  const locked = path.join(tempDir(t), 'locked');
  fs.mkdirSync(locked, { mode: 0o700 });
  const error = t.throws(() => writeBundle(profileOf({}), path.join(locked, 'bundle')), { instanceOf: BundleError });
  t.true(error!.message.includes(`${locked} (mode 700) does not let the container's root (host uid 100000) through`), error!.message);
  // Without a user namespace the container's root is the host's, which needs nothing.
  t.notThrows(() => writeBundle(profileOf({ namespaces: ['mnt', 'pid', 'uts', 'ipc', 'net'] }), path.join(locked, 'bundle2')));
});
