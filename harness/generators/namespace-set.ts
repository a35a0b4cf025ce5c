import fc from 'fast-check';
import type { NamespaceType } from '../../policy/profile/types.js';

/**
 * Namespace sets. mnt and user are always present: a generated profile must never hand the probe
 * real root over the host's own mounts. The other six vary; `required` are always in.
 */
export const ALWAYS: readonly NamespaceType[] = ['mnt', 'user'];
const OPTIONAL: readonly NamespaceType[] = ['pid', 'uts', 'ipc', 'net', 'cgroup', 'time'];

export function namespaceSet(required: readonly NamespaceType[] = []): fc.Arbitrary<NamespaceType[]> {
  const free = OPTIONAL.filter((ns) => !required.includes(ns));
  return fc.subarray([...free]).map((chosen) => {
    const set = new Set<NamespaceType>([...ALWAYS, ...required, ...chosen]);
    return [...set].sort();
  });
}
