// What every part of `make bench` shares: whether a person is watching (a TTY gets progress, CI
// gets only the tables), a private temp directory, the teardown list, and where results go.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Teardown } from './teardown.js';

export interface BenchContext {
  interactive: boolean;
  /** A private directory (mode 0711, so a container's mapped root can reach bundles in it). */
  workDir: string;
  teardown: Teardown;
  /** Where the JSON results are written. */
  resultsDir: string;
  /** A progress line, on a terminal only. */
  progress(message: string): void;
}

/** bench/results in the checkout, found from dist/bench/ where the compiled bench runs. */
export const DEFAULT_RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

/** The nsrig CLI of this checkout, as a user runs it. */
export const NSRIG_CLI = fileURLToPath(new URL('../../bin/nsrig.js', import.meta.url));

export function createBenchContext(resultsDir: string): BenchContext {
  const teardown = new Teardown();
  teardown.installSignalHandlers();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-bench-'));
  teardown.add(`remove ${workDir}`, () => fs.rmSync(workDir, { recursive: true, force: true }));
  fs.chmodSync(workDir, 0o711);
  const interactive = Boolean(process.stderr.isTTY);
  return {
    interactive,
    workDir,
    teardown,
    resultsDir,
    progress: (message) => {
      if (interactive) process.stderr.write(`bench: ${message}\n`);
    },
  };
}

export function writeResult(dir: string, name: string, value: unknown): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}
