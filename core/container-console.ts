// The parent's side of a container's terminal: the socket pair stage 2 sends the pty master back
// on, and handing that master on to a console socket (runc's docs/terminals.md protocol), for a
// caller that asks for it as `runc run --console-socket` would.
import tty from 'node:tty';
import { closeFd, duplicateCloseOnExec } from './native/process.js';
import { connectUnix, receiveFd, sendFd, setOutputProcessing, setWindowSize, unixSocketPair } from './native/terminal.js';
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
