// The known-defects table: the shipped file is valid and names real invariants, versions select
// records by [introducedIn, fixedIn), and a malformed table is refused with its field path.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  KNOWN_DEFECTS_ENV, KNOWN_DEFECTS_FILE, KnownDefectsError, knownDefectMatching, knownDefects, knownDefectsFor, loadKnownDefectsFile, parseKnownDefects,
  type KnownDefect,
} from '../../harness/known-defects.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { fixedInWords } from '../../harness/results.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-known-defects-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const RECORD: KnownDefect = {
  runtime: 'crun', introducedIn: '1.5.0', fixedIn: '1.9.2', invariant: 'pid.host-signal-refused',
  reference: 'containers/crun#1', url: 'https://github.com/containers/crun/issues/1', summary: 'an example record',
};

test('the shipped table loads, and each record names an invariant of the catalogue', (t) => {
  const table = loadKnownDefectsFile(KNOWN_DEFECTS_FILE);
  t.true(table.length >= 1);
  const ids = new Set(INVARIANTS.map((i) => i.id));
  for (const d of table) t.true(ids.has(d.invariant), `${d.reference}: ${d.invariant}`);
});

test('runc before 1.1.8 has opencontainers/runc#3911, which explains mnt.tmpfs-mode-applied failing', (t) => {
  for (const version of ['1.1.5+ds1', '1.1.7', '1.0.0-rc10', 'v1.1.5']) {
    t.is(knownDefectMatching('runc', version, 'mnt.tmpfs-mode-applied')?.reference, 'opencontainers/runc#3911', version);
  }
  for (const version of ['1.1.8', '1.1.9', '1.2.0', '1.10.0', '1.1.8-rc.1']) t.is(knownDefectMatching('runc', version, 'mnt.tmpfs-mode-applied'), undefined, version);
  t.is(knownDefectMatching('runc', '1.1.5', 'mnt.readonly-refuses-writes'), undefined, 'another invariant is not excused');
  t.is(knownDefectMatching('crun', '1.8.1', 'mnt.tmpfs-mode-applied'), undefined, 'another runtime is not affected');
  t.deepEqual(knownDefectsFor('runc', 'unknown'), [], 'a version nsrig cannot read has no known defects');
});

test('introducedIn bounds the affected versions from below, fixedIn from above', (t) => {
  const table = [RECORD];
  t.deepEqual(knownDefectsFor('crun', '1.4.9', table), []);
  t.deepEqual(knownDefectsFor('crun', '1.5.0', table), [RECORD]);
  t.deepEqual(knownDefectsFor('crun', '1.9.1', table), [RECORD]);
  t.deepEqual(knownDefectsFor('crun', '1.9.2', table), []);
});

test('a malformed table is refused with the file, the field path and what was expected', (t) => {
  const cases: [unknown, RegExp][] = [
    [{}, /^t\.json: expected an array of known defects, got \{\}$/],
    [[RECORD, 'runc'], /^t\.json: \[1\]: expected an object, got "runc"$/],
    [[{ ...RECORD, fixedIn: '1.9' }], /^t\.json: \[0\]\.fixedIn: expected a version MAJOR\.MINOR\.PATCH, got "1\.9"$/],
    [[{ ...RECORD, invariant: undefined }], /^t\.json: \[0\]\.invariant: expected an invariant id AREA\.NAME .*, got nothing$/],
    [[{ ...RECORD, reference: 'crun issue 1' }], /\[0\]\.reference: expected an upstream reference OWNER\/REPO#NUMBER, got "crun issue 1"$/],
    [[{ ...RECORD, fixed: '1.9.2' }], /\[0\]\.fixed: expected no such field \(known: runtime, introducedIn, fixedIn/],
    [[{ ...RECORD, introducedIn: '2.0.0' }], /\[0\]\.introducedIn: expected a version before fixedIn 1\.9\.2, got "2\.0\.0"$/],
    [[{ ...RECORD, summary: 42 }], /\[0\]\.summary: expected a one-line summary, got 42$/],
    [[{ ...RECORD, occurs: 'often' }], /\[0\]\.occurs: expected "sometimes" \(a race\), or no occurs field, got "often"$/],
  ];
  for (const [doc, message] of cases) {
    const error = t.throws(() => parseKnownDefects(doc, 't.json'), { instanceOf: KnownDefectsError });
    t.regex(error!.message, message);
  }
  const file = path.join(dir, 'not-json.json');
  fs.writeFileSync(file, '[{');
  t.throws(() => loadKnownDefectsFile(file), { instanceOf: KnownDefectsError, message: new RegExp(`^${file}: expected JSON, got `) });
});

test('NSRIG_KNOWN_DEFECTS adds a table of the same shape to the shipped one', (t) => {
  const file = path.join(dir, 'extra.json');
  fs.writeFileSync(file, JSON.stringify([RECORD]));
  const before = process.env[KNOWN_DEFECTS_ENV];
  process.env[KNOWN_DEFECTS_ENV] = file;
  try {
    t.deepEqual(knownDefects().slice(-1), [RECORD]);
    t.is(knownDefectMatching('crun', '1.8.1', 'pid.host-signal-refused')?.reference, 'containers/crun#1');
    t.is(knownDefectMatching('runc', '1.1.5', 'mnt.tmpfs-mode-applied')?.reference, 'opencontainers/runc#3911', 'the shipped records stay');
  } finally {
    if (before === undefined) delete process.env[KNOWN_DEFECTS_ENV];
    else process.env[KNOWN_DEFECTS_ENV] = before;
  }
  t.is(knownDefectMatching('crun', '1.8.1', 'pid.host-signal-refused'), undefined, 'the extra table is gone with the variable');
});

test('a record without fixedIn affects every version from introducedIn on: no release fixes it yet', (t) => {
  const { fixedIn: _fixed, ...unfixed } = RECORD;
  const table = parseKnownDefects([unfixed], 't.json');
  t.deepEqual(knownDefectsFor('crun', '1.4.9', table), []);
  for (const version of ['1.5.0', '1.9.2', '99.0.0']) t.deepEqual(knownDefectsFor('crun', version, table), table, version);
  t.is(fixedInWords(undefined), 'not fixed in any release yet');
  t.is(fixedInWords('1.9.2'), 'fixed in 1.9.2');
});
