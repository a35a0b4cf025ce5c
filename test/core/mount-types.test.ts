// The mount types runtimes mount beyond proc, sysfs, tmpfs, mqueue and binds: devpts (a new
// instance, its ptmx reached through /dev/ptmx), the cgroup filesystem laid out as runc lays it
// on this host (inside a cgroup namespace and not), and any other filesystem by name. Seen from
// inside through mountinfo and real opens and writes; from the host, nothing left behind.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import type { MountEntry } from '../../harness/probe/protocol.js';
import { parseMountinfo } from '../../harness/probe/observe.js';
import { run, shell, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

function top(mounts: MountEntry[], mountPoint: string): MountEntry | undefined {
  const here = mounts.filter((m) => m.mountPoint === mountPoint);
  return here.find((m) => !here.some((other) => other.parent === m.id));
}

async function inside(doc: Record<string, unknown>, script: string): Promise<{ lines: string[]; mounts: MountEntry[] }> {
  const { stdout, stderr, exit } = await run(doc, { args: shell(`${script}; echo --; cat /proc/self/mountinfo`) });
  if (!stdout.includes('--\n')) throw new Error(`the script failed (${JSON.stringify(exit)}): ${stderr}`);
  const [before, after] = stdout.split('--\n');
  return { lines: before!.trim().split('\n'), mounts: parseMountinfo(after!) };
}

const hostMounts = () => parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));

test.serial('devpts as runc spec declares it: a new instance with its options, /dev/ptmx opening a pty of it', async (t) => {
  const { lines, mounts } = await inside({
    mounts: [
      { type: 'proc' },
      { type: 'dev', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { type: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    ],
    process: { args: ['/bin/true'] },
  }, 'readlink /dev/ptmx; exec 3<>/dev/ptmx; ls /dev/pts | tr "\\n" " "; echo; stat -c "%a %g" /dev/pts/0');
  t.deepEqual(lines, ['pts/ptmx', '0 ptmx ', '620 5']);
  const pts = top(mounts, '/dev/pts')!;
  t.is(pts.fsType, 'devpts');
  t.deepEqual(pts.options.filter((o) => o !== 'relatime').sort(), ['noexec', 'nosuid', 'rw']);
  // mountinfo shows the gid as the initial user namespace sees it (here 5 mapped to a host gid); stat above shows 5.
  for (const data of ['mode=620', 'ptmxmode=666']) t.true(pts.superOptions.includes(data), data);
  t.true(pts.superOptions.some((o) => o.startsWith('gid=')));
});

/** The v1 hierarchies the host mounts below /sys/fs/cgroup, by directory name. */
function hostV1(): MountEntry[] {
  return hostMounts().filter((m) => m.fsType === 'cgroup' && path.dirname(m.mountPoint) === '/sys/fs/cgroup');
}

const unified = hostMounts().some((m) => m.mountPoint === '/sys/fs/cgroup' && m.fsType === 'cgroup2');

for (const cgroupNamespace of [false, true]) {
  const title = cgroupNamespace ? 'inside a cgroup namespace' : 'without a cgroup namespace';
  test.serial(`a read-only cgroup mount ${title}: the host's layout, each entry the container's own cgroup, every write refused`, async (t) => {
    const namespaces = ['user', 'pid', 'mnt', 'uts', 'ipc', 'net', ...(cgroupNamespace ? ['cgroup'] : [])];
    const { lines, mounts } = await inside({
      namespaces,
      mounts: [{ type: 'proc' }, { type: 'sysfs' }, { type: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] }],
      process: { args: ['/bin/true'] },
    }, 'cat /proc/self/cgroup; for d in /sys/fs/cgroup /sys/fs/cgroup/*; do mkdir "$d/nsrig-test-x" 2>/dev/null && echo "made $d"; done; true');
    t.false(lines.some((l) => l.startsWith('made ')), lines.join('\n'));
    const below = mounts.filter((m) => m.mountPoint.startsWith('/sys/fs/cgroup'));
    for (const m of below) t.true(m.options.includes('ro') && m.options.includes('nosuid') && m.options.includes('noexec'), m.mountPoint);
    if (unified) {
      t.is(top(mounts, '/sys/fs/cgroup')?.fsType, 'cgroup2');
      return;
    }
    t.is(top(mounts, '/sys/fs/cgroup')?.fsType, 'tmpfs');
    const own = new Map(lines.filter((l) => /^\d+:/.test(l)).map((l) => { const [, c, p] = /^\d+:([^:]*):(.*)$/.exec(l)!; return [c!, p!]; }));
    const names = hostV1().map((m) => path.basename(m.mountPoint)).sort();
    t.deepEqual(below.filter((m) => m.mountPoint !== '/sys/fs/cgroup').map((m) => path.basename(m.mountPoint)).sort(), names);
    for (const h of hostV1()) {
      const entry = top(mounts, path.join('/sys/fs/cgroup', path.basename(h.mountPoint)))!;
      t.is(entry.fsType, 'cgroup');
      const controllers = h.superOptions.filter((o) => o !== 'rw' && o !== 'ro' && o !== 'clone_children' && o !== 'xattr' && !o.startsWith('release_agent')).join(',');
      // A cgroup namespace shows its own cgroup as / everywhere; without one the bind is of that very directory.
      t.is(entry.root, cgroupNamespace ? '/' : own.get(controllers) ?? '(no cgroup)', h.mountPoint);
      if (cgroupNamespace) t.is(own.get(controllers), '/', controllers);
    }
  });
}

test.serial('any other filesystem by its name, with its data; an unknown one fails naming the mount', async (t) => {
  const { lines, mounts } = await inside({
    mounts: [{ type: 'proc' }, { type: 'filesystem', fsType: 'ramfs', source: 'scratch', destination: '/mnt', options: ['nosuid', 'mode=700'] }],
    process: { args: ['/bin/true'] },
  }, 'stat -c %a /mnt; echo x > /mnt/f && cat /mnt/f');
  t.deepEqual(lines, ['700', 'x']);
  const m = top(mounts, '/mnt')!;
  t.like(m, { fsType: 'ramfs', source: 'scratch' });
  t.true(m.options.includes('nosuid') && m.superOptions.includes('mode=700'));
  const error = await t.throwsAsync(run({
    mounts: [{ type: 'filesystem', fsType: 'nsrig-no-such-fs', destination: '/mnt' }], process: { args: ['/bin/true'] },
  }));
  t.regex(error!.message, /nsrig-no-such-fs on .*\/mnt.*ENODEV/s);
});

test.serial('/dev: the default devices made with mknod where the engine may, bound from the host in a user namespace; the host\'s nodes untouched', async (t) => {
  // The owner is left out: runc 1.1.5 chowns its stdio, /dev/null included, while other tests run it beside this one.
  const hostNodes = () => ['null', 'zero', 'full', 'random', 'urandom', 'tty'].map((d) => {
    const st = fs.statSync(`/dev/${d}`);
    return [d, st.mode, st.rdev];
  });
  const before = hostNodes();
  const script = 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done; ls -l /dev/ptmx /dev/fd | cut -c1';
  const expected = [
    '/dev/null character special file 1:3 666 0:0', '/dev/zero character special file 1:5 666 0:0',
    '/dev/full character special file 1:7 666 0:0', '/dev/random character special file 1:8 666 0:0',
    '/dev/urandom character special file 1:9 666 0:0', '/dev/tty character special file 5:0 666 0:0', 'l', 'l',
  ];
  const plain = await inside({
    namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'], mounts: [{ type: 'proc' }, { type: 'dev' }], process: { args: ['/bin/true'] },
  }, script);
  t.deepEqual(plain.lines, expected);
  t.false(plain.mounts.some((m) => m.mountPoint.startsWith('/dev/')), 'a device node is a mount of its own');
  // In a user namespace the host's nodes appear as they are: owned by a host root the namespace does not map.
  const userns = await inside({ mounts: [{ type: 'proc' }, { type: 'dev' }], process: { args: ['/bin/true'] } }, script);
  // As the container sees the host's owner: unmapped ids show as the overflow id 65534.
  const seen = (id: number) => (id >= 100000 && id < 165536 ? id - 100000 : 65534);
  t.deepEqual(userns.lines, expected.map((l) => {
    const st = fs.statSync(l.split(' ')[0]!, { throwIfNoEntry: false });
    return st === undefined ? l : l.replace(' 0:0', ` ${seen(st.uid)}:${seen(st.gid)}`);
  }));
  t.deepEqual(userns.mounts.filter((m) => m.mountPoint.startsWith('/dev/')).map((m) => m.mountPoint).sort(),
    ['/dev/full', '/dev/null', '/dev/random', '/dev/tty', '/dev/urandom', '/dev/zero']);
  t.deepEqual(hostNodes(), before);
});
