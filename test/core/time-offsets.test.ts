// Time namespace offsets against the host's clocks: the kernel refuses an offset that takes the
// namespace's CLOCK_MONOTONIC or CLOCK_BOOTTIME below zero (ERANGE), which on a host booted
// minutes ago is a small negative number. The engine refuses it first, naming the field, the value
// and the uptime, before anything is created; the generator stays within what the clocks allow.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { launchContainer, LaunchError } from '../../core/container.js';
import { assertTimeOffsetsFit, offsetRange, readHostClocks, TimeOffsetError, type HostClocks } from '../../core/time-offsets.js';
import { profileDocument } from '../../harness/generators/profile-document.js';
import { parseProfile } from '../../policy/profile/load.js';
import { profileOf, run, assertNoLeftovers } from './container-run.js';
import { childrenOf, ourCgroupDirs, suspectHostMounts } from '../../harness/host-leftovers.js';
import { liveContainers } from '../../core/live-containers.js';

test.afterEach.always(assertNoLeftovers);

const TIME = ['user', 'pid', 'mnt', 'time'];
const withOffsets = (timeOffsets: Record<string, number>) => profileOf({ namespaces: TIME, timeOffsets, process: { args: ['/bin/true'] } });

test('the check names the field, the value and the uptime, for an uptime a freshly booted host has', (t) => {
  const fresh: HostClocks = { monotonic: 90.4, boottime: 95.7 };
  t.notThrows(() => assertTimeOffsetsFit(withOffsets({ monotonic: -90, boottime: -95 }), fresh));
  const monotonic = t.throws(() => assertTimeOffsetsFit(withOffsets({ monotonic: -91 }), fresh), { instanceOf: TimeOffsetError });
  t.like(monotonic, { fieldPath: 'timeOffsets.monotonic', value: -91, uptime: 90.4, file: 'core-test.yaml', step: 'check-time-offsets' });
  t.true(monotonic instanceof LaunchError);
  t.regex(monotonic.message, /^core-test\.yaml: timeOffsets\.monotonic: -91 s would put the container's CLOCK_MONOTONIC below zero: this host's CLOCK_MONOTONIC reads 90\.4 s .* from -90 to /);
  t.notRegex(monotonic.message, /^ERANGE/);
  const boottime = t.throws(() => assertTimeOffsetsFit(withOffsets({ boottime: -96 }), fresh), { instanceOf: TimeOffsetError });
  t.like(boottime, { fieldPath: 'timeOffsets.boottime', value: -96, uptime: 95.7 });
  t.regex(boottime.message, /CLOCK_BOOTTIME reads 95\.7 s/);
});

test('the host\'s clocks: CLOCK_MONOTONIC as process.hrtime reads it, CLOCK_BOOTTIME as /proc/uptime does', (t) => {
  const hrBefore = Number(process.hrtime.bigint()) / 1e9;
  const uptimeBefore = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const clocks = readHostClocks();
  const hrAfter = Number(process.hrtime.bigint()) / 1e9;
  const uptimeAfter = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  t.true(clocks.monotonic >= hrBefore && clocks.monotonic <= hrAfter, `${clocks.monotonic} not in [${hrBefore}, ${hrAfter}]`);
  // /proc/uptime has 10 ms resolution.
  t.true(clocks.boottime >= uptimeBefore && clocks.boottime <= uptimeAfter + 0.01, `${clocks.boottime} not in [${uptimeBefore}, ${uptimeAfter}]`);
});

test('inside a time namespace that makes the host look freshly booted, the host\'s clocks are still read, as the kernel\'s check uses them', (t) => {
  const uptime = Math.floor(readHostClocks().monotonic);
  const shift = Math.floor(uptime / 2);
  const script = `import('${pathToModule('../../core/time-offsets.js')}').then((m) => console.log(JSON.stringify(m.readHostClocks())))`;
  // unshare(1) --fork puts its child in a new time namespace with these offsets.
  const inside = JSON.parse(execFileSync('unshare', ['--time', '--fork', `--monotonic=-${shift}`, `--boottime=-${shift}`, process.execPath, '-e', script], { encoding: 'utf8' })) as HostClocks;
  const after = readHostClocks();
  t.true(inside.monotonic > uptime && inside.monotonic <= after.monotonic, `${inside.monotonic} is not the host's clock (${uptime}..${after.monotonic})`);
  t.true(inside.boottime <= after.boottime && inside.boottime > after.boottime - 60, `${inside.boottime} is not the host's boot time (${after.boottime})`);
});

function pathToModule(relative: string): string {
  return fileURLToPath(new URL(relative, import.meta.url));
}

test('generated offsets stay within what a freshly booted host\'s clocks take, and reach -1000 s on a host up for longer', (t) => {
  const fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-time-offsets-test-'));
  try {
    const lowestGenerated = (clocks: HostClocks) => {
      let lowest = Infinity;
      for (const doc of fc.sample(profileDocument({ timeOffsets: true }, { fixtureDir, clocks }), { seed: 11, numRuns: 300 })) {
        const profile = parseProfile(doc, '<generated>', { checkPaths: true });
        t.notThrows(() => assertTimeOffsetsFit(profile, clocks), JSON.stringify(profile.timeOffsets));
        lowest = Math.min(lowest, profile.timeOffsets!.monotonic);
      }
      return lowest;
    };
    // 30 s are kept between the lowest generated offset and the lowest the clock takes.
    t.is(lowestGenerated({ monotonic: 75.5, boottime: 80 }), -45);
    t.is(lowestGenerated({ monotonic: 12, boottime: 12 }), 0);
    t.is(lowestGenerated({ monotonic: 86400, boottime: 86400 }), -1000);
  } finally {
    fs.rmSync(fixtureDir, { recursive: true, force: true });
  }
});

test.serial('for real: an offset further below zero than this host has been up fails with the clear error, and nothing is created', async (t) => {
  const before = JSON.stringify({ children: childrenOf(), cgroups: ourCgroupDirs(), mounts: suspectHostMounts(), fds: fs.readdirSync('/proc/self/fd').length });
  const uptime = readHostClocks().monotonic;
  const value = -Math.ceil(uptime) - 1000;
  const error = await t.throwsAsync(launchContainer(withOffsets({ monotonic: value }), { stdio: 'pipe', stdin: 'null' }), { instanceOf: TimeOffsetError });
  t.like(error, { fieldPath: 'timeOffsets.monotonic', value, step: 'check-time-offsets' });
  t.true(error!.uptime >= uptime && error!.uptime < uptime + 60);
  t.regex(error!.message, new RegExp(`timeOffsets\\.monotonic: ${value} s .* reads ${Math.floor(uptime / 10)}\\d\\.\\d s`));
  const after = JSON.stringify({ children: childrenOf(), cgroups: ourCgroupDirs(), mounts: suspectHostMounts(), fds: fs.readdirSync('/proc/self/fd').length });
  t.is(after, before);
  t.is(liveContainers.size, 0);
});

test.serial('for real: the lowest offset the check lets through, the kernel takes, and the container\'s clock then reads about zero', async (t) => {
  const clocks = readHostClocks();
  const monotonic = offsetRange(clocks.monotonic).lowest + 1;
  const boottime = offsetRange(clocks.boottime).lowest + 1;
  const { exit, stdout } = await run({ namespaces: TIME, timeOffsets: { monotonic, boottime }, process: { args: ['/bin/cat', '/proc/uptime'] } });
  t.is(exit.code, 0);
  // /proc/uptime shows the namespace's CLOCK_BOOTTIME: between 1 and 2 s plus the time the launch took.
  const inside = Number(stdout.split(' ')[0]);
  t.true(inside >= 1 && inside < 60, `uptime inside ${inside}`);
});
