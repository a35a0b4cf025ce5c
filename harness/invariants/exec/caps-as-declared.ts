import { HOLDS, violated, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { cve } from '../references.js';
import { MASK_ORDER, maskNames, observedMasks, setsAfterExecve } from '../caps/post-exec-sets.js';

export const execCapsAsDeclared: ExecInvariant = {
  id: 'exec.caps-as-declared',
  level: 'MUST',
  title: "A process joined with exec has the capability sets its process.json declares (the container's, after execve as its user), and nothing beyond the init's bounding set.",
  reference: cve('CVE-2022-29162', '`runc exec --cap` created processes with non-empty inheritable Linux process capabilities, creating an atypical Linux environment and enabling programs with inheritable file capabilities to elevate those capabilities to the permitted set during execve(2).'),
  anchors: { crun: ['test_exec.py::test_exec_add_capability'] },
  scenario: 'exec',
  skipWhen: execUnsupported,
  check: (init, joined, given, profile) => {
    const expected = setsAfterExecve({ ...profile.process, uid: given.user?.uid ?? profile.process.uid });
    const observed = observedMasks(joined.self.capabilities);
    const bounding = observedMasks(init.self.capabilities).bounding;
    const wrong = MASK_ORDER.filter((set) => expected[set] !== observed[set]);
    const beyond = MASK_ORDER.filter((set) => (observed[set] & ~bounding) !== 0n);
    if (wrong.length === 0 && beyond.length === 0) return HOLDS;
    const sets = [...new Set([...wrong, ...beyond])];
    return violated(
      sets.map((set) => `${set}=${maskNames(expected[set])}`).join('; ') + ` (init bounding=${maskNames(bounding)})`,
      sets.map((set) => `${set}=${maskNames(observed[set])}`).join('; '),
    );
  },
};
