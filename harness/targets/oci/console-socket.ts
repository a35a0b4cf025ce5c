// A console socket for a runtime run detached with process.terminal (`RUNTIME run -d
// --console-socket PATH --pid-file FILE`): nsrig's own listener (core/container-console.ts) takes
// the pty master, and what the container wrote on its terminal is read to its last byte once its
// first process has ended.
import { listenForConsole, terminalStreams, type TerminalStreams } from '../../../core/container-console.js';
import { closeFd, openPidfd, whenExited } from '../../../core/host-kernel.js';

export interface ConsoleSocket {
  path: string;
  /**
   * The container's terminal output once its first process (pid) has ended, or what came before
   * timeoutMs. Rejects when the runtime sent no pty master.
   */
  output(pid: number, timeoutMs: number): Promise<string>;
  /** Stops listening, removes the socket and closes the pty. Idempotent. */
  close(): void;
}

/** After the program's end, how long the rest of its output may take to come through. */
const DRAIN_MS = 2_000;

/** Listens at socketPath (which must not exist) at once, so a runtime may be started with it. */
export function openConsoleSocket(socketPath: string): ConsoleSocket {
  const listener = listenForConsole(socketPath);
  let terminal: TerminalStreams | undefined;
  return {
    path: socketPath,
    close() {
      listener.close();
      terminal?.close();
    },
    async output(pid, timeoutMs) {
      await listener.received;
      terminal = terminalStreams(listener.take()!);
      // Nothing to read: the program's terminal input ends at once.
      terminal.input.end();
      const chunks: Buffer[] = [];
      terminal.output.on('data', (chunk: Buffer) => chunks.push(chunk));
      let pidfd: number | undefined;
      try {
        pidfd = openPidfd(pid);
      } catch {
        // Already gone (and reaped by whoever adopted it): everything it wrote waits in the pty.
      }
      let timer: NodeJS.Timeout | undefined;
      try {
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
        if (pidfd !== undefined) await Promise.race([whenExited(pidfd), late]);
      } finally {
        clearTimeout(timer);
        if (pidfd !== undefined) closeFd(pidfd);
      }
      await terminal.finish(DRAIN_MS);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}
