// The other end of core/kernel-process.ts: a Node process that carries out stage 2's calls on
// libc as its parent asks, one message each, and answers with the result or the error (its name,
// message and errno name, which a list's orElse matches). It holds no list and decides nothing.
import { nativeKernel } from './native/native-kernel.js';
import type { StageKernel } from './kernel.js';

interface Request {
  id: number;
  call: string;
  args: Record<string, unknown>;
}

process.on('message', (message: Request) => {
  let reply: Record<string, unknown>;
  try {
    const fn = (nativeKernel as Partial<Record<string, (args: unknown) => unknown>>)[message.call];
    if (typeof fn !== 'function') throw new TypeError(`${message.call} is not a call stage 2 makes`);
    const result = fn.call(nativeKernel as StageKernel, message.args);
    reply = { id: message.id, result: result === undefined ? null : result };
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    reply = { id: message.id, error: { name: error?.name ?? 'Error', message: error?.message ?? String(e), code: error?.code ?? null } };
  }
  process.send!(reply);
});
// The parent closing the channel is the end: nothing here outlives it.
process.on('disconnect', () => process.exit(0));
