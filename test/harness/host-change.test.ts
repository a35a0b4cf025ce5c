// The host-change scenario: one container looks, the host changes something, it looks again;
// the plan's undo runs on every path. And the fixture directory it relies on: a shared mount
// point of its own, gone with the fixtures.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { mount, setPropagation } from '../../core/native/mount.js';
import { MS } from '../../policy/kernel/mount-flags.js';
import { HostFixtures, isHarnessMount, makeHarnessMountDir } from '../../harness/host-facts.js';
import { runHostChange } from '../../harness/scenario.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { parseProfile } from '../../policy/profile/load.js';

const target = new BuiltinTarget();

function mountLine(dir: string): string | undefined {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === dir);
}

test.serial('the probe looks, the host changes, the probe looks again, and undo runs', async (t) => {
  const fixtures = await HostFixtures.create();
  const host = fixtures.facts;
  try {
    t.regex(mountLine(host.fixtureDir) ?? '', / shared:\d+ /, 'the fixture directory is a shared mount point');
    const dir = makeHarnessMountDir(host);
    t.true(isHarnessMount(dir));
    t.true(isHarnessMount(host.fixtureDir));
    t.true(isHarnessMount('/tmp/nsrig-oci-runtimes-test-AbC123/nsrig-fixture-4242-xYz789'), 'another run\'s fixture, one level down');
    t.false(isHarnessMount(path.join(host.fixtureDir, 'leaked-by-a-container')), 'what a container mounts in the fixture is still a leak');
    t.false(isHarnessMount(path.join(dir, 'below')));
    const name = path.basename(dir);
    const profile = parseProfile({
      mounts: [{ type: 'proc' }, { type: 'bind', source: host.fixtureDir, destination: '/mnt', readonly: false }],
      process: { args: ['true'] },
    }, 'host-change.yaml');
    const steps: string[] = [];
    const [before, after] = await runHostChange(target, profile, {
      request: { stat: [`/mnt/${name}/made-between-looks`] },
      change: () => {
        steps.push('change');
        fs.writeFileSync(path.join(dir, 'made-between-looks'), '');
      },
      undo: () => {
        steps.push('undo');
        fs.rmSync(dir, { recursive: true, force: true });
      },
    });
    t.deepEqual(steps, ['change', 'undo']);
    t.is(before.stats[0]?.code, 'ENOENT');
    t.is(after.stats[0]?.code, null, 'a file (not a mount) the host makes in a bound directory is seen: the second look is real');
    t.not(before.self.pid, undefined);

    const refused = parseProfile({ mounts: [{ type: 'bind', source: '/no/such/source', destination: '/mnt' }], process: { args: ['true'] } }, 'refused.yaml', { checkPaths: false });
    let undone = false;
    await t.throwsAsync(runHostChange(target, refused, { request: {}, change: () => t.fail('no change without a container'), undo: () => (undone = true) }));
    t.true(undone, 'undo runs when the container never started');
  } finally {
    await fixtures.close();
  }
  t.false(fs.existsSync(host.fixtureDir));
  t.is(mountLine(host.fixtureDir), undefined, 'the fixture mount is gone');
});

test.serial('a SIGKILLed run\'s fixture mount, even one level below $TMPDIR, is swept by the next run', async (t) => {
  // A pid that names no process any more: a child that has exited and been reaped.
  const dead = spawnSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' });
  const pid = Number(dead.stdout.trim());
  t.false(fs.existsSync(`/proc/${pid}`));
  const testDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-sweep-test-'));
  const stale = path.join(testDir, `nsrig-fixture-${pid}-AbC123`);
  fs.mkdirSync(stale);
  fs.writeFileSync(path.join(stale, 'left-by-the-dead-run'), '');
  // As makeFixtureDir leaves it: a shared mount point of its own.
  mount(stale, stale, null, MS.BIND);
  setPropagation(stale, 'shared', false);
  try {
    t.regex(mountLine(stale) ?? '', / shared:\d+ /);
    const fixtures = await HostFixtures.create();
    await fixtures.close();
    t.is(mountLine(stale), undefined, 'the stale fixture mount is gone');
    t.false(fs.existsSync(stale), 'and its directory');
  } finally {
    if (mountLine(stale) !== undefined) spawnSync('umount', ['-l', stale]);
    fs.rmSync(testDir, { recursive: true, force: true });
  }
});
