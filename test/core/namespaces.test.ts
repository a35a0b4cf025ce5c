// Namespaces, seen from inside the container and from the host: each requested type is a new
// namespace (its inode differs from the host's), each other type is the host's own (same
// inode); the contained program is PID 1; hostname and domainname; cgroup namespace root; time
// namespace offsets on both clocks.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import { run, runProbe, shell, HOLD, heldReady, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

const TYPES = ['user', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'mnt', 'time'] as const;

function inode(link: string): number {
  return Number(/\[(\d+)\]$/.exec(link)?.[1]);
}

const hostInodes = Object.fromEntries(TYPES.map((type) => [type, inode(fs.readlinkSync(`/proc/self/ns/${type}`))]));

const SETS: (typeof TYPES[number])[][] = [
  [...TYPES],
  [],
  ['user', 'pid', 'mnt'],
  ['uts', 'ipc', 'net', 'cgroup', 'time'],
  ['user', 'net', 'time'],
];

for (const namespaces of SETS) {
  test.serial(`namespaces [${namespaces.join(', ')}]: new inodes for exactly these, inside and from the host`, async (t) => {
    const listing = TYPES.map((type) => `echo ${type} $(readlink /proc/self/ns/${type})`).join('; ');
    const { exit, stdout, outside } = await run({ namespaces, process: { args: ['/bin/true'] } }, {
      args: shell(`${listing}; ${HOLD}`),
      ready: heldReady,
      outside: (c) => Object.fromEntries(TYPES.map((type) => [type, inode(fs.readlinkSync(`/proc/${c.pid}/ns/${type}`))])),
    });
    t.is(exit.code, 0);
    const inside = Object.fromEntries(stdout.split('\n').filter((l) => TYPES.some((type) => l.startsWith(`${type} `)))
      .map((l) => [l.split(' ')[0], inode(l.split(' ')[1]!)]));
    for (const type of TYPES) {
      const requested = namespaces.includes(type);
      t.false(Number.isNaN(inside[type]), `${type}: no inode read inside`);
      if (requested) {
        t.not(inside[type], hostInodes[type], `${type} was requested: inside it must be a new namespace`);
        t.not(outside[type], hostInodes[type], `${type} was requested: seen from the host it must be a new namespace`);
      } else {
        t.is(inside[type], hostInodes[type], `${type} was not requested: inside it must be the host's`);
        t.is(outside[type], hostInodes[type], `${type} was not requested: seen from the host it must be the host's`);
      }
      t.is(inside[type], outside[type], `${type}: inside and outside disagree`);
    }
  });
}

test.serial('hostname and domainname are set inside and the host\'s stay as they were', async (t) => {
  const hostName = os.hostname();
  const hostDomain = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8');
  const { stdout, exit } = await run({ hostname: 'box-1.example', domainname: 'nis.example', process: { args: ['/bin/true'] } }, {
    args: shell('cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname; uname -n'),
  });
  t.is(exit.code, 0);
  t.deepEqual(stdout.trim().split('\n'), ['box-1.example', 'nis.example', 'box-1.example']);
  t.is(os.hostname(), hostName);
  t.is(fs.readFileSync('/proc/sys/kernel/domainname', 'utf8'), hostDomain);
});

test.serial('without a hostname the new UTS namespace keeps a copy of the host\'s names', async (t) => {
  const { stdout } = await run({ process: { args: ['/bin/cat', '/proc/sys/kernel/hostname', '/proc/sys/kernel/domainname'] } });
  t.is(stdout, `${os.hostname()}\n${fs.readFileSync('/proc/sys/kernel/domainname', 'utf8')}`);
});

test.serial('the contained program is PID 1 of its PID namespace; its children are numbered after it', async (t) => {
  const script = `echo $$; cut -d' ' -f1,4 /proc/self/stat; ls /proc | grep -c '^[0-9]'; ${HOLD}`;
  const { stdout, outside, exit } = await run({ process: { args: ['/bin/true'] } }, {
    args: shell(script), ready: heldReady,
    outside: (c) => ({ pid: c.pid, nspid: /NSpid:\s*(.*)/.exec(fs.readFileSync(`/proc/${c.pid}/status`, 'utf8'))![1]!.split(/\s+/).map(Number) }),
  });
  t.is(exit.code, 0);
  const [self, cutLine, count] = stdout.split('\n');
  t.is(self, '1');
  // cut is a child of PID 1, numbered in the namespace (after the ids stage 2's threads used).
  const [childPid, parent] = cutLine!.split(' ').map(Number);
  t.true(childPid! > 1 && childPid! < 100, `child pid ${childPid}`);
  t.is(parent, 1);
  // /proc shows only the container's processes: sh, and the ls and grep of the pipeline.
  t.true(Number(count) >= 2 && Number(count) <= 3, `processes in /proc: ${count}`);
  t.not(outside.pid, 1);
  t.deepEqual(outside.nspid, [outside.pid, 1]);
});

test.serial('with a cgroup namespace the container\'s own cgroup is its root; without one it sees the host\'s path', async (t) => {
  const cgroupLine = (text: string) => text.split('\n').find((l) => l.startsWith('0::'));
  const withNs = await run({ namespaces: ['user', 'pid', 'mnt', 'cgroup'], process: { args: ['/bin/true'] } }, {
    args: shell(`cat /proc/self/cgroup; ${HOLD}`), ready: heldReady,
    outside: (c) => ({ id: c.id, line: cgroupLine(fs.readFileSync(`/proc/${c.pid}/cgroup`, 'utf8')) }),
  });
  t.is(cgroupLine(withNs.stdout), '0::/');
  t.is(withNs.outside.line, `0::/nsrig/${withNs.outside.id}`);
  const without = await run({ namespaces: ['user', 'pid', 'mnt'], process: { args: ['/bin/cat', '/proc/self/cgroup'] } });
  t.is(cgroupLine(without.stdout), `0::/nsrig/${without.container.id}`);
});

test.serial('time namespace offsets move CLOCK_MONOTONIC and CLOCK_BOOTTIME inside, and only inside', async (t) => {
  const offsets = { monotonic: 100000, boottime: 200000 };
  const hostMonotonic = () => Number(process.hrtime.bigint()) / 1e9;
  const hostBoottime = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const before = { monotonic: hostMonotonic(), boottime: hostBoottime() };
  const { observations: o, outside } = await runProbe(
    { namespaces: ['user', 'pid', 'mnt', 'time'], timeOffsets: offsets, process: { args: ['/bin/true'] } }, {},
    (c) => fs.readFileSync(`/proc/${c.pid}/timens_offsets`, 'utf8'),
  );
  const after = { monotonic: hostMonotonic(), boottime: hostBoottime() };
  const parse = (text: string) => Object.fromEntries(text.trim().split('\n').map((l) => l.trim().split(/\s+/)).map(([clock, s, ns]) => [clock, [Number(s), Number(ns)]]));
  t.deepEqual(parse(o.time.offsets), { monotonic: [100000, 0], boottime: [200000, 0] });
  t.deepEqual(parse(outside), { monotonic: [100000, 0], boottime: [200000, 0] });
  // The container's clocks read host clock + offset, taken between two host readings.
  for (const clock of ['monotonic', 'boottime'] as const) {
    t.true(o.time[clock] >= before[clock] + offsets[clock] && o.time[clock] <= after[clock] + offsets[clock],
      `${clock}: ${o.time[clock]} not within [${before[clock]}, ${after[clock]}] + ${offsets[clock]}`);
  }
  t.true(hostBoottime() < before.boottime + offsets.boottime, 'the host\'s own boottime moved');
});

test.serial('a time namespace without offsets keeps the host\'s clocks', async (t) => {
  const { observations: o } = await runProbe({ namespaces: ['user', 'pid', 'mnt', 'time'], process: { args: ['/bin/true'] } });
  t.deepEqual(o.time.offsets.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['monotonic', '0', '0'], ['boottime', '0', '0']]);
  t.not(o.self.namespaces.time, Number(/\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/time'))![1]));
});
