// A console socket for a runtime run detached with process.terminal (`RUNTIME run -d
// --console-socket PATH` or `create --console-socket PATH`): console-receiver.ts in a process of
// its own takes the pty master and gives back what the container wrote on its terminal.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RECEIVER = fileURLToPath(new URL('./console-receiver.js', import.meta.url));
/** Node starting the receiver on a loaded host. */
const LISTEN_TIMEOUT_MS = 30_000;

export interface ConsoleSocket {
  path: string;
  /** The container's terminal output, once its pty hangs up (or what came before timeoutMs, then the receiver is killed). */
  output(timeoutMs: number): Promise<string>;
  /** Stops the receiver (its socket is removed by it, or was already). */
  close(): void;
}

/** Resolves once the receiver listens at socketPath, so a runtime may be started with it. */
export function openConsoleSocket(socketPath: string): Promise<ConsoleSocket> {
  const child = spawn(process.execPath, [RECEIVER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const close = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      close();
      reject(new Error(`the console receiver did not listen at ${socketPath} within ${LISTEN_TIMEOUT_MS} ms: ${stderr}`));
    }, LISTEN_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
      if (stderr.includes('listening\n')) {
        clearTimeout(timer);
        resolve({
          path: socketPath,
          close,
          async output(timeoutMs) {
            const timeout = setTimeout(close, timeoutMs);
            await exited;
            clearTimeout(timeout);
            return stdout;
          },
        });
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the console receiver ended before it listened: ${stderr}`));
    });
  });
}
