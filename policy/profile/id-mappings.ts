// uid_map and gid_map ranges: what the kernel accepts (user_namespaces(7)) checked before any
// process exists, so a bad range is a profile error rather than an EINVAL from a write.
import type { IdMapping } from './types.js';
import { childPath, readInteger, readList, readObject } from './field-reader.js';
import type { ProfileErrorList } from './profile-error.js';

/** (uid_t)-1 is never a valid id, so the last usable one is 2^32-2. */
export const MAX_ID = 4294967294;
/** A range may reach id 2^32-2, so containerId+size and hostId+size are at most 2^32-1. */
export const MAX_RANGE_END = 4294967295;
/** UID_GID_MAP_MAX_EXTENTS: the kernel refuses a map with more lines. */
export const MAX_MAPPING_LINES = 340;

/** Container root is host 100000, 65536 ids: a non-identity mapping, like subuid's usual range. */
export const DEFAULT_ID_MAPPING: Readonly<IdMapping> = { containerId: 0, hostId: 100000, size: 65536 };

const MAPPING_FIELDS = ['containerId', 'hostId', 'size'] as const;

/** A list of 1 to 340 ranges, none overflowing, none overlapping on either side. */
export function readIdMappings(errs: ProfileErrorList, value: unknown, path: string): IdMapping[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  if (list.length < 1 || list.length > MAX_MAPPING_LINES) {
    errs.add(path, `1 to ${MAX_MAPPING_LINES} mappings`, list);
    return undefined;
  }
  const mappings: IdMapping[] = [];
  let complete = true;
  list.forEach((item, i) => {
    const mapping = readIdMapping(errs, item, childPath(path, i));
    if (mapping === undefined) complete = false;
    else mappings.push(mapping);
  });
  if (!complete) return undefined;
  const before = errs.count;
  reportOverlaps(errs, mappings, path, 'containerId', 'container');
  reportOverlaps(errs, mappings, path, 'hostId', 'host');
  return errs.count === before ? mappings : undefined;
}

function readIdMapping(errs: ProfileErrorList, value: unknown, path: string): IdMapping | undefined {
  const fields = readObject(errs, value, path, MAPPING_FIELDS);
  if (fields === undefined) return undefined;
  const containerId = readInteger(errs, fields.containerId, childPath(path, 'containerId'), 0, MAX_ID);
  const hostId = readInteger(errs, fields.hostId, childPath(path, 'hostId'), 0, MAX_ID);
  const size = readInteger(errs, fields.size, childPath(path, 'size'), 1, MAX_RANGE_END);
  if (containerId === undefined || hostId === undefined || size === undefined) return undefined;
  const highestStart = Math.max(containerId, hostId);
  if (highestStart + size > MAX_RANGE_END) {
    const side = containerId >= hostId ? 'containerId' : 'hostId';
    errs.add(childPath(path, 'size'), `an integer from 1 to ${MAX_RANGE_END - highestStart} (${side} + size must not pass ${MAX_RANGE_END})`, size);
    return undefined;
  }
  return { containerId, hostId, size };
}

function reportOverlaps(errs: ProfileErrorList, mappings: IdMapping[], path: string, side: 'containerId' | 'hostId', word: string): void {
  for (let i = 1; i < mappings.length; i++) {
    const current = mappings[i]!;
    for (let j = 0; j < i; j++) {
      const earlier = mappings[j]!;
      if (current[side] < earlier[side] + earlier.size && earlier[side] < current[side] + current.size) {
        errs.addDescribed(childPath(childPath(path, i), side),
          `${word} ids that do not overlap ${childPath(path, j)} (${rangeText(earlier, side)})`, rangeText(current, side));
        break;
      }
    }
  }
}

function rangeText(mapping: IdMapping, side: 'containerId' | 'hostId'): string {
  return `${mapping[side]} to ${mapping[side] + mapping.size - 1}`;
}

/** Whether `id` inside the namespace has a host id under these mappings. */
export function isMapped(mappings: readonly IdMapping[], id: number): boolean {
  return mappings.some((m) => id >= m.containerId && id < m.containerId + m.size);
}
