import { FieldError } from '../field-error.js';

/**
 * One thing wrong with a profile: the file, the field path inside it (`user.uidMappings[1].size`),
 * what was expected there and what was found, so the message alone tells a person what to fix:
 * `profile.yaml: user.uidMappings[1].size: expected an integer from 1 to 4294967295, got 0`.
 * A rule that ties two fields together names itself first, the way crun does:
 * `profile.yaml: hostname: hostname requires the uts namespace: expected ...`.
 */
export class ProfileError extends FieldError {
  readonly rule: string | undefined;

  constructor(file: string, fieldPath: string, expected: string, got: string, rule?: string) {
    const where = fieldPath === '' ? file : `${file}: ${fieldPath}`;
    super(`${where}: ${rule === undefined ? '' : `${rule}: `}expected ${expected}, got ${got}`, file, fieldPath, expected, got);
    this.name = 'ProfileError';
    this.rule = rule;
  }
}

/** Every error found in one profile, so `nsrig validate` can print them all at once. */
export class ProfileErrors extends Error {
  readonly errors: readonly ProfileError[];

  constructor(errors: readonly ProfileError[]) {
    const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
    const file = errors[0]?.file ?? 'profile';
    super(`${file}: ${count}\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
    this.name = 'ProfileErrors';
    this.errors = errors;
  }
}

/**
 * Collects errors while a profile is read, so reading goes on after the first one. `translate`
 * maps the field paths of an intermediate document back to the paths of the file the person
 * wrote (an OCI config.json is read through our own document shape).
 */
export class ProfileErrorList {
  readonly file: string;
  readonly errors: ProfileError[] = [];
  translate: (fieldPath: string) => string = (fieldPath) => fieldPath;

  constructor(file: string) {
    this.file = file;
  }

  /** `got` is the offending value, described for the message by describeValue. */
  add(fieldPath: string, expected: string, got: unknown, rule?: string): void {
    this.addDescribed(fieldPath, expected, describeValue(got), rule);
  }

  /** Like add, when the caller has already put what it found into words. */
  addDescribed(fieldPath: string, expected: string, got: string, rule?: string): void {
    this.errors.push(new ProfileError(this.file, this.translate(fieldPath), expected, got, rule));
  }

  /**
   * Errors thrown by a plug-in validator. Ours are kept as they are; any other FieldError
   * (policy/seccomp's PolicyError) keeps its file, field path, expected and got; anything else
   * becomes an error at `fieldPath` of this file.
   */
  addThrown(thrown: unknown, fieldPath: string, expected: string): void {
    const located = locatedErrors(thrown);
    if (located !== undefined) this.errors.push(...located);
    else this.addDescribed(fieldPath, expected, thrown instanceof Error ? thrown.message : String(thrown));
  }

  get count(): number {
    return this.errors.length;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw new ProfileErrors(this.errors);
  }
}

/** What a thrown error says in ProfileErrors' terms, when it carries a file and field path. */
export function locatedErrors(thrown: unknown): ProfileError[] | undefined {
  if (thrown instanceof ProfileErrors) return [...thrown.errors];
  if (thrown instanceof ProfileError) return [thrown];
  if (thrown instanceof FieldError) return [new ProfileError(thrown.file, thrown.fieldPath, thrown.expected, thrown.got)];
  return undefined;
}

/** A value as a message shows it: strings quoted, containers by kind, a missing field as "nothing". */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  // Past 2^53 String() rounds (2**60 would show as ...847000); BigInt shows the number held.
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) return BigInt(value).toString();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : `a list of ${value.length}`;
  if (value instanceof Uint8Array) return 'binary data';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
