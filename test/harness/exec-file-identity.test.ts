// The exec invariants' look at a host binary (fileIdentity): its hash is reused while the file's
// status stays, and every way a process can write the file moves that status, so the hash is
// taken again and the change seen, also when the writer puts mtime back.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { fileIdentity } from '../../harness/exec-scenario.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-file-identity-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

/**
 * Past a tick of the coarsest clock file times may use (a jiffy, 10 ms at HZ=100): in a check the
 * write comes a container's launch after the look before it, here microseconds after.
 */
const nextClockTick = () => new Promise((resolve) => setTimeout(resolve, 25));

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function fileWith(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test('a write of the same size whose mtime is put back is still seen: ctime moved, so the file is hashed again', async (t) => {
  const file = fileWith('restored-mtime', 'original contents');
  // Whole seconds, which utimes sets exactly.
  const then = 1_700_000_000;
  fs.utimesSync(file, then, then);
  const before = fileIdentity(file);
  await nextClockTick();
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, 'ORIGINAL', 0);
  fs.closeSync(fd);
  fs.utimesSync(file, then, then);
  const after = fileIdentity(file);
  t.is(after.mtimeMs, before.mtimeMs, 'the writer put mtime back');
  t.not(after.sha256, before.sha256);
  t.is(after.sha256, sha(file));
});

test('a truncate and rewrite to the same size is seen', async (t) => {
  const file = fileWith('truncated', 'some bytes here');
  const before = fileIdentity(file);
  await nextClockTick();
  fs.truncateSync(file, 0);
  fs.writeFileSync(file, 'SOME bytes here');
  const after = fileIdentity(file);
  t.is(after.size, before.size);
  t.not(after.sha256, before.sha256);
});

test('a hard link moves only ctime: hashed again, the same content, the same mtime', (t) => {
  const file = fileWith('linked', 'linked contents');
  const before = fileIdentity(file);
  fs.linkSync(file, path.join(dir, 'linked-again'));
  const after = fileIdentity(file);
  t.deepEqual(after, before);
});

test('a file replaced by a rename is seen by its inode and content', (t) => {
  const file = fileWith('renamed', 'first');
  const before = fileIdentity(file);
  fs.renameSync(fileWith('renamed-new', 'other'), file);
  const after = fileIdentity(file);
  t.not(after.ino, before.ino);
  t.is(after.sha256, sha(file));
});
