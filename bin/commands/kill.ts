// nsrig kill ID [SIGNAL]: a signal (default SIGTERM) to the first process of a container launched
// with `nsrig run --name ID`; its nsrig then tears it down as it would on the program's own exit.
import { killRegistered } from '../../core/registered-container.js';
import { RegistryError } from '../../core/container-registry.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { EXIT, UsageError } from '../usage.js';

function parseSignal(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text) && Object.values(SIGNALS).includes(Number(text))) return Number(text);
  const name = (text.startsWith('SIG') ? text : `SIG${text}`).toUpperCase() as NodeJS.Signals;
  if (SIGNALS[name] === undefined) throw new UsageError(`unknown signal ${text}; expected a name such as TERM or SIGKILL, or its number`);
  return name;
}

export function kill(args: string[]): number {
  if (args.length < 1 || args.length > 2) throw new UsageError('usage: nsrig kill ID [SIGNAL]');
  const signal = parseSignal(args[1] ?? 'SIGTERM');
  try {
    killRegistered(args[0]!, signal);
    return EXIT.OK;
  } catch (e) {
    if (!(e instanceof RegistryError)) throw e;
    if (e.reason === 'invalid-id') throw new UsageError(e.message);
    process.stderr.write(`nsrig kill: ${e.message}\n`);
    return EXIT.FAILED;
  }
}
