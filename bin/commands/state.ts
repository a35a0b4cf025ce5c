// nsrig state ID: the OCI state of a container launched with `nsrig run --name ID`, as runc state prints it.
import { registeredState } from '../../core/registered-container.js';
import { RegistryError } from '../../core/container-registry.js';
import { EXIT, UsageError } from '../usage.js';

export function state(args: string[]): number {
  if (args.length !== 1) throw new UsageError('usage: nsrig state ID');
  try {
    process.stdout.write(`${JSON.stringify(registeredState(args[0]!), null, 2)}\n`);
    return EXIT.OK;
  } catch (e) {
    if (!(e instanceof RegistryError)) throw e;
    if (e.reason === 'invalid-id') throw new UsageError(e.message);
    process.stderr.write(`nsrig state: ${e.message}\n`);
    return EXIT.FAILED;
  }
}
