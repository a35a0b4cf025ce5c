// The one place koffi is loaded and libc declared. Only files in core/native/ import this; every
// other module calls the typed wrappers beside it and never sees a pointer.
import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';
import { SyscallError, UnsupportedHostError } from './syscall-error.js';

// Through require, not import: stage 2 starts from a descriptor of nsrig's tree, and when that
// tree's node_modules is a symlink into a directory the container's uid cannot search, the lookup
// beside the tree fails; the launcher then points NODE_PATH at a descriptor of node_modules' real
// directory, which require consults and import does not (node(1), "NODE_PATH").
const koffi = createRequire(import.meta.url)('koffi') as typeof Koffi;

function loadLibc(): Koffi.IKoffiLib {
  if (process.platform !== 'linux') throw new UnsupportedHostError(`nsrig needs Linux; this is ${process.platform}`);
  const tried: string[] = [];
  for (const name of ['libc.so.6']) {
    try {
      return koffi.load(name);
    } catch (e) {
      tried.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new UnsupportedHostError(`cannot load glibc; tried:\n  ${tried.join('\n  ')}`);
}

const lib = loadLibc();
export { koffi };

/** Raw declarations. Return values are checked by the wrappers, never here. */
export const raw = {
  malloc: lib.func('void *malloc(size_t size)'),
  free: lib.func('void free(void *ptr)'),
  dlsym: lib.func('void *dlsym(void *handle, const char *symbol)'),
  getcontext: lib.func('int getcontext(void *ucp)'),
  clone: lib.func('int clone(void *fn, uint64_t stack, int flags, void *arg, ...)'),
  syscall: lib.func('long syscall(long number, ...)'),
  gnuGetLibcVersion: lib.func('const char *gnu_get_libc_version()'),

  getpid: lib.func('int getpid()'),
  clockGettime: lib.func('int clock_gettime(int clockid, void *tp)'),
  setsid: lib.func('int setsid()'),
  gettid: lib.func('int gettid()'),
  close: lib.func('int close(int fd)'),
  pipe2: lib.func('int pipe2(int *fds, int flags)'),
  fcntl: lib.func('int fcntl(int fd, int cmd, ...)'),
  dup2: lib.func('int dup2(int oldfd, int newfd)'),
  dup3: lib.func('int dup3(int oldfd, int newfd, int flags)'),
  read: lib.func('long read(int fd, void *buf, size_t count)'),
  write: lib.func('long write(int fd, const void *buf, size_t count)'),
  open: lib.func('int open(const char *path, int flags, ...)'),
  chdir: lib.func('int chdir(const char *path)'),
  fchdir: lib.func('int fchdir(int fd)'),
  kill: lib.func('int kill(int pid, int sig)'),
  waitid: lib.func('int waitid(int idtype, int id, void *infop, int options)'),
  poll: lib.func('int poll(void *fds, unsigned long nfds, int timeout)'),
  signal: lib.func('void *signal(int sig, void *handler)'),
  sigprocmask: lib.func('int pthread_sigmask(int how, const void *set, void *oldset)'),
  prctl: lib.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
  execve: lib.func('int execve(const char *path, const char **argv, const char **envp)'),

  mount: lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
  umount2: lib.func('int umount2(const char *target, int flags)'),
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  sethostname: lib.func('int sethostname(const char *name, size_t len)'),
  setdomainname: lib.func('int setdomainname(const char *name, size_t len)'),
  unshare: lib.func('int unshare(int flags)'),
  setns: lib.func('int setns(int fd, int nstype)'),
  personality: lib.func('int personality(unsigned long persona)'),

  setresuid: lib.func('int setresuid(uint32_t ruid, uint32_t euid, uint32_t suid)'),
  setresgid: lib.func('int setresgid(uint32_t rgid, uint32_t egid, uint32_t sgid)'),
  setgroups: lib.func('int setgroups(size_t size, const uint32_t *list)'),
  prlimit: lib.func('int prlimit(int pid, int resource, const uint64_t *newLimit, _Out_ uint64_t *oldLimit)'),

  socket: lib.func('int socket(int domain, int type, int protocol)'),
  ioctl: lib.func('int ioctl(int fd, unsigned long request, ...)'),
  // memcpy of 0 bytes returns dest unchanged: the address of a Buffer's bytes, for the kernel
  // structures (bpf_attr) that carry pointers as 64-bit integers.
  bufferAddress: lib.func('uintptr_t memcpy(void *dest, const void *src, size_t n)'),
  access: lib.func('int access(const char *path, int mode)'),
  makecontext: lib.func('void makecontext(void *ucp, void *func, int argc, ...)'),
  memcpy: lib.func('void *memcpy(void *dest, const uint8_t *src, size_t n)'),
  waitpid: lib.func('int waitpid(int pid, void *status, int options)'),
  send: lib.func('long send(int fd, const void *buf, size_t len, int flags)'),
  recv: lib.func('long recv(int fd, void *buf, size_t len, int flags)'),
  setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)'),
  socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *fds)'),
  bind: lib.func('int bind(int fd, const void *addr, uint32_t length)'),
  connect: lib.func('int connect(int fd, const void *addr, uint32_t length)'),
  listen: lib.func('int listen(int fd, int backlog)'),
  accept4: lib.func('int accept4(int fd, void *addr, void *length, int flags)'),
  sendmsg: lib.func('long sendmsg(int fd, const void *msg, int flags)'),
  recvmsg: lib.func('long recvmsg(int fd, void *msg, int flags)'),

  // System V IPC and POSIX message queues (probes of the IPC namespace).
  shmget: lib.func('int shmget(int key, size_t size, int flags)'),
  shmctl: lib.func('int shmctl(int id, int cmd, void *buf)'),
  semget: lib.func('int semget(int key, int nsems, int flags)'),
  semctl: lib.func('int semctl(int id, int num, int cmd, ...)'),
  msgget: lib.func('int msgget(int key, int flags)'),
  msgctl: lib.func('int msgctl(int id, int cmd, void *buf)'),
  mqOpen: lib.func('int mq_open(const char *name, int oflag, ...)'),
  mqUnlink: lib.func('int mq_unlink(const char *name)'),

  // syscall(2) with a fixed prototype per call, for calls glibc has no wrapper for (or one we must
  // bypass): koffi then passes each argument with its own C type.
  capsetSyscall: lib.func('long syscall(long nr, void *header, void *data)'),
  openTreeSyscall: lib.func('long syscall(long nr, int dfd, const char *path, unsigned int flags)'),
  moveMountSyscall: lib.func('long syscall(long nr, int fromDfd, const char *fromPath, int toDfd, const char *toPath, unsigned int flags)'),
  mountSetattrSyscall: lib.func('long syscall(long nr, int dfd, const char *path, unsigned int flags, void *attr, size_t size)'),
  pivotRootSyscall: lib.func('long syscall(long nr, const char *newRoot, const char *putOld)'),
  pidfdSendSignalSyscall: lib.func('long syscall(long nr, int pidfd, int sig, void *info, unsigned int flags)'),
  pidfdOpenSyscall: lib.func('long syscall(long nr, int pid, unsigned int flags)'),
  ptraceValueSyscall: lib.func('long syscall(long nr, long request, int pid, long addr, long data)'),
  ptraceBufferSyscall: lib.func('long syscall(long nr, long request, int pid, long addr, void *data)'),
  closeRangeSyscall: lib.func('long syscall(long nr, unsigned int first, unsigned int last, unsigned int flags)'),
  rtSigactionSyscall: lib.func('long syscall(long nr, int sig, void *act, void *oldact, size_t sigsetsize)'),
};

/** errno of the last failed call on this thread, read right after the call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** Throws SyscallError when a libc call returned -1; returns the value otherwise. */
export function check<T extends number | bigint>(result: T, call: string, object?: string): T {
  if (result === -1 || result === -1n) throw new SyscallError(call, koffi.errno(), object);
  return result;
}
