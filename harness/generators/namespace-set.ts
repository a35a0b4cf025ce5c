import fc from 'fast-check';
import type { NamespaceType } from '../../policy/profile/types.js';

/**
 * Namespace sets. mnt and user are always present (only GenerationOptions.userNamespace drops user,
 * for invariants whose probe changes nothing on the host): a generated profile must never hand the probe
 * real root over the host's own mounts. pid too: the probe reads /proc, and a user-namespaced
 * container can mount its own proc only in its own PID namespace (runc refuses a config without
 * one). The other five vary; `required` are always in, `excluded` never (a target that cannot
 * create them).
 */
export const ALWAYS: readonly NamespaceType[] = ['mnt', 'user', 'pid'];
const OPTIONAL: readonly NamespaceType[] = ['uts', 'ipc', 'net', 'cgroup', 'time'];

export function namespaceSet(required: readonly NamespaceType[] = [], excluded: readonly NamespaceType[] = []): fc.Arbitrary<NamespaceType[]> {
  const free = OPTIONAL.filter((ns) => !required.includes(ns) && !excluded.includes(ns));
  return fc.subarray([...free]).map((chosen) => {
    const set = new Set<NamespaceType>([...ALWAYS, ...required, ...chosen]);
    return [...set].sort();
  });
}
