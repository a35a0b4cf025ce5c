// The remaining per-process setup calls: UTS names, namespaces, rlimits, loopback, descriptors,
// signal state and execve.
import fs from 'node:fs';
import { raw, check, lastErrno } from './libc.js';
import { InvalidArgumentError, SyscallError } from './syscall-error.js';
import { CLOSE_RANGE_CLOEXEC, F, F_SEAL, MFD, NS_GET_NSTYPE, NS_GET_USERNS, O, PERSONALITY } from '../../policy/kernel/process-control.js';
import { rawSyscall } from './seccomp.js';
import { RLIM_INFINITY, RLIMIT_NUMBERS } from '../../policy/kernel/rlimits.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { setCloseOnExec } from './process.js';

export function setHostname(name: string): void {
  const bytes = Buffer.from(name, 'utf8');
  check(raw.sethostname(bytes, bytes.length) as number, 'sethostname', JSON.stringify(name));
}

export function setDomainname(name: string): void {
  const bytes = Buffer.from(name, 'utf8');
  check(raw.setdomainname(bytes, bytes.length) as number, 'setdomainname', JSON.stringify(name));
}

export function unshare(flags: number, what: string): void {
  check(raw.unshare(flags) as number, 'unshare', what);
}

export function setns(fd: number, nstype: number, what: string): void {
  check(raw.setns(fd, nstype) as number, 'setns', what);
}

/**
 * A close-on-exec handle on a namespace file such as /proc/thread-self/ns/net. Opened with open(2)
 * itself: Node closes what fs.openSync opened in a worker thread when that thread ends.
 */
export function openNamespace(path: string): number {
  return check(raw.open(path, O.RDONLY | O.CLOEXEC) as number, 'open', path);
}

/**
 * An O_PATH descriptor of a file or directory, close-on-exec. Handed to a child, /proc/self/fd/N
 * reaches it without searching the directories above it: the magic link jumps straight to the
 * open file (proc(5), /proc/pid/fd), so it works for a uid that could not walk the path.
 */
export function openPath(path: string): number {
  return check(raw.open(path, O.PATH | O.CLOEXEC) as number, 'open O_PATH', path);
}

/** The CLONE_NEW* type of the namespace at `path`; throws SyscallError (ENOTTY, EINVAL) when it is no namespace file. */
export function namespaceTypeAt(path: string): number {
  const fd = openNamespace(path);
  try {
    return check(raw.ioctl(fd, NS_GET_NSTYPE) as number, 'ioctl NS_GET_NSTYPE', path);
  } finally {
    raw.close(fd);
  }
}

/** The inode number (nsfs: the namespace's own) of the user namespace that owns the namespace at `path` (ioctl_ns(2) NS_GET_USERNS). */
export function owningUserNamespace(path: string): number {
  const fd = openNamespace(path);
  try {
    const owner = check(raw.ioctl(fd, NS_GET_USERNS) as number, 'ioctl NS_GET_USERNS', path);
    try {
      return fs.fstatSync(owner).ino;
    } finally {
      raw.close(owner);
    }
  } finally {
    raw.close(fd);
  }
}

/** Sets the execution domain, which execve keeps. */
export function setPersonality(domain: keyof typeof PERSONALITY): void {
  check(raw.personality(PERSONALITY[domain]) as number, 'personality', domain);
}

function rlimitValue(n: number): bigint {
  return n < 0 || !Number.isFinite(n) ? RLIM_INFINITY : BigInt(n);
}

export function setRlimit(name: string, soft: number, hard: number): void {
  const resource = RLIMIT_NUMBERS[name];
  if (resource === undefined) throw new InvalidArgumentError(`unknown rlimit ${name}; expected one of ${Object.keys(RLIMIT_NUMBERS).join(', ')}`);
  const limits = new BigUint64Array([rlimitValue(soft), rlimitValue(hard)]);
  check(raw.prlimit(0, resource, limits, null) as number, 'prlimit', `${name} ${soft}/${hard}`);
}

const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;

/** Brings an interface up with SIOCSIFFLAGS, as ip(8) link set up would. */
export function bringInterfaceUp(name: string): void {
  const sock = check(raw.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number, 'socket', 'AF_INET for ioctl');
  try {
    // struct ifreq: char ifr_name[16]; union { short ifr_flags; ... } (40 bytes in all)
    const ifreq = Buffer.alloc(40);
    ifreq.write(name, 0, 15, 'utf8');
    check(raw.ioctl(sock, SIOCGIFFLAGS, 'void *', ifreq) as number, 'ioctl SIOCGIFFLAGS', name);
    ifreq.writeInt16LE(ifreq.readInt16LE(16) | IFF_UP, 16);
    check(raw.ioctl(sock, SIOCSIFFLAGS, 'void *', ifreq) as number, 'ioctl SIOCSIFFLAGS', name);
  } finally {
    raw.close(sock);
  }
}

/** Interface flags (IFF_*) by SIOCGIFFLAGS, or undefined when there is no such interface. */
export function interfaceFlags(name: string): number | undefined {
  const sock = raw.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  if (sock < 0) return undefined;
  try {
    const ifreq = Buffer.alloc(40);
    ifreq.write(name, 0, 15, 'utf8');
    if ((raw.ioctl(sock, SIOCGIFFLAGS, 'void *', ifreq) as number) === -1) return undefined;
    return ifreq.readUInt16LE(16);
  } finally {
    raw.close(sock);
  }
}

/** Makes `to` a copy of `from` that survives execve (dup2 onto itself would keep close-on-exec). */
export function duplicateFd(from: number, to: number): void {
  if (from === to) return setCloseOnExec(to, false);
  check(raw.dup2(from, to) as number, 'dup2', `${from} -> ${to}`);
}


/** Marks every descriptor from `first` up close-on-exec, so exec leaves only 0..first-1 open. */
export function closeOnExecFrom(first: number): void {
  const rc = Number(raw.closeRangeSyscall(NR.close_range, first, 0xffffffff, CLOSE_RANGE_CLOEXEC));
  if (rc === -1) throw new SyscallError('close_range', lastErrno(), `${first}..`);
}


/**
 * Every signal back to its default action and none blocked, for the program. execve resets caught
 * signals itself, but an ignored one stays ignored: Node ignores SIGPIPE and SIGXFSZ, and whoever
 * started nsrig may have ignored others, real-time ones included, which Node does not reset. So
 * exactly the ignored ones are reset (caught ones keep their handlers, which glibc needs until
 * execve, e.g. SIGSETXID for setresuid). We also block everything around clone. The raw
 * rt_sigaction reaches 32 and 33, which glibc's wrappers refuse.
 */
export function resetSignalsForExec(): void {
  const defaultAction = Buffer.alloc(32); // struct kernel_sigaction: handler SIG_DFL, flags 0, restorer 0, mask 0
  const current = Buffer.alloc(32);
  const SIG_IGN = 1n;
  for (let sig = 1; sig <= 64; sig++) {
    if (sig === SIGNALS.SIGKILL || sig === SIGNALS.SIGSTOP) continue;
    if (Number(raw.rtSigactionSyscall(NR.rt_sigaction, sig, null, current, 8)) === -1) continue;
    if (current.readBigUInt64LE(0) !== SIG_IGN) continue;
    if (Number(raw.rtSigactionSyscall(NR.rt_sigaction, sig, defaultAction, null, 8)) === -1) {
      throw new SyscallError('rt_sigaction', lastErrno(), `signal ${sig} SIG_DFL`);
    }
  }
  const empty = Buffer.alloc(128);
  const rc = raw.sigprocmask(2 /* SIG_SETMASK */, empty, null) as number;
  if (rc !== 0) throw new SyscallError('pthread_sigmask', rc, 'SIG_SETMASK empty');
}

/** execve; returns only by throwing. */
export function execve(path: string, argv: string[], env: string[]): never {
  raw.execve(path, [...argv, null], [...env, null]);
  throw new SyscallError('execve', lastErrno(), path);
}

export function accessExecutable(path: string): number {
  return raw.access(path, 1) === 0 ? 0 : lastErrno();
}

/** A new session with no controlling terminal, as container runtimes give their init process. */
export function newSession(): void {
  check(raw.setsid() as number, 'setsid');
}

/** clock_gettime(2) of one clock, in seconds, as this process's time namespace shows it. */
export function readClock(clockId: number): number {
  const timespec = Buffer.alloc(16); // struct timespec: tv_sec, tv_nsec, 64 bits each on x86_64
  check(raw.clockGettime(clockId, timespec) as number, 'clock_gettime', `clock ${clockId}`);
  return Number(timespec.readBigInt64LE(0)) + Number(timespec.readBigInt64LE(8)) / 1e9;
}

export function getpid(): number {
  return raw.getpid() as number;
}


/**
 * A close-on-exec memfd that can be executed and sealed (memfd_create(2) MFD_ALLOW_SEALING,
 * MFD_EXEC: a kernel with vm.memfd_noexec would otherwise make it non-executable).
 */
export function createExecutableMemfd(name: string): number {
  const flags = MFD.CLOEXEC | MFD.ALLOW_SEALING | MFD.EXEC;
  const r = rawSyscall(NR.memfd_create, Buffer.from(name + '\0'), flags);
  if (r.result < 0n) throw new SyscallError('memfd_create', r.errno, name, r.errno === 22 ? 'this kernel refuses an executable memfd (vm.memfd_noexec = 2?)' : undefined);
  return Number(r.result);
}

/** Seals a memfd against every change, its seals included (fcntl(2) F_ADD_SEALS). */
export function sealCompletely(fd: number): void {
  check(raw.fcntl(fd, F.ADD_SEALS, 'int', F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW | F_SEAL.WRITE) as number, 'fcntl F_ADD_SEALS', `fd ${fd}`);
}

/** The seals a memfd carries (fcntl(2) F_GET_SEALS). */
export function sealsOf(fd: number): number {
  return check(raw.fcntl(fd, F.GET_SEALS, 'int', 0) as number, 'fcntl F_GET_SEALS', `fd ${fd}`);
}
