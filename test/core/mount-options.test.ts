// Mount options as declared, no more and no fewer: the flags each mount shows in mountinfo from
// inside, exec refused on noexec and allowed on exec, writes refused on ro, data options reaching
// the filesystem, the recursive r* forms on every mount of a tree, per-mount propagation; and
// from the host, nothing left behind and the host's own mounts unchanged.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MountEntry } from '../../harness/probe/protocol.js';
import { parseMountinfo } from '../../harness/probe/observe.js';
import { run, shell, assertNoLeftovers } from './container-run.js';
import { baselineMounts, suspectHostMounts } from '../../harness/host-leftovers.js';

test.afterEach.always(assertNoLeftovers);

let fixtures: string;

test.before(() => {
  fixtures = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-mount-options-'));
  fs.chmodSync(fixtures, 0o755);
  fs.writeFileSync(path.join(fixtures, 'hello'), 'hello');
});

test.after.always(() => {
  fs.rmSync(fixtures, { recursive: true, force: true });
});

/** The visible mount at a mount point. */
function top(mounts: MountEntry[], mountPoint: string): MountEntry | undefined {
  const here = mounts.filter((m) => m.mountPoint === mountPoint);
  return here.find((m) => !here.some((other) => other.parent === m.id));
}

/** The visible mount at a mount point and every mount below it. */
function treeAt(mounts: MountEntry[], mountPoint: string): MountEntry[] {
  const tree = [top(mounts, mountPoint)!];
  for (let grew = true; grew;) {
    const more = mounts.filter((m) => !tree.includes(m) && tree.some((p) => p.id === m.parent));
    tree.push(...more);
    grew = more.length > 0;
  }
  return tree;
}

/** The per-mount flags mountinfo shows, without the atime mode when it is the kernel's default. */
function flags(mount: MountEntry | undefined): string[] {
  return (mount?.options ?? []).filter((o) => o !== 'relatime').sort();
}

/** Runs a script that prints mountinfo last, after a line "--", and returns both parts. */
async function inside(doc: Record<string, unknown>, script: string): Promise<{ lines: string[]; mounts: MountEntry[]; stderr: string }> {
  const { stdout, stderr } = await run(doc, { args: shell(`${script}; echo --; cat /proc/self/mountinfo`) });
  const [before, after] = stdout.split('--\n');
  return { lines: before!.trim().split('\n'), mounts: parseMountinfo(after ?? ''), stderr };
}

/** Without a user namespace nothing is locked: each mount shows exactly its declared flags. */
const ROOT_NAMESPACES = ['pid', 'mnt', 'uts', 'ipc', 'net'];

test.serial('each mount gets exactly the flags its options declare, and none the engine chose', async (t) => {
  const doc = {
    namespaces: ROOT_NAMESPACES,
    mounts: [
      { type: 'proc', options: [] },
      { type: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { type: 'dev', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { type: 'tmpfs', destination: '/tmp', options: ['noexec', 'nosuid', 'nodev', 'noatime', 'mode=700', 'size=1m', 'nr_inodes=100', 'uid=5', 'gid=6'] },
      { type: 'tmpfs', destination: '/media', options: ['exec', 'strictatime', 'rw', 'mode=755'] },
      { type: 'tmpfs', destination: '/opt', options: ['nodiratime', 'ro'] },
      { type: 'bind', source: fixtures, destination: '/mnt', options: ['bind', 'ro', 'noexec', 'nodiratime'] },
      { type: 'bind', source: fixtures, destination: '/srv', options: ['bind', 'nosymfollow'] },
    ],
    maskedPaths: [], readonlyPaths: [],
    process: { args: ['/bin/true'] },
  };
  const { lines, mounts } = await inside(doc, [
    'cp /bin/true /tmp/t 2>/dev/null; /tmp/t 2>/dev/null; echo "tmp=$?"',
    'cp /bin/true /media/t && /media/t; echo "media=$?"',
    'touch /opt/x 2>/dev/null; echo "opt=$?"',
    'ln -s hello /tmp/link 2>/dev/null',
  ].join('; '));
  t.deepEqual(lines, ['tmp=126', 'media=0', 'opt=1']);
  t.deepEqual(flags(top(mounts, '/proc')), ['rw']);
  t.deepEqual(flags(top(mounts, '/sys')), ['nodev', 'noexec', 'nosuid', 'ro']);
  // strictatime shows as the absence of any atime word.
  t.deepEqual(top(mounts, '/dev')?.options.sort(), ['nosuid', 'rw']);
  t.deepEqual(top(mounts, '/tmp')?.options.sort(), ['noatime', 'nodev', 'noexec', 'nosuid', 'rw']);
  for (const data of ['size=1024k', 'nr_inodes=100', 'mode=700', 'uid=5', 'gid=6']) t.true(top(mounts, '/tmp')!.superOptions.includes(data), data);
  t.deepEqual(top(mounts, '/media')?.options.sort(), ['rw']);
  t.deepEqual(flags(top(mounts, '/opt')), ['nodiratime', 'ro']);
  t.deepEqual(flags(top(mounts, '/mnt')), ['nodiratime', 'noexec', 'ro']);
  t.deepEqual(flags(top(mounts, '/srv')), ['nosymfollow', 'rw']);
});

test.serial('a bind that declares no flag keeps its source\'s; rw clears nothing else', async (t) => {
  const { mounts } = await inside({
    namespaces: ROOT_NAMESPACES,
    mounts: [
      { type: 'proc' },
      { type: 'bind', source: '/proc', destination: '/mnt', options: ['rbind', 'rw'] },
    ],
    maskedPaths: [], readonlyPaths: [],
    process: { args: ['/bin/true'] },
  }, 'true');
  const hostProc = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.mountPoint === '/proc')!;
  t.deepEqual(flags(top(mounts, '/mnt')), flags(hostProc));
});

test.serial('the r* options reach every mount of a recursive bind; the plain ones only its top', async (t) => {
  // The host's /dev has mounts below it (pts, shm, mqueue) on every usual host.
  const below = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.mountPoint.startsWith('/dev/'));
  if (below.length === 0) {
    t.pass('this host has no mount below /dev to bind recursively');
    return;
  }
  const { mounts } = await inside({
    mounts: [
      { type: 'proc' },
      { type: 'bind', source: '/dev', destination: '/mnt', options: ['rbind', 'rro', 'rnoexec', 'rnosuid'] },
      { type: 'bind', source: '/dev', destination: '/srv', options: ['rbind', 'ro', 'nosuid', 'noexec'] },
    ],
    maskedPaths: [], readonlyPaths: [],
    process: { args: ['/bin/true'] },
  }, 'true');
  const under = (dir: string) => treeAt(mounts, dir);
  t.true(under('/mnt').length > 1);
  for (const m of under('/mnt')) for (const f of ['ro', 'noexec', 'nosuid']) t.true(m.options.includes(f), `${m.mountPoint} lacks ${f}`);
  t.true(top(mounts, '/srv')!.options.includes('ro'));
  t.true(under('/srv').some((m) => m.mountPoint !== '/srv' && m.options.includes('rw')), 'ro reached a mount below the bind');
});

test.serial('per-mount propagation: shared and unbindable as declared, after the root\'s own', async (t) => {
  const { mounts } = await inside({
    mounts: [
      { type: 'proc' },
      { type: 'tmpfs', destination: '/tmp', options: ['shared'] },
      { type: 'tmpfs', destination: '/media', options: ['unbindable'] },
      { type: 'bind', source: fixtures, destination: '/mnt', options: ['bind', 'ro', 'rshared'] },
      { type: 'tmpfs', destination: '/opt', options: ['shared', 'private'] },
    ],
    maskedPaths: [], readonlyPaths: [],
    process: { args: ['/bin/true'] },
  }, 'true');
  t.regex(top(mounts, '/tmp')!.optional.join(' '), /^shared:\d+$/);
  t.deepEqual(top(mounts, '/media')!.optional, ['unbindable']);
  t.regex(top(mounts, '/mnt')!.optional.join(' '), /^shared:\d+$/);
  t.deepEqual(top(mounts, '/opt')!.optional, [], 'the later option wins');
  t.deepEqual(top(mounts, '/')!.optional, [], 'the root stays private');
});

test.serial('in a user namespace a proc declared without flags gets what the kernel locked on the host\'s, and nothing more', async (t) => {
  // runc and crun alike: the kernel adds the flags the host's proc has locked (mount_too_revealing).
  const { mounts } = await inside({ mounts: [{ type: 'proc', options: [] }], maskedPaths: [], readonlyPaths: [], process: { args: ['/bin/true'] } }, 'true');
  const hostProc = parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).find((m) => m.mountPoint === '/proc')!;
  t.deepEqual(flags(top(mounts, '/proc')), flags(hostProc));
});

test.serial('a filesystem refusing its data fails the launch with the mount named, and leaves nothing', async (t) => {
  const before = suspectHostMounts();
  const error = await t.throwsAsync(run({
    mounts: [{ type: 'tmpfs', destination: '/tmp', options: ['nosuid', 'no_such_tmpfs_option'] }],
    process: { args: ['/bin/true'] },
  }));
  t.regex(error!.message, /mount.*tmpfs on .*\/tmp.*EINVAL/s);
  t.deepEqual(suspectHostMounts().filter((l) => !baselineMounts.has(l) && !before.includes(l)), []);
});
