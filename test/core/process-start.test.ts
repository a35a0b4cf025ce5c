// Start times that name a process read the same from any time namespace: the kernel shifts
// /proc/PID/stat's field 22 by the reader's boot-time offset, and wraps it past 2^64 for a process
// older than the reader's namespace's zero (nsrig run as the fresh-boot test runs it).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { sameStart, startTicksOf, CLOCK_TICKS_PER_SECOND } from '../../core/process-start.js';
import { readHostClocks } from '../../core/time-offsets.js';

// The URL as it is: its pathname is percent-encoded, and encoding it again breaks a checkout whose path has a space.
const MODULE = new URL('../../core/process-start.js', import.meta.url).href;
/** Readings past this are a sum the kernel took below zero (2^63 ns in ticks). */
const WRAPPED_TICKS = 2 ** 63 / 1e7;

interface Inside {
  raw: Record<string, number>;
  read: Record<string, number>;
  self: number;
}

/** startTicksOf and the raw field of each pid, read in a new time namespace whose boot clock is set back by `shiftSeconds`. */
function readInside(shiftSeconds: number, pids: number[]): Inside {
  const script = `import(${JSON.stringify(MODULE)}).then((m) => {
    const fs = require('node:fs');
    const pids = ${JSON.stringify(pids)};
    const rawOf = (pid) => { const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8'); return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[19]); };
    console.log(JSON.stringify({ raw: Object.fromEntries(pids.map((p) => [p, rawOf(p)])), read: Object.fromEntries(pids.map((p) => [p, m.startTicksOf(p)])), self: m.startTicksOf('self') }));
  })`;
  const out = execFileSync('unshare', ['--time', '--fork', `--boottime=-${shiftSeconds}`, `--monotonic=-${shiftSeconds}`, process.execPath, '-e', script],
    { encoding: 'utf8', env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' } });
  return JSON.parse(out) as Inside;
}

test('a process older than a time namespace\'s zero reads wrapped there, and startTicksOf still gives the host\'s start', async (t) => {
  const own = startTicksOf(process.pid)!;
  // The namespace's zero just after this process started: this process and pid 1 are older than it.
  const shift = Math.floor(own / CLOCK_TICKS_PER_SECOND) + 1;
  // The kernel refuses an offset that takes the namespace's clock below zero: wait until it would not.
  while (readHostClocks().boottime < shift + 1) await new Promise((r) => setTimeout(r, 100));
  const inside = readInside(shift, [process.pid, 1]);
  for (const pid of [process.pid, 1]) {
    t.true(inside.raw[pid]! > WRAPPED_TICKS, `pid ${pid} reads ${inside.raw[pid]} inside: the case is not the wrapped one`);
    t.true(sameStart(inside.read[pid]!, startTicksOf(pid)!), `pid ${pid}: ${inside.read[pid]} inside, ${startTicksOf(pid)} here`);
  }
});

test('a process younger than the namespace\'s zero reads exactly the host\'s start from inside', (t) => {
  const shift = Math.floor(readHostClocks().boottime / 2);
  const inside = readInside(shift, [process.pid]);
  t.true(inside.raw[process.pid]! < WRAPPED_TICKS);
  t.is(inside.read[process.pid], startTicksOf(process.pid)!);
  // Its own start: the child started after the namespace was made, so shifted but never wrapped.
  t.true(inside.self > startTicksOf(process.pid)!);
});

test('sameStart allows one tick and no more', (t) => {
  t.true(sameStart(500, 500));
  t.true(sameStart(500, 501));
  t.true(sameStart(501, 500));
  t.false(sameStart(500, 502));
});
