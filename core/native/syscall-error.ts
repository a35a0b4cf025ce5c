import { errnoName } from './errno.js';

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

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted', ENOENT: 'No such file or directory', ESRCH: 'No such process',
  EINTR: 'Interrupted system call', EIO: 'Input/output error', EBADF: 'Bad file descriptor',
  ECHILD: 'No child processes', EAGAIN: 'Resource temporarily unavailable', ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied', EFAULT: 'Bad address', EBUSY: 'Device or resource busy', EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link', ENODEV: 'No such device', ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory', EINVAL: 'Invalid argument', EMFILE: 'Too many open files', ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system', ENAMETOOLONG: 'File name too long', ENOSYS: 'Function not implemented',
  ELOOP: 'Too many levels of symbolic links', EOPNOTSUPP: 'Operation not supported', EADDRINUSE: 'Address already in use',
  ECONNREFUSED: 'Connection refused', ENETUNREACH: 'Network is unreachable', EUSERS: 'Too many users', E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error', ETXTBSY: 'Text file busy', ENOTEMPTY: 'Directory not empty',
};

function describeErrno(errno: number): string {
  return DESCRIPTIONS[errnoName(errno)] ?? `errno ${errno}`;
}
