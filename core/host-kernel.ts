// The kernel calls the harness makes on its own (its probes, host facts, host checks and
// invariants), as core's API: nothing outside core/ imports core/native/. Every function takes and
// returns plain values (numbers, strings, typed records), never a pointer or a buffer the kernel
// would read; a probe's attempts return the errno as data, the rest throw SyscallError.
import { rawSyscall, type RawSyscallResult } from './native/seccomp.js';
import { seize } from './native/ptrace.js';
import { SyscallError } from './native/syscall-error.js';
import { makeNode } from './native/mount.js';

export { interfaceFlags, owningUserNamespace } from './native/system.js';
export { sysvGet, sysvRemove, mqueueOpen, mqueueRemove, type SysvKind } from './native/ipc.js';
export { seccompActionAvailable } from './native/seccomp.js';
export {
  addPossessorOnlyKey, describeKeyErrno, invalidateKey, joinNewSessionKeyring, searchSessionKeyringErrno, sessionKeyringSerial,
} from './native/keyring.js';
export { mount, setPropagation, unmountDetached } from './native/mount.js';
export { assertCloneExecSupported, cloneExec, closeFd, makePipe, openPidfd, signalPidfd, waitForExit, whenExited } from './native/process.js';
export { becomeChildSubreaper } from './native/identity.js';
export { acceptUnix, listenUnix, ptyNumber, receiveFd } from './native/terminal.js';

/** A system call by number with integer arguments only (a probe's attempt): its result and errno, never thrown. */
export function trySyscall(nr: number, args: readonly number[] = []): RawSyscallResult {
  return rawSyscall(nr, ...args);
}

/**
 * PTRACE_SEIZE of pid without options: the errno it met, 0 when it succeeded. The tracee is not
 * stopped, and is detached when the caller exits.
 */
export function ptraceSeizeErrno(pid: number): number {
  return errnoOf(() => seize(pid, 0));
}

/** mknod(2) of a character device node with mode 0666: the errno it met, 0 when it was made. */
export function makeCharDeviceErrno(path: string, major: number, minor: number): number {
  return errnoOf(() => makeNode(path, 'c', 0o666, major, minor));
}

function errnoOf(call: () => void): number {
  try {
    call();
    return 0;
  } catch (e) {
    if (e instanceof SyscallError) return e.errno;
    throw e;
  }
}
