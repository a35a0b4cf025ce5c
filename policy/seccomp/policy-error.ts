import { FieldError } from '../field-error.js';

/**
 * A seccomp policy that cannot be used, with what a person needs to fix it: the file, the exact
 * field path inside it, what was expected there and what was found.
 *   PolicyError: policy.json: syscalls[3].args[0].op: expected one of SCMP_CMP_NE, ... got "SCMP_CMP_FOO"
 */
export class PolicyError extends FieldError {
  /** got is the offending value as it appeared; the error holds it as JSON, or "nothing" when the field was missing. */
  constructor(file: string, fieldPath: string, expected: string, got: unknown) {
    const shown = describeValue(got);
    super(`${file}: ${fieldPath === '' ? '(document)' : fieldPath}: expected ${expected}, got ${shown}`, file, fieldPath, expected, shown);
    this.name = 'PolicyError';
  }
}

/** Marks a value as absent so the message says "got nothing" rather than "got undefined". */
export const MISSING: unique symbol = Symbol('missing');

function describeValue(value: unknown): string {
  if (value === MISSING || value === undefined) return 'nothing';
  if (typeof value === 'bigint') return value.toString();
  let text: string;
  try {
    text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
