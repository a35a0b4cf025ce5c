// Entry points: a profile from a file, from text, or from an object already in memory. A file
// named config.json, or any object with `ociVersion`, is read as an OCI runtime-spec config.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { Profile } from './types.js';
import { isPlainObject } from './field-reader.js';
import { profileFromOciConfig } from './oci-config.js';
import { ProfileError, ProfileErrorList, ProfileErrors } from './profile-error.js';
import { readProfileDocument, resolveLoadOptions, type ProfileLoadOptions } from './profile-document.js';

export type { ProfileLoadOptions } from './profile-document.js';
export type { SeccompPolicyFileLoader, SeccompPolicyValidator } from './seccomp-reference.js';

/** Reads and validates a profile file; throws ProfileErrors listing everything wrong with it. */
export function loadProfileFile(path: string, opts: ProfileLoadOptions = {}): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ProfileErrors([new ProfileError(path, '', 'a readable profile file (YAML, JSON or an OCI config.json)', code)]);
  }
  return parseProfile(text, path, opts);
}

/** Every error in a profile file, or none; never throws for bad input. */
export function validateProfileFile(path: string, opts: ProfileLoadOptions = {}): ProfileError[] {
  try {
    loadProfileFile(path, opts);
    return [];
  } catch (error) {
    if (error instanceof ProfileErrors) return [...error.errors];
    throw error;
  }
}

/**
 * A profile from YAML or JSON text, or from an already-parsed object. `sourceName` is the file
 * name messages show and what relative paths are resolved against (unless opts.baseDir says).
 */
export function parseProfile(input: string | object, sourceName: string, opts: ProfileLoadOptions = {}): Profile {
  const errs = new ProfileErrorList(sourceName);
  const parsed = typeof input === 'string' ? parseText(errs, input) : { value: input, yaml: undefined };
  errs.throwIfAny();
  const { value, yaml } = parsed!;
  if (isOciConfig(value, sourceName)) return profileFromOciConfig(value, sourceName, opts);
  const looksLikeJson = sourceName.endsWith('.json') || (typeof input === 'string' && input.trimStart().startsWith('{'));
  if (yaml !== undefined && !looksLikeJson) refuseDecimalModes(errs, yaml, value);
  const profile = readProfileDocument(errs, value, resolveLoadOptions(sourceName, opts));
  errs.throwIfAny();
  return profile!;
}

export function isOciConfig(value: unknown, sourceName: string): boolean {
  return basename(sourceName) === 'config.json' || (isPlainObject(value) && Object.hasOwn(value, 'ociVersion'));
}

/** YAML 1.2 reads JSON too; it also refuses duplicate keys, which JSON.parse would silently merge. */
function parseText(errs: ProfileErrorList, text: string): { value: unknown; yaml: Document } | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const { line, col } = lineCounter.linePos(syntax.pos[0]);
    errs.addDescribed('', 'valid YAML or JSON', `${syntax.message.split('\n')[0]!} at line ${line}, column ${col}`);
    return undefined;
  }
  try {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (/\d{16,}/.test(text)) keepInlinePolicyExact(text, value);
    return { value, yaml: doc };
  } catch (error) {
    errs.addDescribed('', 'valid YAML or JSON', (error as Error).message);
    return undefined;
  }
}

/**
 * Seccomp argument values and OCI rlimits are 64-bit and may pass 2^53, where numbers turn
 * inexact; an inline policy and a config's rlimits are read again with integers as bigints
 * (policy/seccomp and the OCI importer accept those) where they need it.
 */
function keepInlinePolicyExact(text: string, value: unknown): void {
  if (!isPlainObject(value)) return;
  const exact: unknown = parseDocument(text, { intAsBigInt: true, uniqueKeys: true }).toJS({ maxAliasCount: 100 });
  if (!isPlainObject(exact)) return;
  if (isPlainObject(value.seccomp)) value.seccomp = bigintsOnlyWhereNeeded(exact.seccomp);
  if (isPlainObject(value.linux) && isPlainObject(value.linux.seccomp) && isPlainObject(exact.linux)) {
    value.linux.seccomp = bigintsOnlyWhereNeeded(exact.linux.seccomp);
  }
  // An OCI rlimit is a uint64: 2^64-1 (no limit) and 2^64 (out of range) must stay apart.
  if (isPlainObject(value.process) && Array.isArray(value.process.rlimits) && isPlainObject(exact.process)) {
    value.process.rlimits = bigintsOnlyWhereNeeded(exact.process.rlimits);
  }
}

function bigintsOnlyWhereNeeded(value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  if (Array.isArray(value)) return value.map(bigintsOnlyWhereNeeded);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bigintsOnlyWhereNeeded(v)]));
  return value;
}

/**
 * `mode: 1777` in YAML is the decimal number 1777, not the octal mode people mean (and `umask: 0022`
 * is 22). A YAML mode or umask must be quoted ("1777") or written 0o1777; JSON has no octal, so its numbers are taken as they are.
 */
function refuseDecimalModes(errs: ProfileErrorList, doc: Document, value: unknown): void {
  if (!isPlainObject(value)) return;
  const umask = doc.getIn(['process', 'umask'], true);
  if (isScalar(umask) && typeof umask.value === 'number' && umask.format !== 'OCT' && isPlainObject(value.process)) {
    errs.addDescribed('process.umask', 'an octal umask written "0022" (quoted) or 0o22', `${String(umask.value)}, which YAML reads as a decimal number`);
    delete value.process.umask;
  }
  if (!Array.isArray(value.mounts)) return;
  value.mounts.forEach((mount: unknown, i: number) => {
    const node = doc.getIn(['mounts', i, 'mode'], true);
    if (!isScalar(node) || typeof node.value !== 'number' || node.format === 'OCT' || !isPlainObject(mount)) return;
    errs.addDescribed(`mounts[${i}].mode`, 'an octal mode written "1777" (quoted) or 0o1777',
      `${String(node.value)}, which YAML reads as a decimal number`);
    delete mount.mode;
  });
}
