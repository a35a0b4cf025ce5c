import fc from 'fast-check';

/**
 * Limits for the pids controller (resources.pids.limit). The lowest leaves room for what runs
 * before any fork of the probe's: the runtime's own setup process until it execs, and then the
 * probe's node with its dozen threads; the highest keeps a case to a few dozen short processes.
 */
export const pidsLimit: fc.Arbitrary<number> = fc.integer({ min: 20, max: 40 });
