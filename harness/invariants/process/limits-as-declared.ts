import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';
import { RLIMIT_NUMBERS } from '../../../policy/kernel/rlimits.js';

const shown = (n: number) => (n === Infinity ? 'unlimited' : String(n));

/** Node raises its soft RLIMIT_NOFILE to the hard one as it starts: the probe can show only the hard one (a fixed profile may declare it). */
const SOFT_UNOBSERVABLE = 'RLIMIT_NOFILE';
const soft = (type: string, value: string) => (type === SOFT_UNOBSERVABLE ? '(raised by node)' : value);

export const limitsAsDeclared: SingleInvariant = {
  id: 'process.limits-as-declared',
  level: 'MUST',
  title: 'The program starts with exactly the declared rlimits (soft and hard), umask and working directory.',
  reference: ociSpec('config.md', 'posix-process', 'POSIX process (rlimits)', 'rlim.rlim_cur MUST match the configured value.'),
  anchors: {
    runtimeTools: ['validateRlimits'],
    contest: ['process_rlimits'],
    crun: ['test_rlimits.py::test_rlimits', 'test_uid_gid.py::test_umask', 'test_cwd.py::test_cwd'],
  },
  generate: { processLimits: true },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => {
    const p = profile.process;
    const row = (type: string) => o.limits[RLIMIT_NUMBERS[type] ?? -1];
    return expectEqual(
      {
        rlimits: p.rlimits.map((r) => `${r.type} ${soft(r.type, shown(r.soft))}/${shown(r.hard)}`),
        umask: p.umask === undefined ? null : p.umask.toString(8).padStart(4, '0'),
        cwd: p.cwd,
      },
      {
        rlimits: p.rlimits.map((r) => `${r.type} ${soft(r.type, row(r.type)?.soft ?? '?')}/${row(r.type)?.hard ?? '?'}`),
        umask: p.umask === undefined ? null : o.umask,
        cwd: o.self.cwd,
      },
    );
  },
};
