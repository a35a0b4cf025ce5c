import fc from 'fast-check';
import { DEFAULT_PATH } from '../../policy/profile/types.js';

const key = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,11}$/).filter((k) => k !== 'PATH');
const value = fc.string({ maxLength: 24, unit: 'grapheme-ascii' }).filter((v) => !v.includes('\0'));

/** Exact environments: PATH plus up to five variables of printable ASCII (empty values included). */
export const environment: fc.Arbitrary<Record<string, string>> = fc
  .dictionary(key, value, { maxKeys: 5 })
  .map((vars) => ({ PATH: DEFAULT_PATH, ...vars }));
