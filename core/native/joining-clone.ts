// cloneExec through a joining process: for a container that joins a user namespace, or joins any
// namespace beside a new user namespace. The namespaces it creates must belong to the joined user
// namespace (so its root can administer them), and one joined beside a new user namespace must be
// entered while the host's root still holds its capabilities over it: either way every join comes
// before the clone that creates the rest. A multithreaded Node may not enter a user namespace, and
// a chain of libc calls cannot branch on a clone's result, so a second chain does it: a process of
// its own enters the namespaces in order, then clones the program's process with CLONE_PARENT (so
// nsrig is its parent, reaps it and is signalled for it; runc's nsexec clones its stages the same
// way), and holds until nsrig has read which process that is: the pidfd the clone left in its
// descriptor table names the pid in /proc/PID/fdinfo.
import fs from 'node:fs';
import { koffi, raw, lastErrno } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { P_PIDFD, PR, WAIT } from '../../policy/kernel/process-control.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import {
  blockAllSignals, buildChain, closeFd, descriptorGaps, LINK_STACK_SIZE, makePipe, NativeArena, openPidfd, programLinks,
  resolveSymbols, restoreSignals, setCloseOnExec, type ChainLink, type ClonedProcess, type CloneExecRequest,
} from './process.js';

/**
 * Starts the program as cloneExec does, in request.namespaceFlags, after a joining process entered
 * request.joinFirst in order; request.setnsBefore must be empty (those joins belong in joinFirst).
 * A refused setns does not stop the chain (it cannot branch): the program checks where it is.
 */
export function cloneExecJoining(request: CloneExecRequest): ClonedProcess {
  const joins = request.joinFirst ?? [];
  const sym = resolveSymbols();
  const arena = new NativeArena();
  const [readyRead, readyWrite] = makePipe();
  const [holdRead, holdWrite] = makePipe();
  const open = new Set([readyRead, readyWrite, holdRead, holdWrite]);
  const close = (fd: number) => {
    if (open.delete(fd)) closeFd(fd);
  };
  const cleared: number[] = [];
  let oldMask: Buffer | undefined;
  let joinerPidfd: number | undefined;
  try {
    const programHead = buildChain(arena, programLinks(request, sym, arena));
    const programStack = arena.alloc(LINK_STACK_SIZE);
    const pidfdSlot = arena.alloc(8);
    const scratch = arena.alloc(8);
    const call = (nr: number, ...args: bigint[]): ChainLink => ({ fn: sym.syscall, args: [BigInt(nr), ...args] });
    const keep = [...request.inheritFds, ...joins.map((j) => j.fd), readyWrite, holdRead,
      ...[request.waitFd, request.stdinFd, request.stdoutFd, request.stderrFd, request.execFd].filter((fd): fd is number => fd !== undefined)];
    const links: ChainLink[] = [
      call(NR.prctl, BigInt(PR.SET_PDEATHSIG), BigInt(SIGNALS.SIGKILL), 0n, 0n, 0n),
      // A copy of nsrig's memory holding host descriptors, soon in a user namespace others may share.
      call(NR.prctl, BigInt(PR.SET_DUMPABLE), 0n, 0n, 0n, 0n),
      ...descriptorGaps(keep).map(([first, last]) => call(NR.close_range, BigInt(first), BigInt(last), 0n)),
      ...joins.map(({ fd, nstype }) => call(NR.setns, BigInt(fd), BigInt(nstype))),
      // glibc's clone: the child runs setcontext(programHead), this process goes on to the next link.
      { fn: sym.clone, args: [koffi.address(sym.setcontext), stackTop(programStack.address), BigInt(CLONE.PARENT | CLONE.PIDFD | request.namespaceFlags), koffi.address(programHead), pidfdSlot.address] },
      call(NR.write, BigInt(readyWrite), scratch.address, 1n),
      // Held until nsrig has read the pidfd's pid; end-of-file (nsrig closed its end, or died) lets it go.
      call(NR.read, BigInt(holdRead), scratch.address, 1n),
    ];
    links.push({ fn: sym._exit, args: [0n] });
    const head = buildChain(arena, links);
    const joinerStack = arena.alloc(LINK_STACK_SIZE);
    for (const fd of request.inheritFds) {
      setCloseOnExec(fd, false);
      cleared.push(fd);
    }
    oldMask = blockAllSignals();
    const pidfdOut = new Int32Array(1);
    const joiner = raw.clone(sym.setcontext, stackTop(joinerStack.address), CLONE.PIDFD | SIGNALS.SIGCHLD!, head, 'int *', pidfdOut) as number;
    const errno = lastErrno();
    restoreSignals(oldMask);
    oldMask = undefined;
    if (joiner === -1) throw new SyscallError('clone', errno, request.path, 'the process that joins the namespaces first');
    joinerPidfd = pidfdOut[0];
    close(readyWrite);
    close(holdRead);
    const ready = Buffer.alloc(1);
    const cloned = fs.readSync(readyRead, ready, 0, 1, null) === 1;
    const pid = cloned ? clonedPid(joiner) : undefined;
    if (pid === undefined) {
      throw new SyscallError('clone', 0, request.path,
        `the joining process (pid ${joiner}) could not clone it in the joined namespaces: a namespace limit (user/max_*_namespaces), `
        + 'or a joined user namespace that holds no capability over a namespace it was to join');
    }
    // nsrig is its parent (CLONE_PARENT): nobody else can reap it, so the pid cannot be recycled before this open.
    return { pid, pidfd: openPidfd(pid) };
  } finally {
    if (oldMask) restoreSignals(oldMask);
    for (const fd of cleared) setCloseOnExec(fd, true);
    [...open].forEach(close);
    if (joinerPidfd !== undefined) {
      // It exits on the end-of-file just made; reaping it here leaves no zombie behind.
      raw.waitid(P_PIDFD, joinerPidfd, new Uint8Array(128), WAIT.WEXITED);
      closeFd(joinerPidfd);
    }
    arena.free();
  }
}

/** The pid of the process behind the pidfd the joining process holds, read from its fdinfo (in nsrig's pid namespace). */
function clonedPid(joiner: number): number | undefined {
  for (const fd of fs.readdirSync(`/proc/${joiner}/fd`)) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/${joiner}/fd/${fd}`);
    } catch {
      continue;
    }
    if (link !== 'anon_inode:[pidfd]') continue;
    const line = fs.readFileSync(`/proc/${joiner}/fdinfo/${fd}`, 'utf8').split('\n').find((l) => l.startsWith('Pid:'));
    const pid = Number(line?.slice(4).trim());
    if (Number.isSafeInteger(pid) && pid > 0) return pid;
  }
  return undefined;
}

const stackTop = (address: bigint) => (address + BigInt(LINK_STACK_SIZE - 64)) & ~15n;
