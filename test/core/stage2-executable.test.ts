// The engine's exec runs stage 2 from a sealed, execute-only memfd copy of Node
// (core/stage2-executable.ts): the bytes are the host's Node, nobody may change them, and the mode
// leaves no reader, which is what makes execve(2) mark the joining process non-dumpable.
import test from 'ava';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { sealedNodeCopy } from '../../core/stage2-executable.js';
import { sealsOf } from '../../core/native/system.js';
import { F_SEAL } from '../../policy/kernel/process-control.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

test('the copy is the host\'s Node, byte for byte, made once per process', (t) => {
  const fd = sealedNodeCopy();
  t.is(sealedNodeCopy(), fd, 'one copy, kept');
  // Host root reads it despite mode 0111 (CAP_DAC_OVERRIDE), through a fresh open of the memfd.
  t.is(sha256(fs.readFileSync(`/proc/self/fd/${fd}`)), sha256(fs.readFileSync(process.execPath)));
});

test('the copy is execute-only and sealed against every change', (t) => {
  const fd = sealedNodeCopy();
  const stat = fs.fstatSync(fd);
  t.is(stat.mode & 0o7777, 0o111);
  t.is(stat.uid, 0);
  const all = F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE;
  t.is(sealsOf(fd) & all, all);
  const writable = fs.openSync(`/proc/self/fd/${fd}`, 'r+');
  try {
    t.throws(() => fs.writeSync(writable, Buffer.from('x'), 0, 1, 0), { code: 'EPERM' });
    t.throws(() => fs.ftruncateSync(writable, 0), { code: 'EPERM' });
  } finally {
    fs.closeSync(writable);
  }
});
