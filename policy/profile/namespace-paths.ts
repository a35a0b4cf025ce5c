// Namespaces a container joins instead of creating: a path per namespace type, such as the
// /run/netns/NAME that `ip netns add` makes. Stage 2 joins them with setns(2) before any other
// setup, so only namespaces a multithreaded process may enter are joinable so far.
import { existsSync } from 'node:fs';
import { childPath, isPlainObject, readAbsolutePath, readChoice } from './field-reader.js';
import type { ProfileErrorList } from './profile-error.js';
import { NAMESPACE_TYPES, type NamespaceType } from './types.js';

/**
 * setns(2) into a user or mount namespace needs a single-threaded caller, and stage 2 is a Node
 * process with threads; a pid namespace joined by setns holds only later children; cgroup and
 * time are entered by unshare in stage 2. These are joined by clone-time work nsrig does not do yet.
 */
export const JOINABLE_NAMESPACES: readonly NamespaceType[] = ['net', 'ipc', 'uts'];

export interface NamespacePathContext {
  namespaces: readonly NamespaceType[];
  checkPaths: boolean;
}

export function readNamespacePaths(errs: ProfileErrorList, value: unknown, path: string,
  ctx: NamespacePathContext): Partial<Record<NamespaceType, string>> | undefined {
  if (!isPlainObject(value)) {
    errs.add(path, 'an object of namespace types to paths', value);
    return undefined;
  }
  const before = errs.count;
  const paths: Partial<Record<NamespaceType, string>> = {};
  for (const [key, raw] of Object.entries(value)) {
    const at = childPath(path, key);
    const type = readChoice(errs, key, at, NAMESPACE_TYPES);
    const nsPath = readAbsolutePath(errs, raw, at);
    if (type === undefined || nsPath === undefined) continue;
    if (!ctx.namespaces.includes(type)) {
      errs.addDescribed(at, `"${type}" in namespaces`, 'a path for a namespace the profile does not ask for');
    } else if (!JOINABLE_NAMESPACES.includes(type)) {
      errs.addDescribed(at, `a path only for ${JOINABLE_NAMESPACES.join(', ')}`, `a ${type} namespace to join ` +
        '(nsrig joins a namespace from stage 2, a Node process with threads, where setns(2) into this type is refused or has no effect)');
    } else if (ctx.namespaces.includes('user')) {
      errs.addDescribed(at, 'no namespace to join beside a new user namespace', `a ${type} namespace to join ` +
        '(the user namespace is created first, at clone, and would hold no capability over a namespace the host owns)');
    } else if (ctx.checkPaths && !existsSync(nsPath)) {
      errs.add(at, 'an existing namespace file on the host', nsPath);
    } else {
      paths[type] = nsPath;
    }
  }
  return errs.count === before ? paths : undefined;
}
