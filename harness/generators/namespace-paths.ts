import fc from 'fast-check';
import type { IdMapping, NamespaceType } from '../../policy/profile/types.js';
import { USER_NAMESPACE_MAP } from '../namespace-holder.js';

/**
 * namespacePaths for a profile of `namespaces`: a non-empty subset of the types the run's
 * namespace holder holds (harness/namespace-holder.ts) among those the profile declares, each
 * joined at the holder's file. Empty when the profile declares none of them. A profile with a user
 * namespace always joins the holder's: the holder's other namespaces belong to it, and a new user
 * namespace's root could mount no proc, sysfs or mqueue for them (EPERM, under every runtime).
 */
export function joinedNamespacePaths(namespaces: readonly NamespaceType[],
  held: Partial<Record<NamespaceType, string>>): fc.Arbitrary<Partial<Record<NamespaceType, string>>> {
  const joinable = (Object.keys(held) as NamespaceType[]).filter((ns) => namespaces.includes(ns)).sort();
  if (joinable.length === 0) return fc.constant({});
  const pathsOf = (types: NamespaceType[]) => Object.fromEntries(types.map((ns) => [ns, held[ns]!]));
  if (!joinable.includes('user')) return namespaces.includes('user') ? fc.constant({}) : fc.subarray(joinable, { minLength: 1 }).map(pathsOf);
  return fc.subarray(joinable.filter((ns) => ns !== 'user')).map((types) => pathsOf(['user', ...types]));
}

/** The held user namespace's own mappings (USER_NAMESPACE_MAP), which a profile joining it declares: runc 1.1 requires mappings beside the path. */
export const HELD_USER_MAPPINGS: readonly IdMapping[] = USER_NAMESPACE_MAP.trim().split('\n').map((line) => {
  const [containerId, hostId, size] = line.split(' ').map(Number);
  return { containerId: containerId!, hostId: hostId!, size: size! };
});
