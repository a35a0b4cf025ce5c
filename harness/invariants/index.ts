// The invariant catalogue. Adding one: a file in its area's folder and one line here.
import type { Invariant } from '../invariant.js';
import { initIsPid1 } from './pid/init-is-pid1.js';
import { hostProcessesInvisible } from './pid/host-processes-invisible.js';
import { hostnameIsolated } from './uts/hostname-isolated.js';
import { unsharedTypesDiffer } from './ns/unshared-types-differ.js';

export const INVARIANTS: readonly Invariant[] = [
  initIsPid1,
  hostProcessesInvisible,
  hostnameIsolated,
  unsharedTypesDiffer,
];
