// Reads results files as evidence: the bytes are hashed before anything else touches them, so
// the sha256 printed in a report identifies exactly the file it was built from.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Results } from '../harness/results.js';
import { readResults, ResultsFileError } from './validate-results.js';

export { ResultsFileError } from './validate-results.js';

export interface ResultsFile {
  /** The path as the caller gave it (reports show it as given). */
  path: string;
  /** Hex sha256 of the file's bytes. */
  sha256: string;
  sizeBytes: number;
  /**
   * The runs the file holds: one for a file written by `nsrig check`, several for a merged
   * report written by `nsrig report --json` over several targets.
   */
  results: Results[];
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks the text of one results file; `file` names it in errors. */
export function parseResultsFile(file: string, bytes: Uint8Array): ResultsFile {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new ResultsFileError(file, '', 'a JSON document in UTF-8', (error as Error).message);
  }
  let results: Results[];
  if (Array.isArray(document)) {
    if (document.length === 0) throw new ResultsFileError(file, '', 'at least one run', 'an empty array');
    results = document.map((item, i) => readResults(file, item, `[${i}]`));
  } else {
    results = [readResults(file, document)];
  }
  return { path: file, sha256: sha256Hex(bytes), sizeBytes: bytes.byteLength, results };
}

export async function loadResultsFile(path: string): Promise<ResultsFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ResultsFileError(path, '', 'a readable results file', code);
  }
  return parseResultsFile(path, bytes);
}

/** Loads every file, in the order given (that order is the column order of a multi-target report). */
export async function loadResultsFiles(paths: readonly string[]): Promise<ResultsFile[]> {
  if (paths.length === 0) throw new ResultsFileError('(no files)', '', 'at least one results file');
  return Promise.all(paths.map(loadResultsFile));
}
