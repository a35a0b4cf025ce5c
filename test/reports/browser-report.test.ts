// Opens generated reports in a real headless Chromium (the Debian package) over file://, the
// way an auditor opens the file they were handed: it must render, load nothing, log no error.
import anyTest, { type TestFn } from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildReportModel, loadResultsFiles, renderHtml, renderJunit, type ReportModel } from '../../reports/index.js';
import { DIFFERENTIAL, fixture, REPORTS_OUT } from './fixture-paths.js';
import { hostileResults } from './hostile-results.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Context {
  browser: BrowserContext;
  profileDir: string;
}
const test = anyTest as TestFn<Context>;

test.before(async (t) => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the browser test needs it. Install the Debian package: ` +
        'apt-get install -y chromium (CI installs it).',
    );
  }
  const profileDir = mkdtempSync(join(tmpdir(), 'nsrig-chromium-'));
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  t.context = { browser, profileDir };
});

test.after.always(async (t) => {
  // before() may have failed before setting the context.
  const context = t.context as Partial<Context>;
  await context.browser?.close();
  if (context.profileDir !== undefined) rmSync(context.profileDir, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Console errors, page errors and dialogs (an alert would mean injected script ran). */
  problems: string[];
  /** Every URL the page asked for besides the report file itself. */
  requests: string[];
}

async function open(browser: BrowserContext, htmlPath: string): Promise<Opened> {
  const page = await browser.newPage();
  // A missing element should fail the test promptly, not after playwright's 30 s default.
  page.setDefaultTimeout(5000);
  const url = pathToFileURL(htmlPath).href;
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url());
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests };
}

/** Test pages go to their own folder, so they never replace the report `make report` wrote. */
function writeReport(name: string, model: ReportModel): string {
  const dir = join(REPORTS_OUT, 'browser-test');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, renderHtml(model));
  return path;
}

test.serial('the report of a run with failures renders: counts, matrix, chart, replay; no errors, no requests', async (t) => {
  const model = buildReportModel(await loadResultsFiles([fixture('builtin-failures.json')]));
  const { page, problems, requests } = await open(t.context.browser, writeReport('failures.html', model));
  t.teardown(() => page.close());

  const counts: [string, string][] = [['pass', '28'], ['fail', '3'], ['error', '0'], ['skip', '1']];
  for (const [kind, expected] of counts) {
    const count = page.locator(`.count-${kind} dd`);
    t.true(await count.isVisible(), kind);
    t.is((await count.innerText()).trim(), expected, kind);
  }
  t.is((await page.locator('.verdict strong').innerText()).trim(), 'FAIL');
  t.true(await page.locator('table.matrix').isVisible());
  t.is(await page.locator('table.matrix tbody tr').count(), 16);

  const chart = page.locator('figure.chart svg');
  t.is(await chart.count(), 1);
  t.true(await chart.isVisible());
  const box = await chart.boundingBox();
  t.true(box !== null && box.width > 500 && box.height > 200, JSON.stringify(box));
  t.is(await page.locator('figure.chart rect.bar-violation').count(), 2);
  t.true(await page.locator('figure.chart text.value-violation').first().isVisible());

  const replay = page.locator('[id="fail--builtin--uts.hostname-isolated"] pre.replay');
  t.is((await replay.innerText()).trim(), "nsrig check --target builtin --seed 42 --runs 100 --only uts.hostname-isolated --replay '3:1:0'");
  t.is(await page.locator('script').count(), 0);

  await page.screenshot({ path: join(REPORTS_OUT, 'report.png'), fullPage: true });
  t.deepEqual([...readFileSync(join(REPORTS_OUT, 'report.png')).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

  t.deepEqual(problems, []);
  t.deepEqual(requests, []);
});

test.serial('the report prints: navigation hidden, whole profiles shown, and a PDF comes out', async (t) => {
  const model = buildReportModel(await loadResultsFiles([fixture('builtin-failures.json')]));
  const { page, problems } = await open(t.context.browser, writeReport('failures.html', model));
  t.teardown(() => page.close());
  await page.emulateMedia({ media: 'print' });
  t.false(await page.locator('nav.toc').isVisible());
  const maxHeight = await page.locator('pre.profile').first().evaluate((el) => getComputedStyle(el).maxHeight);
  t.is(maxHeight, 'none');
  const pdf = await page.pdf({ format: 'A4' });
  t.is(pdf.subarray(0, 5).toString(), '%PDF-');
  t.deepEqual(problems, []);
});

test.serial('three targets render side by side in the matrix, with a chart per target', async (t) => {
  const model = buildReportModel(await loadResultsFiles(DIFFERENTIAL));
  const { page, problems, requests } = await open(t.context.browser, writeReport('differential.html', model));
  t.teardown(() => page.close());
  const headers = await page.locator('table.matrix-targets thead th').allInnerTexts();
  t.deepEqual(
    headers.map((h) => h.split('\n')[0]!.trim().toLowerCase()),
    ['invariant', 'level', 'builtin', 'runc', 'crun'],
  );
  t.is(await page.locator('table.matrix-targets tr.differs').count(), 3);
  t.is(await page.locator('figure.chart svg').count(), 3);
  t.is((await page.locator('.count-fail dd').innerText()).trim(), '1');
  t.is((await page.locator('.count-error dd').innerText()).trim(), '1');
  t.deepEqual(problems, []);
  t.deepEqual(requests, []);
});

test.serial('hostile data renders as text: no script runs, no dialog opens', async (t) => {
  const model = buildReportModel([hostileResults()]);
  const { page, problems, requests } = await open(t.context.browser, writeReport('hostile.html', model));
  t.teardown(() => page.close());
  t.is(await page.locator('script').count(), 0);
  t.true((await page.locator('.finding h3').innerText()).includes('uts.<script>alert("x")</script>'));
  t.is(await page.locator('a[href^="javascript"]').count(), 0);
  t.deepEqual(problems, []);
  t.deepEqual(requests, []);
});

test.serial("JUnit output is well-formed XML 1.0 to the browser's strict XML parser", async (t) => {
  const page = await t.context.browser.newPage();
  t.teardown(() => page.close());
  const documents: [string, string, number][] = [
    ['failures', renderJunit(buildReportModel(await loadResultsFiles([fixture('builtin-failures.json')]))), 32],
    ['differential', renderJunit(buildReportModel(await loadResultsFiles(DIFFERENTIAL))), 96],
    ['hostile', renderJunit(buildReportModel([hostileResults()])), 3],
  ];
  const parse = (xml: string) =>
    page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'application/xml');
      return {
        error: doc.getElementsByTagName('parsererror').length > 0,
        root: doc.documentElement.nodeName,
        cases: doc.getElementsByTagName('testcase').length,
      };
    }, xml);
  // The parser is strict: a raw control character is refused, so a pass below means something.
  t.true((await parse('<a>\u0001</a>')).error);
  t.true((await parse('<a b="<"/>')).error);
  for (const [name, xml, cases] of documents) {
    t.deepEqual(await parse(xml), { error: false, root: 'testsuites', cases }, name);
  }
});
