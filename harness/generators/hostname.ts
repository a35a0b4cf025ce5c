import fc from 'fast-check';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$/);

/** Valid hostnames, edge cases included: one character, digits only, dotted, exactly 64 bytes. */
export const hostname: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')) },
  { weight: 1, arbitrary: fc.constantFrom('a', '0', 'x-1', 'localhost') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((n) => 'h'.repeat(n)) },
).filter((h) => h.length <= 64);

/** Domain names (NIS domain), up to 64 bytes. */
export const domainname: fc.Arbitrary<string> = fc.array(label, { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join('.'))
  .filter((d) => d.length <= 64);
