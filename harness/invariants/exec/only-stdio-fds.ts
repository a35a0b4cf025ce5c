import { HOLDS, violated, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { runcManual } from '../references.js';

export const execOnlyStdioFds: ExecInvariant = {
  id: 'exec.only-stdio-fds',
  level: 'MUST',
  title: 'A process joined with exec inherits no open descriptor beyond 0, 1 and 2, but for one preserved on purpose.',
  reference: runcManual('runc-exec', '--preserve-fds', 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total). Default is 0.'),
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (_init, joined, given) => {
    const preserved = given.preserveFd === undefined ? 2 : 3;
    const leaked = joined.self.fds.filter((f) => f.fd > preserved && f.inherited);
    return leaked.length === 0
      ? HOLDS
      : violated(`no inherited descriptor above ${preserved}`, leaked.map((f) => `fd ${f.fd} → ${f.target}`).join('; '));
  },
};
