import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReportModel, findTemplatesDir, loadResultsFiles, renderHtml, TemplateRenderError, TemplatesNotFoundError } from '../../reports/index.js';
import { DIFFERENTIAL, fixture, ROOT, SHARDS } from './fixture-paths.js';
import { CDATA_END, hostileResults, REPLAY, SCRIPT } from './hostile-results.js';

async function htmlOf(paths: string[]): Promise<string> {
  return renderHtml(buildReportModel(await loadResultsFiles(paths)));
}

/** The text of the <dd> that follows a summary <dt>. */
function summaryCount(html: string, label: string): string | undefined {
  return new RegExp(`<dt>${label}</dt><dd>([^<]*)</dd>`).exec(html)?.[1];
}

test('the summary shows passed, failed, errors and skipped, and the verdict', async (t) => {
  const html = await htmlOf([fixture('builtin-failures.json')]);
  t.is(summaryCount(html, 'Passed'), '28');
  t.is(summaryCount(html, 'Failed'), '3');
  t.is(summaryCount(html, 'Target errors'), '0');
  t.is(summaryCount(html, 'Skipped'), '1');
  t.regex(html, /<div class="verdict verdict-FAIL"[^>]*>\s*<span class="verdict-label">Verdict<\/span>\s*<strong>FAIL<\/strong>/);
  const passing = await htmlOf([fixture('builtin-pass.json')]);
  t.regex(passing, /<strong>PASS<\/strong>/);
});

test('each failure shows its replay command in a code block, with expected and observed', async (t) => {
  const html = await htmlOf([fixture('builtin-failures.json')]);
  t.true(html.includes('<pre class="replay"><code>nsrig check --target builtin --seed 42 --runs 100 --only uts.hostname-isolated --replay &#x27;3:1:0&#x27;</code></pre>'));
  t.true(html.includes('<pre class="expected">hostname inside &quot;a&quot;; host hostname unchanged (&quot;ci-runner-07&quot;)</pre>'));
  t.is(html.match(/<article class="finding"/g)?.length, 3);
  // The shrunk profile is shown as YAML.
  t.true(html.includes('namespaces: [pid, mnt, user]'));
});

test('the sha256 of every results file is shown', async (t) => {
  const files = await loadResultsFiles([...SHARDS]);
  const html = renderHtml(buildReportModel(files));
  for (const f of files) t.true(html.includes(`<td class="sha">${f.sha256}</td>`), f.path);
  t.true(html.includes('2 of 2 merged (1/2, 2/2)'));
});

test('the page loads nothing: a CSP forbids fetches and no element points outside', async (t) => {
  const html = await htmlOf(DIFFERENTIAL);
  t.true(html.includes(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"`));
  t.false(/<script|<link|<img|<iframe|\ssrc=|@import|url\(/i.test(html));
  t.true(html.includes('@media print'));
});

test('several targets give a matrix with one column per target and the disagreements marked', async (t) => {
  const html = await htmlOf(DIFFERENTIAL);
  t.true(html.includes('<table class="matrix matrix-targets">'));
  t.is(html.match(/<span class="differs-note">differs<\/span>/g)?.length, 3);
  t.is(html.match(/<figure class="chart"/g)?.length, 3);
  t.true(html.includes('class="bar-violation"'));
});

test('hostile text is escaped everywhere and control characters are made visible', (t) => {
  const html = renderHtml(buildReportModel([hostileResults()]));
  // Data never becomes markup: the page has no script element at all.
  t.false(html.includes('<script'));
  t.true(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  t.false(html.includes(CDATA_END));
  t.true(html.includes('before ]]&gt; after'));
  t.true(html.includes('&quot;double&quot; and &#x27;single&#x27; &amp; ampersand'));
  t.false(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/.test(html));
  t.true(html.includes('nul\\x00 esc\\x1B[31m bel\\x07 ff\\x0C vt\\x0B del\\x7F c1\\x85 lone\\uD800 end'));
  // A javascript: reference stays text, never a link.
  t.false(html.includes('javascript:'));
  t.true(html.includes('ref &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  const replay = REPLAY.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');
  t.true(html.includes(`<pre class="replay"><code>${replay}</code></pre>`));
  t.true(html.includes(`read${SCRIPT.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')}`));
});

test('templates are found from the compiled module, and a missing folder says where it looked', (t) => {
  t.is(findTemplatesDir(), join(ROOT, 'templates'));
  const model = buildReportModel([hostileResults()]);
  const error = t.throws(() => renderHtml(model, { templatesDir: '/nonexistent/templates' }), { instanceOf: TemplatesNotFoundError });
  t.deepEqual(error.tried, ['/nonexistent/templates']);
});

test('a template that names a field the model lacks fails loudly instead of printing nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nsrig-templates-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'partials'));
  writeFileSync(join(dir, 'layout.hbs'), '<p>{{verdict}} {{> extra}}</p>');
  writeFileSync(join(dir, 'partials', 'extra.hbs'), '{{summary.passedd}}');
  const model = buildReportModel([hostileResults()]);
  const error = t.throws(() => renderHtml(model, { templatesDir: dir }), { instanceOf: TemplateRenderError });
  t.regex(error.message, /^rendering the templates in .*: "passedd" not defined/);
});
