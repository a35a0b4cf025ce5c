import fc from 'fast-check';
import type { NamespaceType } from '../../policy/profile/types.js';

/**
 * namespacePaths for a profile of `namespaces`: a non-empty subset of the types the run's
 * namespace holder holds (harness/namespace-holder.ts) among those the profile declares, each
 * joined at the holder's file. Empty when the profile declares none of them.
 */
export function joinedNamespacePaths(namespaces: readonly NamespaceType[],
  held: Partial<Record<NamespaceType, string>>): fc.Arbitrary<Partial<Record<NamespaceType, string>>> {
  const joinable = (Object.keys(held) as NamespaceType[]).filter((ns) => namespaces.includes(ns)).sort();
  if (joinable.length === 0) return fc.constant({});
  return fc.subarray(joinable, { minLength: 1 }).map((types) => Object.fromEntries(types.map((ns) => [ns, held[ns]!])));
}
