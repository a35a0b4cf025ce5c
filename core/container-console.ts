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
  /** Resolves once the pty has hung up (every copy of the container's side is closed) and its output is written. */
  finished: Promise<void>;
  /** The user's terminal back as it was (cooked mode), input no longer read. Idempotent. */
  restore(): void;
}

/**
 * Relays a container's pty to nsrig's own stdio, as `runc run` does with a terminal: output to
 * stdout, input to the pty; when stdin is a terminal it is put in raw mode (the container's pty
 * does the line editing and turns Ctrl-C into SIGINT for its own foreground group) and the pty
 * follows its window size.
 */
export function relayConsole(master: number): ConsoleRelay {
  const output = new tty.ReadStream(master);
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
  const finished = new Promise<void>((resolve) => {
    output.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    // EIO is how a pty master reads once the last slave descriptor is closed: the container is gone.
    output.on('error', () => resolve());
    output.on('close', () => resolve());
  });
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.stdout.off('resize', resize);
    user.off('data', forward);
    user.pause();
    if (outputWasProcessed) setOutputProcessing(1, true);
    if (raw) user.setRawMode(false);
    output.destroy();
    input.destroy();
  };
  process.once('exit', restore);
  return { finished, restore };
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

/** How long to wait before writing the end marker again when the pty has no room for it. */
const MARKER_RETRY_MS = 20;

/**
 * A pty master read and written as data, for a caller that talks to the program behind it (the
 * harness takes the probe's reports from it): line-data mode (setLineDataMode), so bytes pass
 * unchanged, nothing written comes back as output, and ending input sends the end-of-file
 * character, as a user's Ctrl-D does. Takes ownership of master.
 *
 * How the output is known to be complete: read until the master's EIO (the last slave descriptor
 * closed), a probe's report lost whole 4095-byte blocks under load (2 to 4 in 40 parallel runs on
 * this kernel, 6.18): the master read EIO while the rest still waited in the pty's buffers. So
 * nsrig holds a slave descriptor of its own (the master never reads EIO while it is open), and once
 * the program has ended writes a random marker through it: what comes before the marker is
 * everything the program wrote.
 */
export function terminalStreams(master: number): TerminalStreams {
  const endOfFile = Buffer.from([setLineDataMode(master)]);
  const peer = openPtyPeer(master, { nonblocking: true });
  const marker = Buffer.from(`\u0000nsrig-end-${randomBytes(12).toString('hex')}`);
  const reader = new tty.ReadStream(master);
  const output = new PassThrough();
  let peerOpen = true;
  const closePeer = () => {
    if (!peerOpen) return;
    peerOpen = false;
    closeFd(peer);
  };
  const endOutput = () => {
    if (!output.writableEnded) output.end();
  };
  /** Once the marker is on its way: received bytes not yet passed on, which may be its beginning. */
  let held: Buffer | undefined;
  let marked: () => void = () => {};
  const markerSeen = new Promise<void>((resolve) => (marked = resolve));
  reader.on('data', (chunk: Buffer) => {
    if (output.writableEnded) return;
    if (held === undefined) {
      output.write(chunk);
      return;
    }
    const seen = Buffer.concat([held, chunk]);
    const at = seen.indexOf(marker);
    if (at >= 0) {
      output.write(seen.subarray(0, at));
      held = Buffer.alloc(0);
      endOutput();
      marked();
      return;
    }
    const keep = Math.min(seen.length, marker.length - 1);
    output.write(seen.subarray(0, seen.length - keep));
    held = seen.subarray(seen.length - keep);
  });
  // EIO (once the slave is closed) or a closed master: nothing more will come.
  reader.on('error', endOutput);
  reader.on('close', endOutput);
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
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    closePeer();
    reader.destroy();
    writer.destroy();
    endOutput();
  };
  let retry: NodeJS.Timeout | undefined;
  const writeMarker = () => {
    if (!peerOpen) return;
    try {
      fs.writeSync(peer, marker);
    } catch (e) {
      // The reader has yet to make room in the pty: it will, the event loop being free.
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') retry = setTimeout(writeMarker, MARKER_RETRY_MS);
      else endOutput();
    }
  };
  let finishing: Promise<void> | undefined;
  const finish = async (graceMs: number) => {
    held ??= Buffer.alloc(0);
    writeMarker();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([markerSeen, grace, new Promise<void>((resolve) => output.once('finish', resolve))]);
    clearTimeout(timer);
    clearTimeout(retry);
    if (!output.writableEnded && held !== undefined && held.length > 0) output.write(held);
    endOutput();
    closePeer();
    // A reading caller has had every byte once output has ended for it.
    if (output.readableFlowing === true && !output.readableEnded) await new Promise<void>((resolve) => output.once('end', resolve).once('close', resolve));
  };
  return { output, input, close, finish: (graceMs) => (finishing ??= finish(graceMs)) };
}
