import fs from 'node:fs';
import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import { manSection } from '../references.js';

interface Clocks {
  monotonic: number;
  boottime: number;
}

/** The host's clocks just before each case's container started. */
const startedAt = new WeakMap<Profile, Clocks>();

/** CLOCK_MONOTONIC from hrtime and CLOCK_BOOTTIME from /proc/uptime, in seconds: the probe reads the same two. */
function hostClocks(): Clocks {
  return { monotonic: Number(process.hrtime.bigint()) / 1e9, boottime: Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]) };
}

/** "monotonic 100 0\nboottime 5 0" → { monotonic: "100s 0ns", boottime: "5s 0ns" }. */
function parseOffsets(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => {
    const [clock, secs, nanos] = l.trim().split(/\s+/);
    return [clock, `${secs}s ${nanos}ns`];
  }));
}

/** Float noise of subtracting offsets from clock readings, far below /proc/uptime's 10 ms resolution. */
const EPSILON = 1e-6;

export const offsetsApplied: SingleInvariant = {
  id: 'time.offsets-applied',
  level: 'MUST',
  title: "With a time namespace, timens_offsets shows the profile's offsets, and the monotonic and boot-time clocks inside read the host's plus them.",
  reference: manSection('time_namespaces', 7, '/proc/PID/timens_offsets', 'Associated with each time namespace are offsets, expressed with respect to the initial time namespace, that define the values of the monotonic and boot-time clocks in that namespace.'),
  anchors: {
    contest: ['simple timens', 'simple timens + userns'],
    crun: ['test_time.py::test_time_namespace'],
    ltp: ['timens01', 'clock_gettime03', 'clock_nanosleep03', 'timerfd04', 'sysinfo03'],
  },
  generate: { timeOffsets: true },
  scenario: 'single',
  request: (profile) => {
    startedAt.set(profile, hostClocks());
    return {};
  },
  // Causality bounds each reading: taken after the host's "before" and before its "after", so
  // inside - offset must fall between them. No duration is assumed.
  check: (o, profile) => {
    const offsets = profile.timeOffsets ?? { monotonic: 0, boottime: 0 };
    const wrong: string[] = [];
    const shown = parseOffsets(o.time.offsets);
    const want = { monotonic: `${offsets.monotonic}s 0ns`, boottime: `${offsets.boottime}s 0ns` };
    if (shown.monotonic !== want.monotonic || shown.boottime !== want.boottime) wrong.push(`timens_offsets ${JSON.stringify(shown)}`);
    const before = startedAt.get(profile);
    const after = hostClocks();
    if (before) {
      for (const clock of ['monotonic', 'boottime'] as const) {
        const host = o.time[clock] - offsets[clock];
        if (host < before[clock] - EPSILON || host > after[clock] + EPSILON) {
          wrong.push(`${clock} inside ${o.time[clock]} - ${offsets[clock]} = ${host.toFixed(3)}, outside the host's [${before[clock]}, ${after[clock]}] around the run`);
        }
      }
    }
    return wrong.length === 0 ? HOLDS : violated(`offsets ${JSON.stringify(want)} applied to both clocks`, wrong.join('; '));
  },
};
