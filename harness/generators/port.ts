import fc from 'fast-check';

/** Unprivileged TCP/UDP ports, away from the host's ephemeral range edges. */
export const port: fc.Arbitrary<number> = fc.integer({ min: 1024, max: 32000 });
