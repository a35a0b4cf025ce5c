// The registry of named engine containers (core/container-registry.ts) on a real directory: ids it
// refuses, a root others could read or write, a record that round-trips a profile's bigints, an id
// taken by a live owner, and a dead owner's record swept. The containers themselves: test/cli/exec.test.ts.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  claimId, listRecords, readRecord, REGISTRY_ROOT_ENV, RegistryError, releaseId, validateId,
} from '../../core/container-registry.js';
import { loadProfileFile } from '../../policy/profile/load.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-registry-test-'));
const root = path.join(dir, 'registry');
process.env[REGISTRY_ROOT_ENV] = root;
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

// An inline seccomp argument past 2^53 is loaded as a bigint, which JSON has no number for.
const profileFile = path.join(dir, 'registry.yaml');
fs.writeFileSync(profileFile, 'name: registry\nprocess:\n  args: ["true"]\nseccomp:\n  defaultAction: SCMP_ACT_ALLOW\n  syscalls:\n'
  + '    - { names: [personality], action: SCMP_ACT_ERRNO, args: [{ index: 0, value: 18446744073709551615, op: SCMP_CMP_EQ }] }\n');
const profile = loadProfileFile(profileFile);
const claim = (id: string) => claimId({ id, source: profile.source, profile, noNewKeyring: false, bundle: dir });

test.serial('ids: letters, digits and _ . + - up to 128, starting with a letter or digit; no path tricks', (t) => {
  for (const good of ['a', 'web-1', 'x.y_z+1', 'A'.repeat(128)]) t.notThrows(() => validateId(good), good);
  for (const bad of ['', '.', '..', 'a..b', '../etc', 'a/b', '-x', '.hidden', 'a b', 'é', 'x'.repeat(129)]) {
    const error = t.throws(() => validateId(bad), { instanceOf: RegistryError }, bad);
    t.is(error!.reason, 'invalid-id');
  }
});

test.serial('a record round-trips the compiled profile (bigints too); the id is taken while held and free once released', (t) => {
  claim('kept');
  t.is(fs.statSync(root).mode & 0o777, 0o700);
  const record = readRecord('kept');
  t.is(record.status, 'creating');
  t.is(record.owner.pid, process.pid);
  t.deepEqual(record.profile, profile);
  t.is(JSON.stringify(record.profile.seccomp, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)).match(/\d+n/)?.[0], '18446744073709551615n');
  const again = t.throws(() => claim('kept'), { instanceOf: RegistryError });
  t.is(again!.reason, 'taken');
  t.regex(again!.message, new RegExp(`container id "kept" is taken by a container of nsrig pid ${process.pid}, creating`));
  t.deepEqual(listRecords().map((r) => r.id), ['kept']);
  releaseId('kept');
  t.deepEqual(fs.readdirSync(root), []);
  t.is(t.throws(() => readRecord('kept'), { instanceOf: RegistryError })!.reason, 'unknown');
});

test.serial('the record of an owner that is gone is swept by the next reader, and its id is free again', (t) => {
  // The same pid with another start time (a second later; a tick apart is one start read through a
  // time namespace, core/process-start.ts) is another process: this one's record, as if its owner had died.
  claim('orphan');
  const file = path.join(root, 'orphan', 'state.json');
  const written = JSON.parse(fs.readFileSync(file, 'utf8')) as { owner: { startTicks: number } };
  written.owner.startTicks += 100;
  fs.writeFileSync(file, JSON.stringify(written));
  const error = t.throws(() => readRecord('orphan'), { instanceOf: RegistryError });
  t.is(error!.reason, 'dead-owner');
  t.false(fs.existsSync(path.join(root, 'orphan')));
  t.notThrows(() => claim('orphan'));
  releaseId('orphan');
});

test.serial('a registry root that others could read or write is refused, not used', (t) => {
  fs.chmodSync(root, 0o755);
  try {
    const error = t.throws(() => claim('open'), { instanceOf: RegistryError });
    t.is(error!.reason, 'unsafe-root');
    t.regex(error!.message, /must be a directory owned by uid 0 with mode 0700, not uid 0 mode 0755/);
    t.deepEqual(fs.readdirSync(root), []);
  } finally {
    fs.chmodSync(root, 0o700);
  }
});
