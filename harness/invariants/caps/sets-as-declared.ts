import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';
import { MASK_ORDER, maskNames, observedMasks, setsAfterExecve } from './post-exec-sets.js';

export const setsAsDeclared: SingleInvariant = {
  id: 'caps.sets-as-declared',
  level: 'MUST',
  title: 'The five capability sets are what capabilities(7) derives at execve from the declared ones: bounding, inheritable and ambient as declared, permitted and effective by the execve rules.',
  reference: manSection('capabilities', 7, 'Transformation of capabilities during execve()', 'During an execve(2), the kernel calculates the new capabilities of the process using the following algorithm'),
  anchors: {
    runtimeTools: ['process_capabilities', 'validateCapabilities'],
    contest: ['process_capabilities', 'process_capabilities_bounding'],
    crun: ['test_capabilities.py::test_some_caps_bounding', 'test_capabilities.py::test_some_caps_ambient', 'test_capabilities.py::test_some_caps_effective_non_root'],
    ltp: ['userns06'],
  },
  scenario: 'single',
  request: () => ({}),
  check: (o, profile) => {
    const expected = setsAfterExecve(profile.process);
    const observed = observedMasks(o.self.capabilities);
    const wrong = MASK_ORDER.filter((set) => expected[set] !== observed[set]);
    if (wrong.length === 0) return HOLDS;
    return violated(
      wrong.map((set) => `${set}=${maskNames(expected[set])}`).join('; '),
      wrong.map((set) => `${set}=${maskNames(observed[set])}`).join('; '),
    );
  },
};
