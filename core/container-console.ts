// The parent's side of a container's terminal: the socket pair stage 2 sends the pty master back
// on, handing that master on to a console socket (runc's docs/terminals.md protocol) for a caller
// that asks for it as `runc run --console-socket` would, the other end of such a socket for a
// runtime nsrig starts with one, and a master read and written as plain data streams.
import fs from 'node:fs';
import tty from 'node:tty';
import { randomBytes } from 'node:crypto';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { closeFd, duplicateCloseOnExec } from './native/process.js';
import {
  acceptUnix, connectUnix, listenUnix, openPtyPeer, ptyNumber, receiveFd, sendFd, setLineDataMode, setOutputProcessing, setWindowSize, unixSocketPair, watchReadable,
} from './native/terminal.js';
import { LaunchError } from './launch-error.js';

export interface ConsoleChannel {
  parentEnd: number;
  /** Stage 2's end: it sends the master of the pty it opened from the container's devpts. */
  childEnd: number;
  /** The master, once stage 2 has sent it (it does before it reports exec). */
  receiveMaster(): number;
}

export function consoleChannel(): ConsoleChannel {
  const [parentEnd, childEnd] = unixSocketPair();
  return {
    parentEnd,
    childEnd,
    receiveMaster() {
      const received = receiveFd(parentEnd, false);
      if (received === undefined) throw new LaunchError('stage 2 reported exec without sending the terminal\'s pty master', 'open-console');
      return received.fd;
    },
  };
}

/**
 * Sends the pty master to the unix socket listening at path, as runc does with --console-socket
 * (the message's bytes name the master's device), and closes nsrig's copy: afterwards only the
 * socket's owner holds it.
 */
export function sendConsoleToSocket(path: string, master: number): void {
  let socket: number | undefined;
  try {
    socket = connectUnix(path);
    sendFd(socket, master, '/dev/ptmx');
  } finally {
    if (socket !== undefined) closeFd(socket);
    closeFd(master);
  }
}

export interface ConsoleRelay {
  /**
   * Once the program has ended: resolves when everything it wrote to its terminal is written to
   * stdout, or after graceMs (see readPty). Idempotent.
   */
  finish(graceMs: number): Promise<void>;
  /** The user's terminal back as it was (cooked mode), input no longer read, the pty closed. Idempotent. */
  restore(): void;
}

/**
 * Relays a container's pty to nsrig's own stdio, as `runc run` does with a terminal: output to
 * stdout, input to the pty; when stdin is a terminal it is put in raw mode (the container's pty
 * does the line editing and turns Ctrl-C into SIGINT for its own foreground group) and the pty
 * follows its window size.
 */
export function relayConsole(master: number): ConsoleRelay {
  const output = readPty(master, (chunk) => process.stdout.write(chunk), () => {});
  // A second descriptor for writing: one stream per handle, and closing one leaves the other's.
  const input = new tty.WriteStream(duplicateCloseOnExec(master));
  const user = process.stdin;
  const raw = user.isTTY === true;
  const resize = () => {
    if (process.stdout.isTTY) setWindowSize(master, { height: process.stdout.rows, width: process.stdout.columns });
  };
  if (raw) user.setRawMode(true);
  // Raw as runc's (cfmakeraw) is: no output processing either, so the pty's "\r\n" is written as it
  // is. setRawMode(false), and libuv's reset when a signal ends nsrig, restore stdin's terminal;
  // stdout's is restored here too in case it is another one.
  const outputWasProcessed = raw && process.stdout.isTTY === true ? setOutputProcessing(1, false) : false;
  resize();
  process.stdout.on('resize', resize);
  const forward = (chunk: Buffer) => input.write(chunk);
  user.on('data', forward);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.stdout.off('resize', resize);
    user.off('data', forward);
    user.pause();
    if (outputWasProcessed) setOutputProcessing(1, true);
    if (raw) user.setRawMode(false);
    output.close();
    input.destroy();
  };
  process.once('exit', restore);
  return { finish: output.finish, restore };
}

/** How long to wait before writing the end marker again when the pty has no room for it. */
const MARKER_RETRY_MS = 20;

interface PtyReader {
  /** Once the program has ended: resolves when all it wrote is delivered, or after graceMs. Idempotent. */
  finish(graceMs: number): Promise<void>;
  /** Closes the master and nsrig's copy of the slave. Idempotent. */
  close(): void;
}

/**
 * Reads everything the program behind a pty master writes, handing each chunk to deliver, and
 * calls ended once when nothing more will be delivered. Takes ownership of master.
 *
 * How the output is known to be complete: read until the master's EIO (the last slave descriptor
 * closed), a probe's report lost whole 4095-byte blocks under load (2 to 4 in 40 parallel runs on
 * this kernel, 6.18): the master read EIO while the rest still waited in the pty's buffers. So
 * nsrig holds a slave descriptor of its own (the master never reads EIO while it is open), and once
 * the program has ended writes a random marker through it: what comes before the marker is
 * everything the program wrote.
 */
function readPty(master: number, deliver: (chunk: Buffer) => void, ended: () => void): PtyReader {
  const peer = openPtyPeer(master, { nonblocking: true });
  const marker = Buffer.from(`\u0000nsrig-end-${randomBytes(12).toString('hex')}`);
  const reader = new tty.ReadStream(master);
  let peerOpen = true;
  const closePeer = () => {
    if (!peerOpen) return;
    peerOpen = false;
    closeFd(peer);
  };
  let done = false;
  let markerSeen: () => void = () => {};
  const over = new Promise<void>((resolve) => (markerSeen = resolve));
  const end = () => {
    if (done) return;
    done = true;
    ended();
    markerSeen();
  };
  /** Once the marker is on its way: bytes received but not yet delivered, which may be its beginning. */
  let held: Buffer | undefined;
  reader.on('data', (chunk: Buffer) => {
    if (done) return;
    if (held === undefined) {
      deliver(chunk);
      return;
    }
    const seen = Buffer.concat([held, chunk]);
    const at = seen.indexOf(marker);
    if (at >= 0) {
      if (at > 0) deliver(seen.subarray(0, at));
      held = Buffer.alloc(0);
      end();
      return;
    }
    const keep = Math.min(seen.length, marker.length - 1);
    if (seen.length > keep) deliver(seen.subarray(0, seen.length - keep));
    held = seen.subarray(seen.length - keep);
  });
  // EIO (nsrig's slave closed too) or a closed master: nothing more will come.
  reader.on('error', end);
  reader.on('close', end);
  let retry: NodeJS.Timeout | undefined;
  const writeMarker = () => {
    if (!peerOpen) return;
    try {
      fs.writeSync(peer, marker);
    } catch (e) {
      // The reader has yet to make room in the pty: it will, the event loop being free.
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') retry = setTimeout(writeMarker, MARKER_RETRY_MS);
      else end();
    }
  };
  let finishing: Promise<void> | undefined;
  const finish = async (graceMs: number) => {
    held ??= Buffer.alloc(0);
    writeMarker();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([over, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    clearTimeout(retry);
    if (!done && held.length > 0) deliver(held);
    end();
    closePeer();
  };
  return {
    finish: (graceMs) => (finishing ??= finish(graceMs)),
    close() {
      clearTimeout(retry);
      closePeer();
      reader.destroy();
      end();
    },
  };
}

/** A console socket that ended without a pty master: closed first, or sent something else. */
export class ConsoleSocketError extends Error {
  constructor(readonly socketPath: string, message: string) {
    super(`console socket ${socketPath}: ${message}`);
    this.name = 'ConsoleSocketError';
  }
}

export interface ConsoleSocketListener {
  readonly path: string;
  /** Resolves once the runtime has sent a pty master; rejects with ConsoleSocketError when none comes. */
  readonly received: Promise<void>;
  /** The master once received, the caller's from then on to close; undefined before (and after a take). */
  take(): number | undefined;
  /** Stops listening, removes the socket file, and closes a master received but not taken. Idempotent. */
  close(): void;
}

/**
 * Listens at socketPath (which must not exist) for the one pty master a runtime sends over it with
 * SCM_RIGHTS (`RUNTIME create --console-socket`, runc's docs/terminals.md), without blocking the
 * event loop. The socket file goes once the runtime has connected, or at close().
 */
export function listenForConsole(socketPath: string): ConsoleSocketListener {
  const listening = listenUnix(socketPath);
  let connection: number | undefined;
  let master: number | undefined;
  let listeningOpen = true;
  let stopWatching = () => {};
  let settle!: { resolve: () => void; reject: (e: Error) => void };
  const received = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // A caller that closes before it waits is not told that no master came.
  received.catch(() => undefined);
  const stopListening = () => {
    if (!listeningOpen) return;
    listeningOpen = false;
    closeFd(listening);
    fs.rmSync(socketPath, { force: true });
  };
  const end = (outcome: { fd: number } | { why: string }) => {
    stopWatching();
    if (connection !== undefined) closeFd(connection);
    connection = undefined;
    stopListening();
    if ('fd' in outcome) {
      master = outcome.fd;
      settle.resolve();
    } else {
      settle.reject(new ConsoleSocketError(socketPath, outcome.why));
    }
  };
  const receive = (from: number) => {
    let got: ReturnType<typeof receiveFd>;
    try {
      got = receiveFd(from, false);
    } catch (e) {
      end({ why: (e as Error).message });
      return;
    }
    if (got === undefined) return;
    if (ptyNumber(got.fd) === undefined) {
      closeFd(got.fd);
      end({ why: `the descriptor received (named ${JSON.stringify(got.name)}) is no pty master` });
      return;
    }
    end({ fd: got.fd });
  };
  stopWatching = watchReadable(listening, () => {
    stopWatching();
    try {
      connection = acceptUnix(listening);
    } catch (e) {
      end({ why: (e as Error).message });
      return;
    }
    // One runtime, one connection: nobody else gets to send a terminal here.
    stopListening();
    const from = connection;
    stopWatching = watchReadable(from, () => receive(from));
  });
  let closed = false;
  return {
    path: socketPath,
    received,
    take() {
      const taken = master;
      master = undefined;
      return taken;
    },
    close() {
      if (closed) return;
      closed = true;
      end({ why: 'closed before a pty master came' });
      if (master !== undefined) closeFd(master);
      master = undefined;
    },
  };
}

export interface TerminalStreams {
  /** What the program writes to its terminal; ends once finish() has read all of it, or at close(). */
  readonly output: Readable;
  /** What the program reads from its terminal, a line at a time; ending it is the program's end of input. */
  readonly input: Writable;
  /**
   * Once the program has ended: resolves when everything it wrote is in output and output has
   * ended, or after graceMs, with output ended as it is. Idempotent.
   */
  finish(graceMs: number): Promise<void>;
  /** Closes the master and nsrig's copy of the slave (hanging the program's terminal up). Idempotent. */
  close(): void;
}

/**
 * A pty master read and written as data, for a caller that talks to the program behind it (the
 * harness takes the probe's reports from it): line-data mode (setLineDataMode), so bytes pass
 * unchanged, nothing written comes back as output, and ending input sends the end-of-file
 * character, as a user's Ctrl-D does. Takes ownership of master.
 */
export function terminalStreams(master: number): TerminalStreams {
  const endOfFile = Buffer.from([setLineDataMode(master)]);
  const output = new PassThrough();
  const pty = readPty(master, (chunk) => output.write(chunk), () => output.end());
  const writer = new tty.WriteStream(duplicateCloseOnExec(master));
  // A program gone (or a master closed) must not crash the caller's next write; its callback says so.
  writer.on('error', () => undefined);
  const input = new Writable({
    write: (chunk: Buffer, _encoding, done) => writer.write(chunk, (e) => done(e ?? undefined)),
    // The end-of-file character ends input at a line's start, and elsewhere only passes the
    // pending part on: twice, the reader sees its end of file either way.
    final: (done) => writer.write(Buffer.concat([endOfFile, endOfFile]), () => done()),
  });
  input.on('error', () => undefined);
  return {
    output, input,
    close() {
      pty.close();
      writer.destroy();
    },
    async finish(graceMs) {
      await pty.finish(graceMs);
      // A reading caller has had every byte once output has ended for it.
      if (output.readableFlowing === true && !output.readableEnded) await new Promise<void>((resolve) => output.once('end', resolve).once('close', resolve));
    },
  };
}
