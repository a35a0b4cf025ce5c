import fc from 'fast-check';

const MiB = 1024 * 1024;

/**
 * A memory limit (resources.memory.limit) in whole MiB, with swap equal to it: memory+swap no
 * higher than memory alone, so a host with swap on OOM-kills at the limit as one without does.
 * The lowest leaves room for the runtime's setup process and the probe's node (about 10 MiB
 * charged here); the highest keeps what a case allocates small.
 */
export const memoryLimit: fc.Arbitrary<{ limit: number; swap: number }> = fc.integer({ min: 32, max: 64 })
  .map((mib) => ({ limit: mib * MiB, swap: mib * MiB }));
