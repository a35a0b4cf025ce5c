// seccomp(2): installing a compiled BPF filter on the calling thread.
import { lib, raw, lastErrno } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { SYS } from './constants.js';

const SECCOMP_SET_MODE_FILTER = 1;
const sysSeccomp = lib.func('long syscall(long nr, unsigned int op, unsigned int flags, void *args)');

/** Installs a filter (struct sock_filter[] bytes) on the calling thread; it is inherited across execve. */
export function installSeccompFilter(program: Buffer, opts: { flags?: number } = {}): void {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`seccomp program must be a non-empty multiple of 8 bytes, got ${program.length}`);
  // Filter bytes live in libc memory: the kernel copies them during the call, but V8 may move a Buffer.
  const filter = raw.malloc(program.length);
  try {
    new Uint8Array(koffiView(filter, program.length)).set(program);
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    const fprog = Buffer.alloc(16);
    fprog.writeUInt16LE(program.length / 8, 0);
    fprog.writeBigUInt64LE(koffiAddress(filter), 8);
    const rc = Number(sysSeccomp(SYS.seccomp, SECCOMP_SET_MODE_FILTER, opts.flags ?? 0, fprog));
    if (rc < 0) throw new SyscallError('seccomp', lastErrno(), `SECCOMP_SET_MODE_FILTER (${program.length / 8} instructions)`);
  } finally {
    raw.free(filter);
  }
}

import { koffi } from './libc.js';
const koffiView = (p: unknown, n: number) => koffi.view(p, n);
const koffiAddress = (p: unknown) => koffi.address(p);
