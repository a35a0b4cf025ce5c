import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostProcessUnreachable: SingleInvariant = {
  id: 'ptrace.host-process-unreachable',
  level: 'MUST',
  title: "A host process can be neither traced (PTRACE_SEIZE fails with ESRCH) nor have its memory opened (/proc/PID/mem: ENOENT) from inside: its pid names nothing there.",
  reference: manSection('ptrace', 2, 'ERRORS (ESRCH)', 'The specified process does not exist, or is not currently being traced by the caller, or is not stopped'),
  generate: requiresNamespaces('pid'),
  scenario: 'single',
  // nsrig's own pid: a host process that certainly exists while the container runs.
  request: (_profile, host) => ({ traceHost: host.pid }),
  check: (o, _profile, host) => expectEqual(
    { pid: host.pid, seize: 'ESRCH', procMem: 'ENOENT' },
    { pid: o.traceHost?.pid ?? null, seize: o.traceHost?.seize.code ?? null, procMem: o.traceHost?.procMem.code ?? null },
  ),
};
