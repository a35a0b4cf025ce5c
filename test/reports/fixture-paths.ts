// Where the committed results fixtures and the report output folder are, from the compiled
// test (dist/test/reports/) or the source (test/reports/) alike.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

export const ROOT = findRoot();
export const FIXTURES = resolve(ROOT, 'test/fixtures/results');
export const REPORTS_OUT = resolve(ROOT, 'reports/out');

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export const DIFFERENTIAL = ['differential-builtin.json', 'differential-runc.json', 'differential-crun.json'].map(fixture);
export const SHARDS = ['builtin-shard-1-of-2.json', 'builtin-shard-2-of-2.json'].map(fixture);
