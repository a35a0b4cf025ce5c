// nsrig list [--json]: the containers launched with `nsrig run --name` whose nsrig still runs.
import { listRecords } from '../../core/container-registry.js';
import { stateOf } from '../../core/registered-container.js';
import { EXIT, UsageError } from '../usage.js';

export function list(args: string[]): number {
  if (args.length > 1 || (args.length === 1 && args[0] !== '--json')) throw new UsageError('usage: nsrig list [--json]');
  const states = listRecords().map(stateOf);
  if (args[0] === '--json') {
    process.stdout.write(`${JSON.stringify(states, null, 2)}\n`);
    return EXIT.OK;
  }
  const rows = [['ID', 'PID', 'STATUS', 'OWNER', 'CREATED', 'BUNDLE'],
    ...states.map((s) => [s.id, String(s.pid ?? 0), s.status, String(s.owner), s.created, s.bundle])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const row of rows) process.stdout.write(`${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}\n`);
  return EXIT.OK;
}
