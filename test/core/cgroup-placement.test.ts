// Where the engine puts a container, read from the host: in its own cgroup in every hierarchy
// (runtime-spec config-linux.md, "Control groups": "Runtimes MAY attach the container process to
// additional cgroup controllers beyond those necessary to fulfill the `resources` settings"; runc
// and crun both attach it to every v1 hierarchy), also without a cgroup namespace and without
// resources; and what the host holds afterwards: no nsrig/ parent that was not there before.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { cgroupDirsOf, distinctV1Hierarchies, readCgroupLayout, readProcessCgroups, temporaryV1MountPoints } from '../../core/cgroup-layout.js';
import { run, shell, HOLD, heldReady, assertNoLeftovers } from './container-run.js';
import { defaultCgroupParents, newEmptyCgroupParents } from '../../harness/host-leftovers.js';

test.afterEach.always(assertNoLeftovers);

const layout = readCgroupLayout();
const NAMESPACES = ['pid', 'mnt', 'uts', 'ipc', 'net'];

const hasV1 = distinctV1Hierarchies(layout).length > 0;
(hasV1 ? test.serial : test.serial.skip)(`without resources or a cgroup namespace, the container is in its own cgroup in every hierarchy, and they all go at teardown${hasV1 ? '' : ` (skipped: this host is ${layout.mode}, with no v1 hierarchy)`}`, async (t) => {
  const parentsBefore = new Set(defaultCgroupParents().filter((p) => fs.existsSync(p)));
  const ownDirs = new Set(cgroupDirsOf(readProcessCgroups(), layout).map((d) => d.dir));
  const { outside, container } = await run({ namespaces: NAMESPACES, process: { args: ['/bin/true'] } }, {
    args: shell(HOLD), ready: heldReady,
    outside: (c) => ({ seen: cgroupDirsOf(readProcessCgroups(c.pid), layout), made: c.cgroups!.directories, pid: c.pid }),
  });
  const temporary = temporaryV1MountPoints();
  const expected = distinctV1Hierarchies(layout).filter((h) => !temporary.has(h.mountPoint)).length + (layout.unifiedMount !== undefined ? 1 : 0);
  t.is(outside.seen.filter((d) => d.hierarchy === 'unified' || !temporary.has(d.hierarchy.mountPoint)).length, expected);
  for (const d of outside.seen) {
    const where = d.hierarchy === 'unified' ? 'cgroup2' : d.hierarchy.name !== undefined ? `name=${d.hierarchy.name}` : d.hierarchy.controllers.join(',');
    if (d.hierarchy !== 'unified' && temporary.has(d.hierarchy.mountPoint)) continue;
    t.false(ownDirs.has(d.dir), `${where}: left in nsrig's own cgroup ${d.dir}`);
    t.is(path.basename(d.dir), container.id, `${where}: ${d.dir}`);
    t.true(outside.made.includes(d.dir), `${where}: ${d.dir} is one the engine made`);
  }
  t.deepEqual(outside.made.filter((dir) => fs.existsSync(dir)), [], 'every directory removed at teardown');
  t.deepEqual(newEmptyCgroupParents(parentsBefore), [], 'no nsrig/ parent the host did not have');
});

test.serial('after launches with and without resources, the host has no nsrig/ parent it did not have before', async (t) => {
  const before = new Set(defaultCgroupParents().filter((p) => fs.existsSync(p)));
  await run({ namespaces: NAMESPACES, process: { args: ['/bin/true'] } });
  await run({ namespaces: NAMESPACES, resources: { pids: { limit: 64 } }, process: { args: ['/bin/true'] } });
  t.deepEqual(newEmptyCgroupParents(before), []);
});
