import { HOLDS, violated, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { manSection } from '../references.js';

export const joinsInitNamespaces: ExecInvariant = {
  id: 'exec.joins-init-namespaces',
  level: 'MUST',
  title: "A process joined with exec is in exactly the container init's namespaces: every /proc/self/ns link is the init's.",
  reference: manSection('setns', 2, 'DESCRIPTION', 'The setns() system call allows the calling thread to move into different namespaces.'),
  anchors: { crun: ['test_exec.py::test_exec'] },
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (init, joined) => {
    const types = new Set([...Object.keys(init.self.namespaces), ...Object.keys(joined.self.namespaces)]);
    const wrong = [...types].filter((t) => init.self.namespaces[t] !== joined.self.namespaces[t])
      .map((t) => `${t} ${joined.self.namespaces[t]} (init: ${init.self.namespaces[t]})`);
    return wrong.length === 0 ? HOLDS : violated(`the init's namespaces ${JSON.stringify(init.self.namespaces)}`, wrong.join('; '));
  },
};
