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

/** This machine lacks something nsrig's native layer is built on (Linux, x86_64, glibc >= 2.28, a libc symbol). */
export class UnsupportedHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedHostError';
  }
}

/** The kernel answered, but not in a way nsrig can use (a malformed netlink reply, a link that never runs). */
export class KernelAnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelAnswerError';
  }
}

/** A value handed to a native call that it cannot take; says which argument and what it accepts. */
export class InvalidArgumentError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}

/** A call on a handle that cannot take it now: closed, or busy with another request. */
export class HandleStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HandleStateError';
  }
}
