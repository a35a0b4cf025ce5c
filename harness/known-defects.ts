// Defects nsrig has found in OCI runtimes, as data (harness/known-defects.json): which versions of
// which runtime fail which invariant, and the upstream report that explains it. A failure that
// matches a record is still a failure; the record tells the reader it is the runtime's, known, and
// fixed in a later release. Add a record to the JSON file, or point NSRIG_KNOWN_DEFECTS at a file of
// the same shape to add records without touching the checkout.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { versionBefore } from './targets/oci/runtime-spec-version.js';

export interface KnownDefect {
  /** The runtime's name as nsrig calls it: the file name of the runtime ("runc", "crun"). */
  runtime: string;
  /** The first release that has the defect; absent when every release before fixedIn has it. */
  introducedIn?: string;
  /** The first release without the defect; absent while no release fixes it (every version from introducedIn has it). */
  fixedIn?: string;
  /** The invariant the defect makes fail ("mnt.tmpfs-mode-applied"). */
  invariant: string;
  /** The upstream report, "owner/repo#N". */
  reference: string;
  url: string;
  /** One line: what the runtime does wrong. */
  summary: string;
  /**
   * "sometimes" for a race: the invariant fails in some runs and holds in others, so a run where it
   * holds says nothing about a fix. Absent: every run of an affected version fails.
   */
  occurs?: 'sometimes';
}

/** A table that does not have the shape above: the file, the field path, what was expected there. */
export class KnownDefectsError extends Error {
  constructor(readonly file: string, readonly fieldPath: string, readonly expected: string, readonly got: string) {
    super(`${file}: ${fieldPath === '' ? '' : `${fieldPath}: `}expected ${expected}, got ${got}`);
    this.name = 'KnownDefectsError';
  }
}

export const KNOWN_DEFECTS_FILE = fileURLToPath(new URL('../../harness/known-defects.json', import.meta.url));
/** An additional table of the same shape, read after the shipped one. */
export const KNOWN_DEFECTS_ENV = 'NSRIG_KNOWN_DEFECTS';

const VERSION = /^\d+\.\d+\.\d+$/;
const INVARIANT_ID = /^[a-z0-9]+\.[a-z0-9-]+$/;
const REFERENCE = /^[\w.-]+\/[\w.-]+#\d+$/;

const FIELDS: Record<keyof KnownDefect, { required: boolean; expected: string; valid: (v: string) => boolean }> = {
  runtime: { required: true, expected: 'a runtime name such as "runc"', valid: (v) => v.length > 0 && !v.includes('/') },
  introducedIn: { required: false, expected: 'a version MAJOR.MINOR.PATCH', valid: (v) => VERSION.test(v) },
  fixedIn: { required: false, expected: 'a version MAJOR.MINOR.PATCH', valid: (v) => VERSION.test(v) },
  invariant: { required: true, expected: 'an invariant id AREA.NAME such as "mnt.tmpfs-mode-applied"', valid: (v) => INVARIANT_ID.test(v) },
  reference: { required: true, expected: 'an upstream reference OWNER/REPO#NUMBER', valid: (v) => REFERENCE.test(v) },
  url: { required: true, expected: 'an https:// URL', valid: (v) => /^https:\/\/\S+$/.test(v) },
  summary: { required: true, expected: 'a one-line summary', valid: (v) => v.trim().length > 0 && !v.includes('\n') },
  occurs: { required: false, expected: '"sometimes" (a race), or no occurs field', valid: (v) => v === 'sometimes' },
};

const describe = (v: unknown): string => (v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v));

/** Validates a parsed table; every record must have exactly the fields of KnownDefect. */
export function parseKnownDefects(doc: unknown, file: string): KnownDefect[] {
  if (!Array.isArray(doc)) throw new KnownDefectsError(file, '', 'an array of known defects', describe(doc));
  return doc.map((record: unknown, i) => {
    const at = `[${i}]`;
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new KnownDefectsError(file, at, 'an object', describe(record));
    const fields = record as Record<string, unknown>;
    for (const name of Object.keys(fields)) {
      if (!Object.hasOwn(FIELDS, name)) throw new KnownDefectsError(file, `${at}.${name}`, `no such field (known: ${Object.keys(FIELDS).join(', ')})`, describe(fields[name]));
    }
    for (const [name, rule] of Object.entries(FIELDS)) {
      const value = fields[name];
      if (value === undefined && !rule.required) continue;
      if (typeof value !== 'string' || !rule.valid(value)) throw new KnownDefectsError(file, `${at}.${name}`, rule.expected, describe(value));
    }
    const defect = fields as unknown as KnownDefect;
    if (defect.introducedIn !== undefined && defect.fixedIn !== undefined && !versionBefore(defect.introducedIn, defect.fixedIn)) {
      throw new KnownDefectsError(file, `${at}.introducedIn`, `a version before fixedIn ${defect.fixedIn}`, describe(defect.introducedIn));
    }
    return defect;
  });
}

export function loadKnownDefectsFile(file: string): KnownDefect[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new KnownDefectsError(file, '', 'a readable file', (e as Error).message);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new KnownDefectsError(file, '', 'JSON', (e as Error).message);
  }
  return parseKnownDefects(doc, file);
}

let cached: { extra: string | undefined; defects: KnownDefect[] } | undefined;

/** The shipped table, plus the one NSRIG_KNOWN_DEFECTS names (read again when that changes). */
export function knownDefects(): KnownDefect[] {
  const extra = process.env[KNOWN_DEFECTS_ENV] || undefined;
  if (cached === undefined || cached.extra !== extra) {
    cached = { extra, defects: [...loadKnownDefectsFile(KNOWN_DEFECTS_FILE), ...(extra === undefined ? [] : loadKnownDefectsFile(extra))] };
  }
  return cached.defects;
}

/**
 * Whether this version has the defect. Versions compare as MAJOR.MINOR.PATCH with any suffix
 * ("1.1.5+ds1", "1.1.8-rc.1") read as its release; a version nsrig cannot read has no known defects.
 */
export function affects(defect: KnownDefect, version: string): boolean {
  if (!/^v?\d+\.\d+\.\d+/.test(version)) return false;
  const v = version.replace(/^v/, '');
  return (defect.fixedIn === undefined || versionBefore(v, defect.fixedIn)) && (defect.introducedIn === undefined || !versionBefore(v, defect.introducedIn));
}

/** Every known defect of this runtime version. */
export function knownDefectsFor(runtime: string, version: string, table: readonly KnownDefect[] = knownDefects()): KnownDefect[] {
  return table.filter((d) => d.runtime === runtime && affects(d, version));
}

/** The known defect that explains this invariant failing on this runtime version, if there is one. */
export function knownDefectMatching(runtime: string, version: string, invariantId: string, table: readonly KnownDefect[] = knownDefects()): KnownDefect | undefined {
  return knownDefectsFor(runtime, version, table).find((d) => d.invariant === invariantId);
}
