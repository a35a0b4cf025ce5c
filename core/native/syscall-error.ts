import { describeErrno, errnoName } from '../../policy/kernel/errno.js';

/**
 * A failed libc call: which call, its errno, and the object it acted on, so the message alone
 * tells a person what to fix ("mount /proc: EPERM (Operation not permitted)").
 */
export class SyscallError extends Error {
  readonly call: string;
  readonly errno: number;
  readonly code: string;
  readonly object: string | undefined;

  constructor(call: string, errno: number, object?: string, hint?: string) {
    const code = errnoName(errno);
    const where = object === undefined ? call : `${call} ${object}`;
    super(`${where}: ${code} (${describeErrno(errno)})${hint ? ` — ${hint}` : ''}`);
    this.name = 'SyscallError';
    this.call = call;
    this.errno = errno;
    this.code = code;
    this.object = object;
  }
}
