import fc from 'fast-check';
import type { IdMapping } from '../../policy/profile/types.js';

/** Where generated host ranges start: away from the host's real users. */
export const HOST_ID_BASE = 200000;

/**
 * One to three non-overlapping ranges on both sides. The first range maps container id 0, which
 * the built-in engine needs to set the container up as the namespace's root.
 */
export const idMappings: fc.Arbitrary<IdMapping[]> = fc
  .array(fc.record({ size: fc.integer({ min: 1, max: 2000 }), gap: fc.integer({ min: 0, max: 500 }), hostGap: fc.integer({ min: 0, max: 5000 }) }), { minLength: 1, maxLength: 3 })
  .chain((blocks) => fc.shuffledSubarray(blocks.map((_, i) => i), { minLength: blocks.length, maxLength: blocks.length }).map((hostOrder) => {
    let containerNext = 0;
    const ranges = blocks.map((b, i) => {
      const containerId = i === 0 ? 0 : containerNext + b.gap;
      containerNext = containerId + b.size;
      return { containerId, hostId: 0, size: b.size };
    });
    let hostNext = HOST_ID_BASE;
    for (const i of hostOrder) {
      ranges[i].hostId = hostNext + blocks[i].hostGap;
      hostNext = ranges[i].hostId + ranges[i].size;
    }
    return ranges;
  }));

/** An id inside the mapped container ranges. */
export function mappedId(mappings: IdMapping[]): fc.Arbitrary<number> {
  return fc.constantFrom(...mappings).chain((m) => fc.oneof(fc.constant(m.containerId), fc.integer({ min: m.containerId, max: m.containerId + m.size - 1 })));
}
