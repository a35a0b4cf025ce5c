// Before against after: every value that changed, and every thing of a rig's kind that appeared
// and whose owner is gone. Things that went away are no harm (a sweep of an earlier run's
// leftovers). Several nsrig runs may share a host: a thing that names a live owner (nsrig-PID-…,
// a holder of PID) is that run's, not a leftover of this one, whose processes have all ended.
import type { HostSnapshot } from './host-snapshot.js';

/** The nsrig process a thing's name says it belongs to: nsrig-PID-hex, nsrig-KIND-PID(-…), a holder of PID. */
export function ownerNamed(thing: string): number | undefined {
  const pid = /nsrig-(?:[a-z]+-)*(\d+)(?!\w)/.exec(thing)?.[1] ?? /a namespace holder of (\d+)/.exec(thing)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/**
 * Whether a live process owns thing: by its name, or, for a parent without an owner of its own
 * (the nsrig/ cgroup every container of every run sits in), by a live owner of something below it.
 */
function ownedByLive(thing: string, snapshot: HostSnapshot, lives: (pid: number) => boolean): boolean {
  const owner = ownerNamed(thing);
  if (owner !== undefined) return lives(owner);
  const below = Object.values(snapshot.present).flat().filter((t) => t.startsWith(`${thing}/`));
  return below.some((t) => {
    const o = ownerNamed(t);
    return o !== undefined && lives(o);
  });
}

export interface SnapshotDiff {
  /** In words, one line each: "/dev/null: 0:0 mode 666 char 1:3 → 300000:300000 mode 666 char 1:3". */
  changes: string[];
  /** Appeared, but a live process's (another run's): not counted. */
  othersLive: string[];
}

export function diffSnapshots(before: HostSnapshot, after: HostSnapshot, lives: (pid: number) => boolean): SnapshotDiff {
  const changes: string[] = [];
  const othersLive: string[] = [];
  for (const key of new Set([...Object.keys(before.values), ...Object.keys(after.values)])) {
    const was = before.values[key] ?? 'not read';
    const is = after.values[key] ?? 'not read';
    if (was !== is) changes.push(`${key}: ${was} → ${is}`);
  }
  for (const [kind, things] of Object.entries(after.present)) {
    const had = new Set(before.present[kind] ?? []);
    for (const thing of things.filter((t) => !had.has(t))) {
      if (ownedByLive(thing, after, lives)) othersLive.push(`${kind}: ${thing}`);
      else changes.push(`${kind} appeared: ${thing}`);
    }
  }
  return { changes, othersLive };
}
