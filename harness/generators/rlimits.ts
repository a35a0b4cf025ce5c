import fs from 'node:fs';
import fc from 'fast-check';
import { RLIMIT_NUMBERS } from '../../policy/kernel/rlimits.js';

/**
 * The limits generated, with the range each is drawn from. None can stop the probe: CPU seconds far
 * above what it spends, no file size or stack limit it could meet. RLIMIT_NOFILE is left out: node
 * raises its soft limit to the hard one as it starts, so the probe cannot show the declared one.
 */
const RANGES: Readonly<Record<string, { min: number; max: number }>> = {
  RLIMIT_CPU: { min: 600, max: 86400 },
  RLIMIT_CORE: { min: 0, max: 1 << 24 },
  RLIMIT_SIGPENDING: { min: 64, max: 1 << 16 },
  RLIMIT_MSGQUEUE: { min: 0, max: 819200 },
  RLIMIT_NICE: { min: 0, max: 40 },
  RLIMIT_RTPRIO: { min: 0, max: 99 },
};

/** The hard limits this process runs with, by RLIMIT name (Infinity for unlimited). */
export function ownHardLimits(): Record<string, number> {
  const rows = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').slice(1).filter(Boolean);
  const byNumber = rows.map((line) => line.slice(26).trim().split(/\s+/)[1]);
  return Object.fromEntries(Object.entries(RLIMIT_NUMBERS).map(([name, n]) => {
    const hard = byNumber[n];
    return [name, hard === 'unlimited' ? Infinity : Number(hard)];
  }));
}

/**
 * One to three rlimits ({type, soft, hard}, "unlimited" as the profile writes it), never above the
 * hard limits the target's runtime inherits from nsrig: a runtime inside a user namespace may lower
 * a limit but not raise it.
 */
export function rlimits(hardLimits: Record<string, number> = ownHardLimits()): fc.Arbitrary<Record<string, unknown>[]> {
  const types = Object.keys(RANGES).filter((t) => RANGES[t]!.min <= (hardLimits[t] ?? 0));
  const one = (type: string) => {
    const { min, max } = RANGES[type]!;
    const top = Math.min(max, hardLimits[type] ?? 0);
    const finite = fc.integer({ min, max: top }).chain((hard) => fc.integer({ min, max: hard }).map((soft) => ({ type, soft, hard })));
    return hardLimits[type] === Infinity
      ? fc.oneof({ weight: 4, arbitrary: finite }, { weight: 1, arbitrary: fc.integer({ min, max: top }).map((soft) => ({ type, soft, hard: 'unlimited' })) })
      : finite;
  };
  return fc.subarray(types, { minLength: 1, maxLength: 3 }).chain((chosen) => fc.tuple(...chosen.map(one)));
}
