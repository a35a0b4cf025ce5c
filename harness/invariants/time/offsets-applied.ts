import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import { readHostClocks, type HostClocks as Clocks } from '../../../core/time-offsets.js';
import { manSection } from '../references.js';

/** The host's clocks just before each case's container started. */
const startedAt = new WeakMap<Profile, Clocks>();

/**
 * The host's clocks, not nsrig's own: offsets are relative to the initial time namespace, so where
 * nsrig itself runs in a time namespace (a freshly booted host simulated with unshare --time), a
 * container's clocks read the host's plus its offsets, whatever nsrig's own clocks read.
 */
const hostClocks = (): Clocks => readHostClocks();

/** "monotonic 100 0\nboottime 5 0" → { monotonic: "100s 0ns", boottime: "5s 0ns" }. */
function parseOffsets(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => {
    const [clock, secs, nanos] = l.trim().split(/\s+/);
    return [clock, `${secs}s ${nanos}ns`];
  }));
}

/**
 * How far below the host's "before" a reading may fall: float noise for CLOCK_MONOTONIC; for the
 * boot-time clock, which the probe reads from /proc/uptime, that file's centiseconds, truncated.
 */
const RESOLUTION: Clocks = { monotonic: 1e-6, boottime: 0.01 };
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
        if (host < before[clock] - RESOLUTION[clock] || host > after[clock] + EPSILON) {
          wrong.push(`${clock} inside ${o.time[clock]} - ${offsets[clock]} = ${host.toFixed(3)}, outside the host's [${before[clock]}, ${after[clock]}] around the run`);
        }
      }
    }
    return wrong.length === 0 ? HOLDS : violated(`offsets ${JSON.stringify(want)} applied to both clocks`, wrong.join('; '));
  },
};
