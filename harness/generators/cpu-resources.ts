import fc from 'fast-check';

/**
 * resources.cpu values every host takes: a relative weight from a quarter to eight times the
 * default 1024 (lower would starve the probe on a busy host, where its siblings hold 1024), a CFS quota
 * of half a CPU to two CPUs per period (less would slow the probe to a crawl), and CPU 0 and
 * memory node 0, which every host has.
 */
export const cpuResources: fc.Arbitrary<{ shares?: number; quota?: number; period?: number; cpus?: string; mems?: string }> = fc.record({
  shares: fc.integer({ min: 256, max: 8192 }),
  bandwidth: fc.option(fc.record({ period: fc.integer({ min: 10000, max: 200000 }), percent: fc.integer({ min: 50, max: 200 }) }), { nil: undefined }),
  cpus: fc.option(fc.constant('0'), { nil: undefined }),
  mems: fc.option(fc.constant('0'), { nil: undefined }),
}).map(({ shares, bandwidth, cpus, mems }) => ({
  shares,
  ...(bandwidth ? { period: bandwidth.period, quota: Math.floor((bandwidth.period * bandwidth.percent) / 100) } : {}),
  ...(cpus !== undefined ? { cpus } : {}),
  ...(mems !== undefined ? { mems } : {}),
}));

/** resources.blockIO.weight over the runtime-spec's range (10-1000). */
export const blockIOWeight: fc.Arbitrary<number> = fc.integer({ min: 10, max: 1000 });
