// User namespace id mappings and the process's identity: uid_map, gid_map and setgroups as the
// kernel reports them inside and from the host, for several ranges; uid, gid and supplementary
// groups inside, and the host ids they are outside.
import test from 'ava';
import fs from 'node:fs';
import { run, runProbe, shell, HOLD, heldReady, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

/** "         0     100000       1000\n..." as [[0, 100000, 1000], ...]. */
function mapRows(text: string): number[][] {
  return text.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/).map(Number));
}

function statusField(status: string, name: string): number[] {
  return (new RegExp(`^${name}:(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Sections of a script's output, each introduced by "== name". */
function sections(stdout: string): Record<string, string> {
  const result: Record<string, string> = {};
  let current = '';
  for (const line of stdout.split('\n')) {
    if (line.startsWith('== ')) current = line.slice(3);
    else if (current) result[current] = (result[current] ?? '') + line + '\n';
  }
  return result;
}

const REPORT = [
  'echo "== uid_map"; cat /proc/self/uid_map', 'echo "== gid_map"; cat /proc/self/gid_map', 'echo "== setgroups"; cat /proc/self/setgroups',
  'echo "== id"; id -u; id -g; id -G', 'echo "== status"; grep -E "^(Uid|Gid|Groups):" /proc/self/status', 'echo "== end"',
].join('; ');

function outsideView(pid: number) {
  return {
    uidMap: fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8'),
    gidMap: fs.readFileSync(`/proc/${pid}/gid_map`, 'utf8'),
    setgroups: fs.readFileSync(`/proc/${pid}/setgroups`, 'utf8').trim(),
    status: fs.readFileSync(`/proc/${pid}/status`, 'utf8'),
  };
}

test.serial('several ranges, setgroups allow, a non-root process with supplementary groups', async (t) => {
  const uidMappings = [{ containerId: 0, hostId: 100000, size: 1000 }, { containerId: 1000, hostId: 200000, size: 1 }, { containerId: 2000, hostId: 300000, size: 10 }];
  const gidMappings = [{ containerId: 0, hostId: 100000, size: 1000 }, { containerId: 1000, hostId: 400000, size: 5 }, { containerId: 3000, hostId: 500000, size: 2 }];
  const { stdout, outside, exit } = await run({
    user: { uidMappings, gidMappings, setgroups: 'allow' },
    process: { args: ['/bin/true'], user: { uid: 1000, gid: 1000, additionalGids: [1003, 3001] } },
  }, { args: shell(`${REPORT}; ${HOLD}`), ready: heldReady, outside: (c) => outsideView(c.pid) });
  t.is(exit.code, 0);
  const inside = sections(stdout);
  const rows = (maps: typeof uidMappings) => maps.map((m) => [m.containerId, m.hostId, m.size]);
  t.deepEqual(mapRows(inside.uid_map!), rows(uidMappings));
  t.deepEqual(mapRows(inside.gid_map!), rows(gidMappings));
  t.is(inside.setgroups!.trim(), 'allow');
  t.deepEqual(inside.id!.trim().split('\n'), ['1000', '1000', '1000 1003 3001']);
  t.deepEqual(statusField(inside.status!, 'Uid'), [1000, 1000, 1000, 1000]);
  t.deepEqual(statusField(inside.status!, 'Gid'), [1000, 1000, 1000, 1000]);
  t.deepEqual(statusField(inside.status!, 'Groups'), [1003, 3001]);
  // From the host (the parent user namespace) the maps read the same, and ids are host ids.
  t.deepEqual(mapRows(outside.uidMap), rows(uidMappings));
  t.deepEqual(mapRows(outside.gidMap), rows(gidMappings));
  t.is(outside.setgroups, 'allow');
  t.deepEqual(statusField(outside.status, 'Uid'), [200000, 200000, 200000, 200000]);
  t.deepEqual(statusField(outside.status, 'Gid'), [400000, 400000, 400000, 400000]);
  t.deepEqual(statusField(outside.status, 'Groups'), [400003, 500001]);
});

test.serial('the default mapping, setgroups deny: root inside is host uid 100000 with no supplementary groups', async (t) => {
  const { stdout, outside, exit } = await run({ process: { args: ['/bin/true'] } }, {
    args: shell(`${REPORT}; ${HOLD}`), ready: heldReady, outside: (c) => outsideView(c.pid),
  });
  t.is(exit.code, 0);
  const inside = sections(stdout);
  t.deepEqual(mapRows(inside.uid_map!), [[0, 100000, 65536]]);
  t.deepEqual(mapRows(inside.gid_map!), [[0, 100000, 65536]]);
  t.is(inside.setgroups!.trim(), 'deny');
  t.deepEqual(inside.id!.trim().split('\n'), ['0', '0', '0']);
  t.deepEqual(statusField(inside.status!, 'Groups'), []);
  t.is(outside.setgroups, 'deny');
  t.deepEqual(statusField(outside.status, 'Uid'), [100000, 100000, 100000, 100000]);
  t.deepEqual(statusField(outside.status, 'Gid'), [100000, 100000, 100000, 100000]);
  t.deepEqual(statusField(outside.status, 'Groups'), []);
});

test.serial('setgroups(2) inside fails with EPERM when setgroups is deny and works when allow', async (t) => {
  const SETGROUPS = { name: 'setgroups', nr: 116, args: [0, 0] };
  const denied = await runProbe({ process: { args: ['/bin/true'] } }, { syscalls: [SETGROUPS] });
  t.is(denied.observations.setgroups, 'deny');
  t.is(denied.observations.syscalls[0]!.code, 'EPERM');
  const allowed = await runProbe({ user: { setgroups: 'allow' }, process: { args: ['/bin/true'] } }, { syscalls: [SETGROUPS] });
  t.is(allowed.observations.setgroups, 'allow');
  t.is(allowed.observations.syscalls[0]!.code, null);
});

test.serial('without a user namespace the process runs with the host ids it asks for', async (t) => {
  const { stdout, outside } = await run({ namespaces: ['pid', 'mnt'], process: { args: ['/bin/true'], user: { uid: 4321, gid: 4322, additionalGids: [4323] } } }, {
    args: shell(`id -u; id -g; id -G; ${HOLD}`), ready: heldReady, outside: (c) => fs.readFileSync(`/proc/${c.pid}/status`, 'utf8'),
  });
  t.deepEqual(stdout.trim().split('\n').slice(0, 3), ['4321', '4322', '4322 4323']);
  t.deepEqual(statusField(outside, 'Uid'), [4321, 4321, 4321, 4321]);
  t.deepEqual(statusField(outside, 'Groups'), [4323]);
});
