// Process creation, waiting and signalling. The one unusual piece is cloneExec: a way to start a
// process in new namespaces from a multithreaded Node process without running JavaScript in the
// child (see its comment).
import { koffi, raw, check, lastErrno } from './libc.js';
import { InvalidArgumentError, SyscallError, UnsupportedHostError } from './syscall-error.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { CLD_EXITED, F, P_PIDFD, PR, WAIT } from '../../policy/kernel/process-control.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { AT_EMPTY_PATH } from '../../policy/kernel/mount-flags.js';
import { SIGNALS, signalName } from '../../policy/kernel/signals.js';
import { errnoName } from '../../policy/kernel/errno.js';

export interface ClonedProcess {
  pid: number;
  /** A pidfd for the child: signals through it cannot hit a recycled pid. */
  pidfd: number;
}

export interface CloneExecRequest {
  path: string;
  argv: string[];
  envp: string[];
  /** CLONE_NEW* flags. */
  namespaceFlags: number;
  /** Descriptors the child must inherit; everything else stays close-on-exec. */
  inheritFds: number[];
  /**
   * Before exec, the child blocks reading one byte from this descriptor, then becomes uid 0 and
   * gid 0 of its user namespace. The parent writes its id maps in the meantime, so the program
   * is exec'd as the namespace's root and keeps its capabilities there. Inherited, like inheritFds.
   */
  waitFd?: number;
  /**
   * Becomes the child's descriptor 2 before exec, so what the program writes there before it sets
   * up its own stdio (Node's "Cannot find module", a crash) reaches the parent. Inherited.
   */
  stderrFd?: number;
  /**
   * Become the child's descriptors 0 and 1 before exec, as stderrFd becomes 2: a child exec'd
   * into another mount namespace may find no /dev/null there for Node to put on a closed one. Inherited.
   */
  stdinFd?: number;
  stdoutFd?: number;
  /**
   * Right after the read of waitFd, before becoming uid 0 and gid 0: setns(pidfd, flags), joining
   * the namespaces of the process behind pidfd in one call (Linux 5.8+: all or none, the user
   * namespace first). A chain cannot branch, so a refused join does not stop the exec: the program
   * exec'd must check where it is before it does anything else (core/container-exec.ts).
   * Needs waitFd. The pidfd is inherited.
   */
  join?: { pidfd: number; flags: number };
  /**
   * Namespace descriptors the child enters with setns(fd, nstype), in this order, right after its
   * descriptors are in place and before the read of waitFd: a container's joined mount, cgroup and
   * time namespaces, which a multithreaded process cannot enter itself. As with join, a refused
   * setns does not stop the chain; the program exec'd checks where it is (core/setup-steps.ts,
   * verify-joined-namespaces). The descriptors are inherited and close at exec (close-on-exec).
   */
  setnsBefore?: { fd: number; nstype: number }[];
  /**
   * Namespace descriptors entered, in this order, by a process of its own before the program's
   * process exists, which that process then clones with namespaceFlags (core/native/joining-clone.ts):
   * a joined user namespace must be entered before the namespaces created inside it, and a
   * namespace joined beside a new user namespace before that one exists. Only cloneExecJoining takes it.
   */
  joinFirst?: { fd: number; nstype: number }[];
  /**
   * Execute this descriptor (execveat(2) AT_EMPTY_PATH) instead of looking `path` up, which then
   * only names it in errors. It stays close-on-exec: the program does not inherit it.
   */
  execFd?: number;
}

// x86_64 glibc ucontext_t layout (sys/ucontext.h); checked by test/core/clone-exec.test.ts.
const UCONTEXT_SIZE = 968;
const UC_LINK_OFFSET = 8;
const UC_STACK_SP_OFFSET = 16;
const UC_STACK_SIZE_OFFSET = 32;
const SIGMASK_OFFSET = 296;
export const LINK_STACK_SIZE = 16 * 1024;
/** Exit code of a child whose execve failed. */
export const EXEC_FAILED_EXIT_CODE = 127;

const X_OK = 1;

function assertExecutable(path: string): void {
  if (raw.access(path, X_OK) !== 0) throw new SyscallError('execve', lastErrno(), path, 'the program to start is missing or not executable');
}

type Symbol = unknown;
let symbols: Record<'setcontext' | 'syscall' | 'execve' | '_exit' | 'clone', Symbol> | undefined;


/** Fails loudly where the contract of cloneExec has not been verified. */
export function assertCloneExecSupported(): void {
  if (process.arch !== 'x64') {
    throw new UnsupportedHostError(`nsrig's launcher supports x86_64 only (this is ${process.arch}): cloneExec relies on x86_64 glibc's ucontext layout`);
  }
  const version = raw.gnuGetLibcVersion() as string;
  const [major, minor] = version.split('.').map(Number);
  if (major !== 2 || minor < 28) throw new UnsupportedHostError(`nsrig's launcher needs glibc >= 2.28, found ${version}`);
}

export function resolveSymbols(): NonNullable<typeof symbols> {
  if (symbols) return symbols;
  assertCloneExecSupported();
  const names = ['setcontext', 'syscall', 'execve', '_exit', 'clone'] as const;
  const found = Object.fromEntries(names.map((n) => [n, raw.dlsym(null, n)]));
  const missing = names.filter((n) => !found[n]);
  if (missing.length) throw new UnsupportedHostError(`dlsym could not find ${missing.join(', ')} in libc`);
  symbols = found as NonNullable<typeof symbols>;
  return symbols;
}

/** libc-malloc'd memory: the child reads it after clone, and V8's heap is not inherited (MADV_DONTFORK). */
export class NativeArena {
  private readonly blocks: unknown[] = [];
  alloc(size: number): { ptr: unknown; address: bigint; view: DataView } {
    const ptr = raw.malloc(size);
    if (!ptr) throw new SyscallError('malloc', 12, `${size} bytes`);
    this.blocks.push(ptr);
    return { ptr, address: koffi.address(ptr), view: new DataView(koffi.view(ptr, size)) };
  }
  cString(s: string): bigint {
    const bytes = Buffer.from(s + '\0', 'utf8');
    const block = this.alloc(bytes.length);
    new Uint8Array(block.view.buffer).set(bytes);
    return block.address;
  }
  cStringArray(items: string[]): bigint {
    const block = this.alloc(8 * (items.length + 1));
    items.forEach((s, i) => block.view.setBigUint64(8 * i, this.cString(s), true));
    block.view.setBigUint64(8 * items.length, 0n, true);
    return block.address;
  }
  free(): void {
    for (const b of this.blocks) raw.free(b);
    this.blocks.length = 0;
  }
}

export interface ChainLink {
  fn: Symbol;
  args: bigint[];
}

/**
 * A chain of libc calls for the child, as ucontexts linked by uc_link: makecontext arranges that
 * when one call returns, glibc's context trampoline setcontext()s into the next. Each link has its
 * own stack and blocks every signal, so no handler inherited from Node can run in the child.
 */
export function buildChain(arena: NativeArena, links: ChainLink[]): unknown {
  let next: unknown = null;
  for (const link of [...links].reverse()) {
    const uc = arena.alloc(UCONTEXT_SIZE);
    check(raw.getcontext(uc.ptr) as number, 'getcontext');
    const stack = arena.alloc(LINK_STACK_SIZE);
    uc.view.setBigUint64(UC_STACK_SP_OFFSET, stack.address, true);
    uc.view.setBigUint64(UC_STACK_SIZE_OFFSET, BigInt(LINK_STACK_SIZE), true);
    uc.view.setBigUint64(UC_LINK_OFFSET, next === null ? 0n : koffi.address(next), true);
    for (let i = 0; i < 128; i += 8) uc.view.setBigUint64(SIGMASK_OFFSET + i, 0xffffffffffffffffn, true);
    raw.makecontext(uc.ptr, link.fn, link.args.length, ...link.args.flatMap((a) => ['uint64_t', a]));
    next = uc.ptr;
  }
  return next;
}

/**
 * The program's chain, from its first link to execve and _exit(127) (cloneExec's comment): what
 * the cloned child runs, whoever clones it.
 */
export function programLinks(request: CloneExecRequest, sym: ReturnType<typeof resolveSymbols>, arena: NativeArena): ChainLink[] {
  // Raw syscalls, not glibc's wrappers: those consult thread state copied from Node's threads
  // (cancellation, and the setxid broadcast, which waits forever on a thread that was being
  // created at the moment of clone).
  const parentDeathSignal: ChainLink = { fn: sym.syscall, args: [BigInt(NR.prctl), BigInt(PR.SET_PDEATHSIG), BigInt(SIGNALS.SIGKILL), 0n, 0n, 0n] };
  const links: ChainLink[] = [parentDeathSignal];
  // A joining child is a copy of nsrig's memory holding host descriptors: not dumpable, so that
  // once it is in a user namespace others are in (the container's, a joined one) no process there may ptrace it or open its
  // /proc/PID files (proc(5), ptrace access mode checks). execve resets it: the program exec'd
  // must keep itself out of reach (core/stage2-executable.ts).
  if (request.join || request.joinFirst) links.push({ fn: sym.syscall, args: [BigInt(NR.prctl), BigInt(PR.SET_DUMPABLE), 0n, 0n, 0n, 0n] });
  if (request.join && request.waitFd === undefined) throw new InvalidArgumentError('cloneExec: join needs waitFd (the joined ids are set after the wait)');
  const keep = [...request.inheritFds, ...(request.setnsBefore ?? []).map((s) => s.fd),
    ...[request.waitFd, request.stdinFd, request.stdoutFd, request.stderrFd, request.join?.pidfd, request.execFd].filter((fd): fd is number => fd !== undefined)];
  for (const [first, last] of descriptorGaps(keep)) links.push({ fn: sym.syscall, args: [BigInt(NR.close_range), BigInt(first), BigInt(last), 0n] });
  for (const [fd, to] of [[request.stdinFd, 0n], [request.stdoutFd, 1n], [request.stderrFd, 2n]] as const) {
    if (fd !== undefined && BigInt(fd) !== to) links.push({ fn: sym.syscall, args: [BigInt(NR.dup3), BigInt(fd), to, 0n] });
  }
  for (const { fd, nstype } of request.setnsBefore ?? []) links.push({ fn: sym.syscall, args: [BigInt(NR.setns), BigInt(fd), BigInt(nstype)] });
  if (request.waitFd !== undefined) {
    const scratch = arena.alloc(8);
    links.push({ fn: sym.syscall, args: [BigInt(NR.read), BigInt(request.waitFd), scratch.address, 1n] });
    if (request.join) links.push({ fn: sym.syscall, args: [BigInt(NR.setns), BigInt(request.join.pidfd), BigInt(request.join.flags)] });
    links.push({ fn: sym.syscall, args: [BigInt(NR.setresgid), 0n, 0n, 0n] });
    links.push({ fn: sym.syscall, args: [BigInt(NR.setresuid), 0n, 0n, 0n] });
    links.push(parentDeathSignal);
  }
  const argv = arena.cStringArray(request.argv);
  const envp = arena.cStringArray(request.envp);
  links.push(request.execFd === undefined
    ? { fn: sym.execve, args: [arena.cString(request.path), argv, envp] }
    : { fn: sym.syscall, args: [BigInt(NR.execveat), BigInt(request.execFd), arena.cString(''), argv, envp, BigInt(AT_EMPTY_PATH)] });
  links.push({ fn: sym._exit, args: [BigInt(EXEC_FAILED_EXIT_CODE)] });
  return links;
}

/**
 * Starts `path` in a new process with the given namespace flags; no JavaScript runs in the child.
 *
 * V8 marks its heap MADV_DONTFORK, so a forked Node child cannot touch JS objects, and a
 * multithreaded process may not unshare(CLONE_NEWUSER). clone() of a new process can take
 * CLONE_NEWUSER, but glibc's clone wrapper calls fn(arg) in the child. We make fn libc's
 * setcontext and arg the head of a chain of libc calls built with makecontext:
 * prctl(PR_SET_PDEATHSIG) -> [prctl(PR_SET_DUMPABLE, 0) ->] close_range(what is not inherited) -> [setns(each of setnsBefore) ->]
 * [read(waitFd) -> [setns(join.pidfd) ->] setresgid(0) -> setresuid(0) -> prctl(PR_SET_PDEATHSIG) ->]
 * execve(path, argv, envp) -> _exit(127), all but the last two as raw syscall(2)s.
 * Only libc runs in the child, on libc-malloc'd memory. The chain's _exit(127) runs only when
 * execve fails, so 127 means "could not execute", as in a shell.
 *
 * A child of a killed nsrig must not outlive it. The parent-death signal kills it when the thread that
 * cloned it dies (prctl(2)); if the parent died before that first link ran, nothing would signal
 * it, so it also closes the parent's descriptors it holds: the wait pipe's write end among them,
 * so read() returns end-of-file once the parent is gone instead of blocking forever, and the
 * chain runs on into a stage 2 that finds no plan and exits. A uid or gid change clears the
 * parent-death signal (prctl(2)), so it is set again after setresuid.
 */
export function cloneExec(request: CloneExecRequest): ClonedProcess {
  if (request.joinFirst) throw new InvalidArgumentError('cloneExec: joinFirst is taken by cloneExecJoining');
  const sym = resolveSymbols();
  if (request.execFd === undefined) assertExecutable(request.path);
  const arena = new NativeArena();
  const cleared: number[] = [];
  let oldMask: Buffer | undefined;
  try {
    const head = buildChain(arena, programLinks(request, sym, arena));
    const cloneStack = arena.alloc(LINK_STACK_SIZE);
    const cloneStackTop = (cloneStack.address + BigInt(LINK_STACK_SIZE - 64)) & ~15n;

    for (const fd of request.inheritFds) {
      setCloseOnExec(fd, false);
      cleared.push(fd);
    }
    oldMask = blockAllSignals();
    const pidfdOut = new Int32Array(1);
    const flags = request.namespaceFlags | CLONE.PIDFD | SIGNALS.SIGCHLD;
    const pid = raw.clone(sym.setcontext, cloneStackTop, flags, head, 'int *', pidfdOut) as number;
    const errno = lastErrno();
    restoreSignals(oldMask);
    oldMask = undefined;
    if (pid === -1) throw new SyscallError('clone', errno, request.path, cloneHint(errno, request.namespaceFlags));
    return { pid, pidfd: pidfdOut[0] };
  } finally {
    if (oldMask) restoreSignals(oldMask);
    for (const fd of cleared) setCloseOnExec(fd, true);
    // The child has its own copy of this memory (no CLONE_VM), so ours can go at once.
    arena.free();
  }
}

const LAST_FD = 0xffffffff;

/** The ranges from 3 up that hold none of `keep`: what the child closes (stdio stays). */
export function descriptorGaps(keep: number[]): [number, number][] {
  const gaps: [number, number][] = [];
  let next = 3;
  for (const fd of [...new Set(keep)].filter((fd) => fd >= 3).sort((a, b) => a - b)) {
    if (fd > next) gaps.push([next, fd - 1]);
    next = fd + 1;
  }
  gaps.push([next, LAST_FD]);
  return gaps;
}

function cloneHint(errno: number, flags: number): string | undefined {
  if (errno === 1 && flags & CLONE.NEWUSER) return 'creating namespaces needs root or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone)';
  if (errno === 28) return 'a namespace limit was reached (see /proc/sys/user/max_*_namespaces)';
  return undefined;
}

const SIG_BLOCK = 0;
const SIG_SETMASK = 2;

export function blockAllSignals(): Buffer {
  const all = Buffer.alloc(128, 0xff);
  const old = Buffer.alloc(128);
  const rc = raw.sigprocmask(SIG_BLOCK, all, old) as number;
  if (rc !== 0) throw new SyscallError('pthread_sigmask', rc);
  return old;
}

export function restoreSignals(old: Buffer): void {
  raw.sigprocmask(SIG_SETMASK, old, null);
}

export function setCloseOnExec(fd: number, on: boolean): void {
  const flags = check(raw.fcntl(fd, F.GETFD, 'int', 0) as number, 'fcntl F_GETFD', `fd ${fd}`);
  const next = on ? flags | F.FD_CLOEXEC : flags & ~F.FD_CLOEXEC;
  if (next !== flags) check(raw.fcntl(fd, F.SETFD, 'int', next) as number, 'fcntl F_SETFD', `fd ${fd}`);
}

/** A close-on-exec copy of fd at the lowest free number (fcntl F_DUPFD_CLOEXEC). */
export function duplicateCloseOnExec(fd: number): number {
  return check(raw.fcntl(fd, F.DUPFD_CLOEXEC, 'int', 3) as number, 'fcntl F_DUPFD_CLOEXEC', `fd ${fd}`);
}

/**
 * close(2). Linux releases the descriptor whatever close reports, so only EBADF is an error: the
 * number was not open, a second close of it (which could have closed someone else's descriptor).
 * EINTR or EIO come after the descriptor is gone; retrying or throwing then would be wrong.
 */
export function closeFd(fd: number): void {
  if ((raw.close(fd) as number) !== -1) return;
  const errno = lastErrno();
  if (errnoName(errno) === 'EBADF') throw new SyscallError('close', errno, `fd ${fd}`);
}

/** A pipe whose both ends are close-on-exec: [read, write]. */
export function makePipe(): [number, number] {
  const fds = new Int32Array(2);
  check(raw.pipe2(fds, 0o2000000) as number, 'pipe2');
  return [fds[0], fds[1]];
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export function describeExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `code ${e.code}`;
}


function decodeSiginfo(info: Uint8Array): ExitInfo | undefined {
  const view = new DataView(info.buffer, info.byteOffset, info.byteLength);
  const pid = view.getInt32(16, true);
  if (pid === 0) return undefined;
  const code = view.getInt32(8, true);
  const status = view.getInt32(24, true);
  return code === CLD_EXITED ? { code: status, signal: null } : { code: null, signal: signalName(status) };
}

/** Has the process behind pidfd exited? Does not reap it. */
export function pollExit(pidfd: number): ExitInfo | undefined {
  const info = new Uint8Array(128);
  check(raw.waitid(P_PIDFD, pidfd, info, WAIT.WEXITED | WAIT.WNOHANG | WAIT.WNOWAIT) as number, 'waitid', `pidfd ${pidfd}`);
  return decodeSiginfo(info);
}

const POLLIN = 1;

/**
 * Has the process behind pidfd exited (a zombie included)? Unlike pollExit, also for a process that
 * is not this one's child (waitid refuses those): its pidfd polls readable once it has (pidfd_open(2)).
 */
export function pidfdExited(pidfd: number): boolean {
  // struct pollfd { int fd; short events; short revents; }
  const entry = new DataView(new ArrayBuffer(8));
  entry.setInt32(0, pidfd, true);
  entry.setInt16(4, POLLIN, true);
  const bytes = new Uint8Array(entry.buffer);
  check(raw.poll(bytes, 1, 0) as number, 'poll', `pidfd ${pidfd}`);
  return (new DataView(bytes.buffer).getInt16(6, true) & POLLIN) !== 0;
}

/** Resolves once the process behind pidfd has exited, any process, not only a child; reaps nothing. */
export function whenExited(pidfd: number): Promise<void> {
  return new Promise((resolve) => {
    if (pidfdExited(pidfd)) {
      resolve();
      return;
    }
    const handle = koffi.node.poll(pidfd, { readable: true }, () => {
      handle.close();
      resolve();
    });
  });
}

/** Reaps an exited process; returns undefined while it still runs. */
export function reap(pidfd: number): ExitInfo | undefined {
  const info = new Uint8Array(128);
  check(raw.waitid(P_PIDFD, pidfd, info, WAIT.WEXITED | WAIT.WNOHANG) as number, 'waitid', `pidfd ${pidfd}`);
  return decodeSiginfo(info);
}

/** Resolves when the process behind pidfd exits (pidfds poll readable then), reaping it. */
export function waitForExit(pidfd: number): Promise<ExitInfo> {
  return new Promise((resolve, reject) => {
    const handle = koffi.node.poll(pidfd, { readable: true }, () => {
      try {
        const exit = reap(pidfd);
        if (!exit) return;
        handle.close();
        resolve(exit);
      } catch (e) {
        handle.close();
        reject(e);
      }
    });
  });
}


/** A pidfd for an existing process (pidfd_open); close-on-exec, as every pidfd is. */
export function openPidfd(pid: number): number {
  const rc = Number(raw.pidfdOpenSyscall(NR.pidfd_open, pid, 0));
  if (rc === -1) throw new SyscallError('pidfd_open', lastErrno(), `pid ${pid}`);
  return rc;
}

/** Signals through a pidfd; ESRCH (already gone) is not an error. */
export function signalPidfd(pidfd: number, signal: NodeJS.Signals | number): void {
  const signo = typeof signal === 'number' ? signal : SIGNALS[signal];
  if (signo === undefined) throw new InvalidArgumentError(`unknown signal ${signal}; expected a name such as SIGTERM or a number`);
  const rc = Number(raw.pidfdSendSignalSyscall(NR.pidfd_send_signal, pidfd, signo, null, 0));
  if (rc === -1) {
    const errno = lastErrno();
    if (errno !== 3) throw new SyscallError('pidfd_send_signal', errno, `${signalName(signo)}`);
  }
}

export function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) {
    const n = Number(check(raw.write(fd, data.subarray(off), data.length - off) as number, 'write', `fd ${fd}`));
    off += n;
  }
}

export function readSome(fd: number, max = 65536): Buffer {
  const buf = Buffer.alloc(max);
  const n = Number(check(raw.read(fd, buf, max) as number, 'read', `fd ${fd}`));
  return buf.subarray(0, n);
}
