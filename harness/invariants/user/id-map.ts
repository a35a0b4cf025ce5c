// Id mappings as /proc/PID/uid_map and gid_map show them, and translation across them.
import type { IdMapping } from '../../../policy/profile/types.js';

/** Parses uid_map/gid_map text: one "inside outside count" line per range, columns padded with spaces. */
export function parseIdMap(text: string): IdMapping[] {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [containerId, hostId, size] = line.split(/\s+/).map(Number);
    return { containerId, hostId, size };
  });
}

/** The host id a container id maps to, or undefined when no range covers it. */
export function hostIdOf(mappings: readonly IdMapping[], id: number): number | undefined {
  const m = mappings.find((r) => id >= r.containerId && id < r.containerId + r.size);
  return m === undefined ? undefined : m.hostId + (id - m.containerId);
}

/** The container id a host id shows as, or undefined when it is not mapped. */
export function containerIdOf(mappings: readonly IdMapping[], hostId: number): number | undefined {
  const m = mappings.find((r) => hostId >= r.hostId && hostId < r.hostId + r.size);
  return m === undefined ? undefined : m.containerId + (hostId - m.hostId);
}
