// A TCP listener inside the network hub, for the veth tests: a worker thread enters the hub's
// namespace with setns (only this thread moves) and listens there with Node's own net module, on
// every address of the hub (host ends come and go with containers). It greets each connection
// with the address it reached, tells the main thread who connected where, and stops when told.
import net from 'node:net';
import { parentPort, workerData, Worker } from 'node:worker_threads';
import { setns } from '../../core/native/system.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';

interface ListenerData {
  namespaceFd: number;
  port: number;
}

type FromListener = { kind: 'listening' } | { kind: 'connection'; connection: string } | { kind: 'failed'; message: string };

export const GREETING = 'hello from the hub';

/** Runs in the worker. */
function listen(data: ListenerData): void {
  const port = parentPort!;
  try {
    setns(data.namespaceFd, CLONE.NEWNET, 'the network hub');
  } catch (e) {
    port.postMessage({ kind: 'failed', message: (e as Error).message } satisfies FromListener);
    return;
  }
  const server = net.createServer((socket) => {
    port.postMessage({ kind: 'connection', connection: `${socket.remoteAddress} -> ${socket.localAddress}` } satisfies FromListener);
    socket.end(`${GREETING} ${socket.localAddress}\n`);
  });
  server.on('error', (e) => port.postMessage({ kind: 'failed', message: e.message } satisfies FromListener));
  server.listen(data.port, '0.0.0.0', () => port.postMessage({ kind: 'listening' } satisfies FromListener));
  port.once('message', () => {
    server.close();
    port.close();
  });
}

/** The main thread's handle: the connections it took ("from -> to"), and stop(). */
export class HubTcpListener {
  readonly connections: string[] = [];
  private constructor(private readonly worker: Worker) {}

  static start(namespaceFd: number, port: number): Promise<HubTcpListener> {
    const worker = new Worker(new URL(import.meta.url), { workerData: { namespaceFd, port } satisfies ListenerData });
    const listener = new HubTcpListener(worker);
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FromListener) => {
        if (m.kind === 'listening') resolve(listener);
        else if (m.kind === 'connection') listener.connections.push(m.connection);
        else void worker.terminate().then(() => reject(new Error(`hub listener on port ${port}: ${m.message}`)));
      });
      worker.once('error', reject);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.worker.postMessage('stop');
    await exited;
  }
}

if (parentPort && workerData) listen(workerData as ListenerData);
