// The HTML report: templates/layout.hbs with the partials in templates/partials, filled from
// the ReportModel. Only double-stash expressions are used, so every value is HTML-escaped;
// the page carries its own styles and a CSP that forbids every fetch, so it opens offline.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { ReportModel } from './report-model.js';
import { showControlCharacters } from './xml-characters.js';

export class TemplatesNotFoundError extends Error {
  readonly tried: string[];
  constructor(tried: string[]) {
    super(`templates/layout.hbs not found; looked in: ${tried.join(', ')}`);
    this.name = 'TemplatesNotFoundError';
    this.tried = tried;
  }
}

/** A template that does not fit the model (a misspelt field, a missing partial). */
export class TemplateRenderError extends Error {
  readonly templatesDir: string;
  constructor(templatesDir: string, detail: string) {
    super(`rendering the templates in ${templatesDir}: ${detail}`);
    this.name = 'TemplateRenderError';
    this.templatesDir = templatesDir;
  }
}

export interface HtmlOptions {
  /** A folder holding layout.hbs and partials/; found next to the package when omitted. */
  templatesDir?: string;
}

/**
 * This module runs compiled (dist/reports/html.js) and, under a TypeScript loader, from source
 * (reports/html.ts); templates/ sits at the package root in both cases.
 */
export function findTemplatesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const tried = [resolve(here, '../../templates'), resolve(here, '../templates')];
  const found = tried.find((dir) => existsSync(join(dir, 'layout.hbs')));
  if (found === undefined) throw new TemplatesNotFoundError(tried);
  return found;
}

type Render = (context: unknown) => string;
const compiled = new Map<string, Render>();

function compileTemplates(dir: string): Render {
  const layoutPath = join(dir, 'layout.hbs');
  if (!existsSync(layoutPath)) throw new TemplatesNotFoundError([dir]);
  // A private environment: partials registered here cannot leak into, or be replaced by,
  // another user of the global Handlebars instance in the same process.
  const env = Handlebars.create();
  // strict: a misspelt field in a template throws instead of printing nothing.
  const options = { strict: true };
  const partialsDir = join(dir, 'partials');
  if (existsSync(partialsDir)) {
    for (const file of readdirSync(partialsDir).filter((f) => f.endsWith('.hbs')).sort()) {
      env.registerPartial(basename(file, '.hbs'), env.compile(readFileSync(join(partialsDir, file), 'utf8'), options));
    }
  }
  return env.compile(readFileSync(layoutPath, 'utf8'), options);
}

/** Control characters in probe output would print as nothing; the report shows them. */
function visibleStrings(value: unknown): unknown {
  if (typeof value === 'string') return showControlCharacters(value);
  if (Array.isArray(value)) return value.map(visibleStrings);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = visibleStrings(v);
    return out;
  }
  return value;
}

export function renderHtml(model: ReportModel, options: HtmlOptions = {}): string {
  const dir = options.templatesDir ?? findTemplatesDir();
  let render = compiled.get(dir);
  if (render === undefined) {
    render = compileTemplates(dir);
    compiled.set(dir, render);
  }
  // The templates print the view, never the raw Results behind each run.
  const runs = model.runs.map(({ results: _results, ...run }) => run);
  try {
    return render(visibleStrings({ ...model, runs }));
  } catch (error) {
    // Handlebars throws its own exception type, which is not an Error subclass.
    throw new TemplateRenderError(dir, String((error as { message?: unknown }).message ?? error));
  }
}
