// The seccomp field: a path to an OCI seccomp JSON file (relative to the profile) or the policy
// inline. This module only finds and parses the policy; what the policy says is checked by the
// validator policy/seccomp plugs in through the loader's validatePolicy option.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SeccompReference } from './types.js';
import { isPlainObject } from './field-reader.js';
import { locatedErrors, ProfileError, type ProfileErrorList } from './profile-error.js';

/**
 * Checks a policy's contents. Throws ProfileError or ProfileErrors naming `file` and paths below
 * `fieldPath` ("" when the policy is a file of its own, "seccomp" or "linux.seccomp" when inline).
 */
export type SeccompPolicyValidator = (policy: unknown, file: string, fieldPath: string) => void;

/**
 * Reads, parses and checks a referenced policy file in one go (policy/seccomp's loadPolicyFile,
 * which keeps 64-bit argument values exact). Throws what it finds wrong.
 */
export type SeccompPolicyFileLoader = (path: string) => unknown;

export interface SeccompReadOptions {
  baseDir: string;
  validatePolicy?: SeccompPolicyValidator;
  loadPolicyFile?: SeccompPolicyFileLoader;
}

const EXPECTED = 'a path to an OCI seccomp JSON file, or the policy as an object';

export function readSeccomp(errs: ProfileErrorList, value: unknown, path: string, opts: SeccompReadOptions): SeccompReference | undefined {
  const { validatePolicy } = opts;
  if (isPlainObject(value)) {
    return checkPolicy(errs, value, errs.file, errs.translate(path), path, validatePolicy) ? { policy: value } : undefined;
  }
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    errs.add(path, EXPECTED, value);
    return undefined;
  }
  const file = resolve(opts.baseDir, value);
  if (opts.loadPolicyFile !== undefined) return loadWith(errs, opts.loadPolicyFile, value, file, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    reportUnreadable(errs, error, value, file, path);
    return undefined;
  }
  let policy: unknown;
  try {
    policy = JSON.parse(text);
  } catch (error) {
    errs.addDescribed(path, 'a file of valid JSON', `${JSON.stringify(value)} (${(error as Error).message})`);
    return undefined;
  }
  if (!isPlainObject(policy)) {
    errs.addDescribed(path, 'a file holding a JSON object', `${JSON.stringify(value)} holding ${Array.isArray(policy) ? 'a list' : typeof policy}`);
    return undefined;
  }
  return checkPolicy(errs, policy, file, '', path, validatePolicy) ? { path: file, policy } : undefined;
}

function reportUnreadable(errs: ProfileErrorList, error: unknown, value: string, file: string, path: string): void {
  const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
  errs.addDescribed(path, 'a readable OCI seccomp JSON file', `${JSON.stringify(value)} (${file}: ${code})`);
}

function loadWith(errs: ProfileErrorList, load: SeccompPolicyFileLoader, value: string, file: string, path: string): SeccompReference | undefined {
  try {
    return { path: file, policy: load(file) };
  } catch (thrown) {
    if (typeof (thrown as NodeJS.ErrnoException).code === 'string') reportUnreadable(errs, thrown, value, file, path);
    else errs.addThrown(thrown, path, 'a valid seccomp policy file');
    return undefined;
  }
}

/**
 * A validator that knows nothing of profiles (policy/seccomp's parsePolicy) names paths from the
 * policy's own root; inside a profile they belong below the policy's field.
 */
function placedUnder(error: ProfileError, file: string, policyPath: string): ProfileError {
  const isBelow = error.fieldPath === policyPath || error.fieldPath.startsWith(`${policyPath}.`) || error.fieldPath.startsWith(`${policyPath}[`);
  if (policyPath === '' || error.file !== file || isBelow) return error;
  const fieldPath = error.fieldPath === '' ? policyPath : error.fieldPath.startsWith('[') ? `${policyPath}${error.fieldPath}` : `${policyPath}.${error.fieldPath}`;
  return new ProfileError(error.file, fieldPath, error.expected, error.got, error.rule);
}

/** Runs the plugged-in validator; anything it throws that is not a ProfileError lands on the profile's field. */
function checkPolicy(errs: ProfileErrorList, policy: unknown, file: string, policyPath: string, profilePath: string,
  validatePolicy: SeccompPolicyValidator | undefined): boolean {
  if (validatePolicy === undefined) return true;
  const before = errs.count;
  try {
    validatePolicy(policy, file, policyPath);
  } catch (thrown) {
    const located = locatedErrors(thrown);
    if (located === undefined) errs.addThrown(thrown, profilePath, 'a valid seccomp policy');
    else errs.errors.push(...located.map((e) => placedUnder(e, file, policyPath)));
  }
  return errs.count === before;
}
