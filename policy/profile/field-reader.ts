// Typed reads of untrusted input. Each read either returns a value of the promised type or records
// a ProfileError at the field's path and returns undefined, so one pass finds every error.
import { describeValue, type ProfileErrorList } from './profile-error.js';

export type Fields = Record<string, unknown>;

/** The field's value, or the default when it is left out. An explicit null is a value (and an error later). */
export function valueOr(value: unknown, fallback: unknown): unknown {
  return value === undefined ? fallback : value;
}

/** `user` + `uidMappings` → `user.uidMappings`; `mounts` + 2 → `mounts[2]`. */
export function childPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const plain = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key);
  const part = plain ? key : `[${JSON.stringify(key)}]`;
  if (parent === '') return plain ? key : part;
  return plain ? `${parent}.${key}` : `${parent}${part}`;
}

export function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An object whose keys are all in `known`; each unknown key is an error with a suggestion. */
export function readObject(errs: ProfileErrorList, value: unknown, path: string, known: readonly string[]): Fields | undefined {
  if (!isPlainObject(value)) {
    errs.add(path, 'an object', value);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const guess = closestName(key, known);
    const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
    errs.addDescribed(childPath(path, key), `one of the fields ${known.join(', ')}`, `an unknown field${hint}`);
  }
  return value;
}

export function readList(errs: ProfileErrorList, value: unknown, path: string): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  errs.add(path, 'a list', value);
  return undefined;
}

/** A string without NUL bytes (nothing that reaches the kernel may hold one). */
export function readString(errs: ProfileErrorList, value: unknown, path: string, expected = 'a string'): string | undefined {
  if (typeof value === 'string' && !value.includes('\0')) return value;
  errs.add(path, typeof value === 'string' ? `${expected} without NUL bytes` : expected, value);
  return undefined;
}

export function readBoolean(errs: ProfileErrorList, value: unknown, path: string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  errs.add(path, 'true or false', value);
  return undefined;
}

export function readInteger(errs: ProfileErrorList, value: unknown, path: string, min: number, max: number): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  errs.add(path, `an integer from ${min} to ${max}`, value);
  return undefined;
}

/** A list whose items each read to a distinct value; a repeated one is an error. */
export function readUniqueList<T>(errs: ProfileErrorList, value: unknown, path: string,
  readItem: (item: unknown, itemPath: string) => T | undefined, what: string): T[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  const items: T[] = [];
  list.forEach((item, i) => {
    const read = readItem(item, childPath(path, i));
    if (read === undefined) return;
    if (items.includes(read)) errs.add(childPath(path, i), `each ${what} once`, item);
    else items.push(read);
  });
  return items.length === list.length ? items : undefined;
}

/**
 * A kernel constant's name, with or without its prefix and in any case ("nofile" is
 * RLIMIT_NOFILE); a near miss gets a suggestion.
 */
export function readKernelName(errs: ProfileErrorList, value: unknown, path: string, prefix: string,
  names: readonly string[], expected: string): string | undefined {
  const text = readString(errs, value, path, expected);
  if (text === undefined) return undefined;
  const full = withPrefix(text, prefix);
  if (names.includes(full)) return full;
  const guess = closestName(full, names);
  const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
  errs.addDescribed(path, expected, `${JSON.stringify(text)}${hint}`);
  return undefined;
}

/** "nofile" → "RLIMIT_NOFILE", "Cap_Chown" → "CAP_CHOWN". */
export function withPrefix(name: string, prefix: string): string {
  const upper = name.toUpperCase();
  return upper.startsWith(prefix) ? upper : `${prefix}${upper}`;
}

/** One of a fixed set of words; a near miss gets a suggestion. */
export function readChoice<T extends string>(errs: ProfileErrorList, value: unknown, path: string, choices: readonly T[]): T | undefined {
  if (typeof value === 'string' && (choices as readonly string[]).includes(value)) return value as T;
  const guess = typeof value === 'string' ? closestName(value, choices) : undefined;
  const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`;
  errs.addDescribed(path, `one of ${choices.join(', ')}`, `${describeValue(value)}${hint}`);
  return undefined;
}

/** The candidate a typo most likely meant: case-insensitive edit distance of at most a third of it. */
export function closestName(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(1, Math.floor(lower.length / 3));
  if (bestDistance <= allowed) return best;
  // A spelling from another vocabulary that keeps the letters: "network" for net, "mount" for mnt.
  return candidates.find((c) => c.length >= 3 && isSubsequence(c.toLowerCase(), lower) && c.length * 3 >= lower.length);
}

function isSubsequence(short: string, long: string): boolean {
  let i = 0;
  for (const ch of long) if (ch === short[i]) i++;
  return i === short.length;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Math.abs(a.length - b.length);
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

const NORMALISED_PATH = 'an absolute path without ".", ".." or empty parts and no trailing "/"';

/** An absolute, already-normalised path: what a person sees is exactly where the mount lands. */
export function readAbsolutePath(errs: ProfileErrorList, value: unknown, path: string): string | undefined {
  const text = readString(errs, value, path, NORMALISED_PATH);
  if (text === undefined) return undefined;
  if (isNormalisedAbsolutePath(text)) return text;
  errs.add(path, NORMALISED_PATH, text);
  return undefined;
}

export function isNormalisedAbsolutePath(text: string): boolean {
  if (text === '/') return true;
  if (!text.startsWith('/') || text.endsWith('/')) return false;
  return text.slice(1).split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Whether `inner` lies strictly below `outer` ("/dev/shm" below "/dev"); both normalised. */
export function isBelow(inner: string, outer: string): boolean {
  if (outer === '/') return inner !== '/';
  return inner.startsWith(`${outer}/`);
}
