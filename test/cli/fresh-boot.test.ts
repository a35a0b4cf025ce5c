// A freshly booted host, simulated: nsrig runs in a time namespace whose offsets make its clocks
// read about 90 s, as a CI VM's do minutes after boot. Offsets are relative to the initial time
// namespace, so the kernel (and nsrig) still judge a container's offsets against the host's real
// clocks; what nsrig reads about itself must not mislead the generator, the engine or the checks.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readHostClocks } from '../../core/time-offsets.js';
import { launchContainer } from '../../core/container.js';
import { pollExit } from '../../core/native/process.js';
import { CLOCK_TICKS_PER_SECOND, startTicksOf } from '../../core/process-start.js';
import { parseProfile } from '../../policy/profile/load.js';
import { nsrig, printed, type CliRun } from './nsrig-cli.js';

const SEEMS_UP_FOR = 90;

/** `nsrig ARGS` in a new time namespace whose clocks read about `seemsUpFor` seconds. */
function nsrigFreshlyBooted(args: string[], seemsUpFor = SEEMS_UP_FOR): Promise<CliRun> {
  const host = readHostClocks();
  const shift = (clock: number): number => -Math.floor(clock - seemsUpFor);
  return nsrig(args, { through: ['unshare', '--time', '--fork', `--monotonic=${shift(host.monotonic)}`, `--boottime=${shift(host.boottime)}`] });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-fresh-boot-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the time invariant holds on the engine when nsrig\'s own clocks read like a fresh boot', async (t) => {
  const json = path.join(dir, 'results.json');
  const run = await nsrigFreshlyBooted(['check', '--target', 'builtin', '--only', 'time.offsets-applied', '--runs', '8', '--seed', '3', '--json', json]);
  t.is(run.code, 0, printed(run));
  const results = JSON.parse(fs.readFileSync(json, 'utf8')) as { invariants: { id: string; status: string }[] };
  t.deepEqual(results.invariants.map((i) => [i.id, i.status]), [['time.offsets-applied', 'pass']]);
});

test('an offset the host\'s clock cannot take is refused by name, judged by the host\'s uptime and not nsrig\'s', async (t) => {
  const profile = path.join(dir, 'offset.yaml');
  const uptime = readHostClocks().monotonic;
  // Within what the host's clock takes, below what nsrig's own clock reads: only a host up for
  // longer than the simulated fresh boot has such an offset.
  const roomy = -Math.min(Math.floor(uptime) - 30, SEEMS_UP_FOR * 10);
  if (roomy < -SEEMS_UP_FOR) {
    fs.writeFileSync(profile, `name: offset\nnamespaces: [user, pid, mnt, time]\ntimeOffsets: {monotonic: ${roomy}}\nprocess: {args: [/bin/true]}\n`);
    const accepted = await nsrigFreshlyBooted(['run', profile]);
    t.is(accepted.code, 0, printed(accepted));
  } else {
    t.log(`not tried: an offset the host takes below nsrig's own ${SEEMS_UP_FOR} s: this host is up for only ${uptime.toFixed(0)} s`);
  }
  fs.writeFileSync(profile, `name: offset\nnamespaces: [user, pid, mnt, time]\ntimeOffsets: {monotonic: ${-Math.ceil(uptime) - 1000}}\nprocess: {args: [/bin/true]}\n`);
  const refused = await nsrigFreshlyBooted(['run', profile]);
  t.is(refused.code, 125, printed(refused));
  t.regex(refused.stderr, new RegExp(`timeOffsets\\.monotonic: -\\d+ s would put the container's CLOCK_MONOTONIC below zero: this host's CLOCK_MONOTONIC reads ${Math.floor(uptime / 100)}\\d\\d\\.\\d s`));
});

test('a fresh-boot nsrig\'s launch leaves alone the running container of an nsrig that started before its clocks\' zero', async (t) => {
  // Such an nsrig's start reads wrapped past 2^64 in the namespace (core/process-start.ts): the
  // other's first launch swept this process's cgroups as a dead owner's and killed the container.
  const doc = { name: 'older', namespaces: ['user', 'pid', 'mnt'], process: { args: ['/bin/sleep', '120'] } };
  const container = await launchContainer(parseProfile(doc, 'older.yaml'), { stdio: 'pipe', stdin: 'null' });
  try {
    const started = startTicksOf(process.pid)! / CLOCK_TICKS_PER_SECOND;
    while (readHostClocks().boottime - started < 3) await new Promise((r) => setTimeout(r, 100));
    const younger = path.join(dir, 'younger.yaml');
    fs.writeFileSync(younger, 'name: younger\nnamespaces: [user, pid, mnt]\nprocess: {args: [/bin/true]}\n');
    // Clocks whose zero is a second after this process started.
    const run = await nsrigFreshlyBooted(['run', younger], Math.floor(readHostClocks().boottime - started) - 1);
    t.is(run.code, 0, printed(run));
    t.is(pollExit(container.pidfd), undefined, 'the older container was killed during the other nsrig\'s launch');
  } finally {
    await container.destroy();
  }
});
