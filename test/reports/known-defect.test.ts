// A failure that matches a recorded upstream defect (harness/known-defects.json) stays a failure,
// and every output names the upstream issue and the release that fixes it. The fixture is a real
// `nsrig check --runtime runc --only mnt.tmpfs-mode-applied` run on Debian 12's runc 1.1.5.
import test from 'ava';
import { buildReportModel, loadResultsFiles, parseResultsFile, renderHtml, renderJson, renderJunit } from '../../reports/index.js';
import { describeFailure, summaryLine } from '../../bin/progress.js';
import { fixture } from './fixture-paths.js';

const FILE = fixture('runc-known-defect.json');
const ISSUE = 'opencontainers/runc#3911';
const URL = 'https://github.com/opencontainers/runc/issues/3911';

async function loaded() {
  const files = await loadResultsFiles([FILE]);
  return { files, result: files[0]!.results[0]!, model: buildReportModel(files) };
}

test('the results file keeps the note, and the failure still counts as one', async (t) => {
  const { result } = await loaded();
  const inv = result.invariants.find((i) => i.id === 'mnt.tmpfs-mode-applied')!;
  t.is(inv.status, 'fail');
  t.is(result.summary.failed, 1);
  t.deepEqual({ ...inv.knownDefect, summary: undefined }, { reference: ISSUE, url: URL, fixedIn: '1.1.8', summary: undefined });
});

test('JSON written again keeps the note', async (t) => {
  const { model } = await loaded();
  const again = parseResultsFile('again.json', Buffer.from(renderJson(model)));
  t.is(again.results[0]!.invariants[0]!.knownDefect?.reference, ISSUE);
});

test('the terminal names the issue and the fixing release, and the summary counts it', async (t) => {
  const { result } = await loaded();
  const text = describeFailure(result.invariants[0]!);
  t.regex(text, /known upstream defect of this runtime version: opencontainers\/runc#3911, fixed in 1\.1\.8/);
  t.true(text.includes(URL));
  t.regex(summaryLine(result), /^FAIL: 0 passed, 1 failed \(1 a known upstream defect\)/);
});

test('JUnit: the failure message and body name the issue; it is still a failure', async (t) => {
  const { model } = await loaded();
  const xml = renderJunit(model);
  t.regex(xml, /failures="1"/);
  t.true(xml.includes(`(known upstream defect ${ISSUE}, fixed in 1.1.8)"`));
  t.true(xml.includes(`Known upstream defect: ${ISSUE} &lt;${URL}&gt;, fixed in 1.1.8`));
});

test('HTML: the failure links the issue and says which release fixes it', async (t) => {
  const { model } = await loaded();
  const html = await renderHtml(model);
  t.regex(html, new RegExp(`<p class="known-defect">Known upstream defect of this runtime version: <a class="ref" href="${URL}" rel="noreferrer noopener">${ISSUE}</a>, fixed in 1\\.1\\.8\\.`));
});
