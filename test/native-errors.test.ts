import test from 'ava';
import { SyscallError } from '../core/native/syscall-error.js';

test('SyscallError names the call, the object and the errno', (t) => {
  const e = new SyscallError('mount', 1, '/proc');
  t.is(e.message, 'mount /proc: EPERM (Operation not permitted)');
  t.is(e.code, 'EPERM');
  t.is(e.errno, 1);
});
