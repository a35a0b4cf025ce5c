// Reading and writing seccomp profiles as files. The only I/O in policy/seccomp: reading the
// file it is given.
import { readFileSync } from 'node:fs';
import { JsonSyntaxError, parseExactJson, stringifyExactJson } from './exact-json.js';
import { PolicyError } from './policy-error.js';
import type { SeccompPolicy } from './types.js';
import { parsePolicy } from './validate.js';

/** Reads, parses (64-bit values kept exact) and validates a profile; errors name `path`. */
export function loadPolicyFile(path: string): SeccompPolicy {
  const text = readFileSync(path, 'utf8');
  let obj: unknown;
  try {
    obj = parseExactJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new PolicyError(path, '', `valid JSON (${e.message})`, text.slice(e.offset, e.offset + 20));
    throw e;
  }
  return parsePolicy(obj, path);
}

/** The profile as JSON text, argument values above 2^53 written exactly. */
export function formatPolicy(policy: SeccompPolicy): string {
  return `${stringifyExactJson(policy)}\n`;
}
