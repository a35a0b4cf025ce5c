// Writes the outputs a run asked for. Each file is written to a temporary name beside it and
// renamed, so a CI job reading report.xml never sees half a file.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import type { ReportModel } from './report-model.js';

export interface ReportPaths {
  html?: string;
  junit?: string;
  json?: string;
}

export interface WrittenReport {
  kind: 'html' | 'junit' | 'json';
  path: string;
  bytes: number;
}

async function writeWhole(path: string, text: string): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  const data = Buffer.from(text, 'utf8');
  await writeFile(temporary, data);
  await rename(temporary, path);
  return data.byteLength;
}

export async function writeReports(paths: ReportPaths, model: ReportModel): Promise<WrittenReport[]> {
  const renderers = { html: renderHtml, junit: renderJunit, json: renderJson } as const;
  const written: WrittenReport[] = [];
  for (const kind of ['json', 'junit', 'html'] as const) {
    const path = paths[kind];
    if (path === undefined) continue;
    written.push({ kind, path, bytes: await writeWhole(path, renderers[kind](model)) });
  }
  return written;
}
