// The other end of runc's --console-socket (runc docs/terminals.md), for running a config with
// process.terminal detached under runc or crun:
//
//   node console-receiver.js SOCKET_PATH
//
// Listens at SOCKET_PATH and says "listening" on stderr once a runtime may connect; takes the one
// pty master the runtime sends (SCM_RIGHTS), removes the socket, and copies everything the
// container writes to its terminal to stdout until the pty hangs up (the container's last copy of
// the slave is closed), then exits 0. Exit 1 with the reason on stderr when no master came.
import fs from 'node:fs';
import tty from 'node:tty';
import { acceptUnix, closeFd, listenUnix, ptyNumber, receiveFd } from '../../../core/host-kernel.js';

function receiveMaster(socketPath: string): number {
  const listening = listenUnix(socketPath);
  try {
    process.stderr.write('listening\n');
    const connection = acceptUnix(listening);
    try {
      return receiveFd(connection, true)!.fd;
    } finally {
      closeFd(connection);
    }
  } finally {
    closeFd(listening);
    fs.rmSync(socketPath, { force: true });
  }
}

function main(): void {
  const socketPath = process.argv[2];
  if (socketPath === undefined) {
    process.stderr.write('usage: console-receiver SOCKET_PATH\n');
    process.exitCode = 1;
    return;
  }
  let master: number;
  try {
    master = receiveMaster(socketPath);
  } catch (e) {
    process.stderr.write(`console-receiver: ${(e as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (ptyNumber(master) === undefined) {
    process.stderr.write('console-receiver: the descriptor received is no pty master\n');
    process.exitCode = 1;
    return;
  }
  const output = new tty.ReadStream(master);
  output.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  // EIO is how a pty master reads once every slave descriptor is closed.
  output.on('error', () => output.destroy());
}

main();
