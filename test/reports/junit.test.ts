import test from 'ava';
import { parse, type TestCase, type TestSuite, type TestSuites } from 'junit2json';
import { buildReportModel, loadResultsFiles, renderJunit } from '../../reports/index.js';
import { DIFFERENTIAL, fixture } from './fixture-paths.js';
import { CDATA_END, hostileResults, QUOTES, REPLAY, SCRIPT, XML_ILLEGAL } from './hostile-results.js';

interface Root extends TestSuites {
  skipped?: number;
}

async function junitOf(paths: string[]): Promise<{ xml: string; root: Root }> {
  const model = buildReportModel(await loadResultsFiles(paths));
  const xml = renderJunit(model);
  const root = (await parse(xml)) as Root;
  return { xml, root };
}

const cases = (root: Root): TestCase[] => (root.testsuite ?? []).flatMap((s) => s.testcase ?? []);
const property = (suite: TestSuite, name: string) => String(suite.properties?.find((p) => p.name === name)?.value);

test('a run with failures: a JUnit parser reads the exact counts', async (t) => {
  const { xml, root } = await junitOf([fixture('builtin-failures.json')]);
  t.true(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="nsrig" '));
  t.is(root.name, 'nsrig');
  t.is(root.tests, 32);
  t.is(root.failures, 3);
  t.is(root.errors, 0);
  t.is(root.skipped, 1);
  const all = cases(root);
  t.is(all.length, 32);
  t.is(all.filter((c) => c.failure !== undefined).length, 3);
  t.is(all.filter((c) => c.skipped !== undefined).length, 1);
  // One suite per area, and each suite's own counts add up to the root's.
  t.is(root.testsuite!.length, 16);
  t.is(root.testsuite!.reduce((n, s) => n + (s.failures ?? 0), 0), 3);
  t.is(root.testsuite!.reduce((n, s) => n + (s.tests ?? 0), 0), 32);
});

test('each failure carries expected, observed and the replay command', async (t) => {
  const { root } = await junitOf([fixture('builtin-failures.json')]);
  const uts = cases(root).find((c) => c.name === 'uts.hostname-isolated')!;
  t.is(uts.classname, 'nsrig.uts');
  const failure = uts.failure![0]!;
  t.is(failure.type, 'MUST invariant violated');
  t.true(failure.message!.startsWith('expected hostname inside "a"; host hostname unchanged'));
  t.true(failure.message!.includes('observed hostname inside "ci-runner-07"'));
  t.true(failure.inner!.includes("Replay: nsrig check --target builtin --seed 42 --runs 100 --only uts.hostname-isolated --replay '3:1:0'"));
  t.true(failure.inner!.includes('Counterexample path: 3:1:0 (after 7 shrink steps)'));
  t.true(failure.inner!.includes('hostname: a'));
  const maps = cases(root).find((c) => c.name === 'user.id-maps-match')!.failure![0]!;
  // A multi-line expectation keeps its line breaks through the attribute.
  t.true(maps.message!.includes('uid_map:\n         0     100000          1\n         1     200000          2'));
});

test('suites carry seed, target, runtime version and runs as properties', async (t) => {
  const { root } = await junitOf([fixture('runc-errors-skips.json')]);
  const suite = root.testsuite!.find((s) => s.name === 'time')!;
  t.is(property(suite, 'seed'), '9001');
  t.is(property(suite, 'target'), 'runc');
  t.is(property(suite, 'runtime.version'), '1.2.5');
  t.is(property(suite, 'runtime.path'), '/usr/sbin/runc');
  t.is(property(suite, 'runs'), '50');
  t.is(suite.timestamp, '2025-06-02T10:30:00.000Z');
});

test('target errors are <error>, not <failure>, and skips carry their reason', async (t) => {
  const { root } = await junitOf([fixture('runc-errors-skips.json')]);
  t.is(root.tests, 32);
  t.is(root.failures, 0);
  t.is(root.errors, 2);
  t.is(root.skipped, 2);
  const time = cases(root).find((c) => c.name === 'time.offsets-applied')!;
  t.is(time.failure, undefined);
  t.is(time.error![0]!.type, 'TargetError');
  t.regex(time.error![0]!.message!, /^runc create: OCI runtime create failed: time namespace offsets/);
  const port = cases(root).find((c) => c.name === 'net.port-reuse')!;
  t.is(port.skipped![0]!.message, 'needs two concurrent containers; the OCI target runs one at a time (--jobs 1)');
});

test('merged targets get a suite per target and area, named like runc.pid', async (t) => {
  const { root } = await junitOf(DIFFERENTIAL);
  t.is(root.tests, 96);
  t.is(root.failures, 1);
  t.is(root.errors, 1);
  t.is(root.skipped, 1);
  const names = root.testsuite!.map((s) => s.name);
  t.is(names.length, 48);
  for (const expected of ['builtin.pid', 'runc.pid', 'crun.pid', 'crun.proc']) t.true(names.includes(expected), expected);
  const crunProc = root.testsuite!.find((s) => s.name === 'crun.proc')!;
  t.is(crunProc.failures, 1);
  const failing = crunProc.testcase!.find((c) => c.failure !== undefined)!;
  t.is(failing.classname, 'nsrig.crun.proc');
  t.is(failing.name, 'proc.readonly-paths');
  t.is(property(crunProc, 'target'), 'crun');
});

test('hostile text is escaped in every attribute and element, and illegal XML characters are made visible', async (t) => {
  const xml = renderJunit(buildReportModel([hostileResults()]));
  t.false(XML_ILLEGAL.test(xml), 'no character XML 1.0 forbids');
  t.false(xml.includes('<script'));
  t.false(xml.includes(']]>'));
  const root = (await parse(xml)) as Root;
  t.is(root.tests, 3);
  t.is(root.failures, 1);
  t.is(root.errors, 1);
  t.is(root.skipped, 1);
  const all = cases(root);
  const failing = all.find((c) => c.failure !== undefined)!;
  // The parser gives back exactly the text that went in, markup and all.
  t.is(failing.name, `uts.${SCRIPT}`);
  t.true(failing.failure![0]!.inner!.includes(`Replay: ${REPLAY}`));
  t.true(failing.failure![0]!.inner!.includes(CDATA_END));
  t.true(failing.failure![0]!.message!.includes(QUOTES));
  t.true(failing.failure![0]!.message!.includes('nul\\x00 esc\\x1B[31m bel\\x07 ff\\x0C vt\\x0B del\\x7F c1\\x85 lone\\uD800 end'));
  const skipped = all.find((c) => c.skipped !== undefined)!;
  t.is(skipped.classname, `nsrig.pid${QUOTES}`);
  t.true(skipped.skipped![0]!.message!.startsWith(`skip reason ${QUOTES} nul\\x00`));
  const suite = root.testsuite!.find((s) => s.name === 'uts')!;
  t.is(property(suite, 'target'), `evil${SCRIPT}`);
  t.is(property(suite, 'host.arch'), QUOTES);
});
