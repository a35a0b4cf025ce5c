import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostSignalRefused: SingleInvariant = {
  id: 'pid.host-signal-refused',
  level: 'MUST',
  title: 'Signalling a host process from inside fails with ESRCH: its pid names no process in the container.',
  reference: manSection('kill', 2, 'ERRORS (ESRCH)', 'The target process or process group does not exist.'),
  anchors: { ltp: ['pidns06', 'pidns10'] },
  generate: requiresNamespaces('pid'),
  scenario: 'single',
  // nsrig's own pid: a host process that certainly exists while the container runs.
  request: (_profile, host) => ({ signal: [host.pid] }),
  check: (o, _profile, host) => expectEqual(
    [{ pid: host.pid, code: 'ESRCH' }],
    o.signal.map((s) => ({ pid: s.pid, code: s.code })),
  ),
};
