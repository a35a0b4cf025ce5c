// A time namespace's offsets against the host's clocks. The kernel refuses, with ERANGE, an offset
// that would put the namespace's CLOCK_MONOTONIC or CLOCK_BOOTTIME below zero or above
// KTIME_SEC_MAX / 2 (proc_timens_set_offset, kernel/time/namespace.c; time_namespaces(7)), judged
// against the host's clocks when /proc/PID/timens_offsets is written. A host booted minutes ago has
// little room below zero, so the engine checks before it creates anything and the harness
// generates within the room the clocks leave.
import fs from 'node:fs';
import { readClock } from './native/system.js';
import { CLOCK } from '../policy/kernel/clocks.js';
import { LaunchError } from './launch-error.js';
import { MAX_TIME_OFFSET_SECONDS } from '../policy/profile/profile-document.js';
import type { Profile } from '../policy/profile/types.js';

/** Seconds each clock has run on the host (CLOCK_BOOTTIME counts suspend too). */
export interface HostClocks {
  monotonic: number;
  boottime: number;
}

export type OffsetClock = keyof HostClocks;

/**
 * The host's clocks, also when nsrig itself runs in a time namespace: offsets are absolute, and
 * the kernel checks them against the host's clocks, not the writer's (seen here: inside a
 * namespace at -300 s on a host up 480 s, a nested namespace at -400 s is accepted). So this
 * process's own offsets are added back.
 */
export function readHostClocks(): HostClocks {
  const own = ownOffsets();
  return {
    monotonic: readClock(CLOCK.MONOTONIC) - own.monotonic,
    boottime: readClock(CLOCK.BOOTTIME) - own.boottime,
  };
}

/** This process's offsets in seconds (see ownOffsetNanos). */
function ownOffsets(): HostClocks {
  const nanos = ownOffsetNanos();
  return { monotonic: Number(nanos.monotonic) / 1e9, boottime: Number(nanos.boottime) / 1e9 };
}

/**
 * /proc/self/timens_offsets, "monotonic SECS NANOS" and "boottime SECS NANOS", exact in
 * nanoseconds; all 0 in the host's namespace. (The file shows the namespace this process's
 * children get, which is its own unless it unshared one without forking; nsrig never does.)
 */
export function ownOffsetNanos(): { monotonic: bigint; boottime: bigint } {
  // A process never changes time namespace (nsrig never unshares one), and every start-time
  // reading needs the offsets: read once.
  ownOffsetsRead ??= readOwnOffsetNanos();
  return ownOffsetsRead;
}

let ownOffsetsRead: { monotonic: bigint; boottime: bigint } | undefined;

function readOwnOffsetNanos(): { monotonic: bigint; boottime: bigint } {
  const offsets = { monotonic: 0n, boottime: 0n };
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/timens_offsets', 'utf8');
  } catch {
    return offsets; // a kernel without time namespaces (before 5.6): no offsets to undo
  }
  for (const line of text.split('\n')) {
    const [clock, secs, nanos] = line.trim().split(/\s+/);
    if (clock === 'monotonic' || clock === 'boottime') offsets[clock] = BigInt(secs) * 1_000_000_000n + BigInt(nanos);
  }
  return offsets;
}

/**
 * The offsets the kernel accepts for a clock that reads `seconds` on the host. The upper bound
 * keeps a minute for the clock to move on between this check and the write, during setup.
 */
export function offsetRange(seconds: number): { lowest: number; highest: number } {
  return { lowest: -Math.floor(seconds), highest: MAX_TIME_OFFSET_SECONDS - Math.ceil(seconds) - 60 };
}

/** A profile's time offset that this host's clocks cannot take, caught before anything is created. */
export class TimeOffsetError extends LaunchError {
  readonly file: string;
  /** `timeOffsets.monotonic` or `timeOffsets.boottime`. */
  readonly fieldPath: string;
  readonly value: number;
  /** What the host's clock read, in seconds since boot. */
  readonly uptime: number;
  constructor(file: string, clock: OffsetClock, value: number, uptime: number) {
    const { lowest, highest } = offsetRange(uptime);
    const name = clock === 'monotonic' ? 'CLOCK_MONOTONIC' : 'CLOCK_BOOTTIME';
    const where = value < lowest ? 'below zero' : 'past KTIME_SEC_MAX / 2';
    super(`${file}: timeOffsets.${clock}: ${value} s would put the container's ${name} ${where}: this host's ${name} `
      + `reads ${uptime.toFixed(1)} s (up since boot), so the kernel accepts an offset from ${lowest} to ${highest} now `
      + `(it refuses others with ERANGE, time_namespaces(7))`, 'check-time-offsets');
    this.name = 'TimeOffsetError';
    this.file = file;
    this.fieldPath = `timeOffsets.${clock}`;
    this.value = value;
    this.uptime = uptime;
  }
}

/** Throws TimeOffsetError when a profile's offset does not fit the host's clocks as they read now. */
export function assertTimeOffsetsFit(profile: Profile, clocks: HostClocks = readHostClocks()): void {
  const offsets = profile.timeOffsets;
  if (!offsets || !profile.namespaces.includes('time')) return;
  for (const clock of ['monotonic', 'boottime'] as const) {
    const { lowest, highest } = offsetRange(clocks[clock]);
    if (offsets[clock] < lowest || offsets[clock] > highest) throw new TimeOffsetError(profile.source, clock, offsets[clock], clocks[clock]);
  }
}
