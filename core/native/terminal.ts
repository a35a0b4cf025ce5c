// Pseudo-terminals and the unix-socket handover of their masters: the container's pty is opened
// from its own devpts by stage 2, whose master goes to the parent (or a console socket, runc's
// docs/terminals.md protocol) as an SCM_RIGHTS message, so no pty ever comes from the host's devpts.
import { raw, check, koffi, lastErrno } from './libc.js';
import { InvalidArgumentError, KernelAnswerError, SyscallError } from './syscall-error.js';
import { O } from '../../policy/kernel/process-control.js';
import {
  AF_UNIX, INPUT_TRANSLATION, LOCAL_ECHO_AND_SIGNALS, MSG_CMSG_CLOEXEC, MSG_DONTWAIT, OPOST, SCM_RIGHTS, SOCK_CLOEXEC, SOCK_STREAM, SOL_SOCKET, TC,
  TERMIOS_CC_OFFSET, TERMIOS_IFLAG_OFFSET, TERMIOS_LFLAG_OFFSET, TERMIOS_OFLAG_OFFSET, TERMIOS_SIZE, TIOC, UNIX_PATH_MAX, VEOF,
} from '../../policy/kernel/terminal.js';
import { errnoNumber } from '../../policy/kernel/errno.js';

const EAGAIN = errnoNumber('EAGAIN');

export interface WindowSize {
  height: number;
  width: number;
}

function address(buf: Buffer): bigint {
  return BigInt(raw.bufferAddress(buf, buf, 0) as number);
}

/** A new pty master from the devpts that ptmx leads to (posix_openpt + unlockpt), close-on-exec. */
export function openPtyMaster(ptmx: string): number {
  const fd = check(raw.open(ptmx, O.RDWR | O.NOCTTY | O.CLOEXEC) as number, 'open', ptmx);
  try {
    check(raw.ioctl(fd, TIOC.SPTLCK, 'int *', new Int32Array([0])) as number, 'ioctl TIOCSPTLCK', ptmx);
  } catch (e) {
    raw.close(fd);
    throw e;
  }
  return fd;
}

/**
 * The master's slave, opened through the master itself (no /dev/pts lookup to be raced), close-on-exec;
 * nonblocking for a caller on an event loop.
 */
export function openPtyPeer(master: number, options: { nonblocking?: boolean } = {}): number {
  const flags = O.RDWR | O.NOCTTY | O.CLOEXEC | (options.nonblocking === true ? O.NONBLOCK : 0);
  return check(raw.ioctl(master, TIOC.GPTPEER, 'unsigned long', flags) as number, 'ioctl TIOCGPTPEER', `pty master ${master}`);
}

/** The pty's number in its devpts, or undefined when fd is no pty master (the kernel answers ENOTTY). */
export function ptyNumber(fd: number): number | undefined {
  const out = new Uint32Array(1);
  return (raw.ioctl(fd, TIOC.GPTN, 'unsigned int *', out) as number) === -1 ? undefined : out[0];
}

/** TIOCSCTTY: fd's terminal becomes the controlling terminal of the calling session leader. */
export function setControllingTerminal(fd: number): void {
  check(raw.ioctl(fd, TIOC.SCTTY, 'int', 0) as number, 'ioctl TIOCSCTTY', `terminal ${fd}`);
}

/**
 * Turns output post-processing (OPOST) of the terminal at fd on or off; returns whether it was on.
 * cfmakeraw(3) clears it, libuv's raw mode keeps it: a relayed pty's "\r\n" would then reach the
 * screen as "\r\r\n".
 */
export function setOutputProcessing(fd: number, on: boolean): boolean {
  const termios = Buffer.alloc(TERMIOS_SIZE);
  check(raw.ioctl(fd, TC.GETS, 'void *', termios) as number, 'ioctl TCGETS', `terminal ${fd}`);
  const flags = termios.readUInt32LE(TERMIOS_OFLAG_OFFSET);
  const next = on ? flags | OPOST : flags & ~OPOST;
  if (next !== flags) {
    termios.writeUInt32LE(next >>> 0, TERMIOS_OFLAG_OFFSET);
    check(raw.ioctl(fd, TC.SETS, 'void *', termios) as number, 'ioctl TCSETS', `terminal ${fd}`);
  }
  return (flags & OPOST) !== 0;
}

/**
 * Puts the terminal at fd (a pty master sets its slave's) in line-data mode for a program that
 * talks to it as data: bytes pass unchanged both ways (no input translation, no output processing),
 * nothing written is echoed back, no byte raises a signal; input is still read a line at a time
 * (ICANON), so the end-of-file character, which it returns, ends the reader's input without
 * hanging the terminal up.
 */
export function setLineDataMode(fd: number): number {
  const termios = Buffer.alloc(TERMIOS_SIZE);
  check(raw.ioctl(fd, TC.GETS, 'void *', termios) as number, 'ioctl TCGETS', `terminal ${fd}`);
  const clear = (offset: number, bits: number) => termios.writeUInt32LE((termios.readUInt32LE(offset) & ~bits) >>> 0, offset);
  clear(TERMIOS_IFLAG_OFFSET, INPUT_TRANSLATION);
  clear(TERMIOS_OFLAG_OFFSET, OPOST);
  clear(TERMIOS_LFLAG_OFFSET, LOCAL_ECHO_AND_SIGNALS);
  check(raw.ioctl(fd, TC.SETS, 'void *', termios) as number, 'ioctl TCSETS', `terminal ${fd}`);
  return termios[TERMIOS_CC_OFFSET + VEOF]!;
}

export function setWindowSize(fd: number, size: WindowSize): void {
  const winsize = new Uint16Array([size.height, size.width, 0, 0]);
  check(raw.ioctl(fd, TIOC.SWINSZ, 'void *', winsize) as number, 'ioctl TIOCSWINSZ', `${size.width}x${size.height}`);
}

export function windowSize(fd: number): WindowSize {
  const winsize = new Uint16Array(4);
  check(raw.ioctl(fd, TIOC.GWINSZ, 'void *', winsize) as number, 'ioctl TIOCGWINSZ', `terminal ${fd}`);
  return { height: winsize[0]!, width: winsize[1]! };
}

/**
 * Calls onReadable on the event loop each time fd polls readable (libuv's poll), until the returned
 * stop is called; stop before closing fd.
 */
export function watchReadable(fd: number, onReadable: () => void): () => void {
  const handle = koffi.node.poll(fd, { readable: true }, () => onReadable());
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    handle.close();
  };
}

/** A connected pair of unix stream sockets, both close-on-exec. */
export function unixSocketPair(): [number, number] {
  const fds = new Int32Array(2);
  check(raw.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) as number, 'socketpair', 'AF_UNIX');
  return [fds[0]!, fds[1]!];
}

function socketAddress(path: string): Buffer {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length === 0 || bytes.length >= UNIX_PATH_MAX || bytes.includes(0)) {
    throw new InvalidArgumentError(`unix socket path ${JSON.stringify(path)}: expected 1 to ${UNIX_PATH_MAX - 1} bytes and no NUL`);
  }
  const sun = Buffer.alloc(2 + bytes.length + 1);
  sun.writeUInt16LE(AF_UNIX, 0);
  bytes.copy(sun, 2);
  return sun;
}

/** A unix stream socket listening at path (which must not exist yet), close-on-exec. */
export function listenUnix(path: string): number {
  const sun = socketAddress(path);
  const fd = check(raw.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number, 'socket', 'AF_UNIX');
  try {
    check(raw.bind(fd, sun, sun.length) as number, 'bind', path);
    check(raw.listen(fd, 1) as number, 'listen', path);
  } catch (e) {
    raw.close(fd);
    throw e;
  }
  return fd;
}

/** Waits for and accepts one connection on a listening socket, close-on-exec. */
export function acceptUnix(fd: number): number {
  return check(raw.accept4(fd, null, null, SOCK_CLOEXEC) as number, 'accept4', `socket ${fd}`);
}

/** A unix stream socket connected to the one listening at path, close-on-exec. */
export function connectUnix(path: string): number {
  const sun = socketAddress(path);
  const fd = check(raw.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number, 'socket', 'AF_UNIX');
  try {
    check(raw.connect(fd, sun, sun.length) as number, 'connect', path);
  } catch (e) {
    raw.close(fd);
    throw e;
  }
  return fd;
}

// struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data, padded to 8.
const CMSG_HEADER = 16;
const CMSG_SPACE_ONE_FD = 24;

// struct msghdr on x86_64: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad).
function messageHeader(iov: Buffer, control: Buffer): Buffer {
  const msg = Buffer.alloc(56);
  msg.writeBigUInt64LE(address(iov), 16);
  msg.writeBigUInt64LE(1n, 24);
  msg.writeBigUInt64LE(address(control), 32);
  msg.writeBigUInt64LE(BigInt(control.length), 40);
  return msg;
}

function ioVector(data: Buffer): Buffer {
  const iov = Buffer.alloc(16);
  iov.writeBigUInt64LE(address(data), 0);
  iov.writeBigUInt64LE(BigInt(data.length), 8);
  return iov;
}

/** Sends fd over a connected unix socket (SCM_RIGHTS) with name as the message's bytes. */
export function sendFd(socket: number, fd: number, name: string): void {
  const data = Buffer.from(name.length > 0 ? name : '\0', 'utf8');
  const control = Buffer.alloc(CMSG_SPACE_ONE_FD);
  control.writeBigUInt64LE(BigInt(CMSG_HEADER + 4), 0);
  control.writeInt32LE(SOL_SOCKET, 8);
  control.writeInt32LE(SCM_RIGHTS, 12);
  control.writeInt32LE(fd, CMSG_HEADER);
  const iov = ioVector(data);
  const msg = messageHeader(iov, control);
  check(Number(raw.sendmsg(socket, msg, 0)), 'sendmsg', `SCM_RIGHTS of descriptor ${fd}`);
  void [data, iov, control];
}

/**
 * One descriptor received over a unix socket (close-on-exec) with the message's bytes; undefined
 * when wait is false and nothing has arrived yet. A message without a descriptor, or the peer's
 * close, throws.
 */
export function receiveFd(socket: number, wait: boolean): { fd: number; name: string } | undefined {
  const data = Buffer.alloc(4096);
  const control = Buffer.alloc(CMSG_SPACE_ONE_FD);
  const iov = ioVector(data);
  const msg = messageHeader(iov, control);
  const n = Number(raw.recvmsg(socket, msg, MSG_CMSG_CLOEXEC | (wait ? 0 : MSG_DONTWAIT)));
  if (n === -1) {
    const errno = lastErrno();
    if (!wait && errno === EAGAIN) return undefined;
    throw new SyscallError('recvmsg', errno, `socket ${socket}`);
  }
  const controlLength = Number(msg.readBigUInt64LE(40));
  if (controlLength < CMSG_HEADER + 4 || control.readInt32LE(8) !== SOL_SOCKET || control.readInt32LE(12) !== SCM_RIGHTS) {
    throw new KernelAnswerError(`recvmsg on socket ${socket}: ${n === 0 ? 'the peer closed without sending a descriptor' : 'a message without a descriptor'}`);
  }
  return { fd: control.readInt32LE(CMSG_HEADER), name: data.subarray(0, n).toString('utf8') };
}
