// Namespaces a container joins instead of creating: a path per namespace type, such as the
// /run/netns/NAME that `ip netns add` makes or a holder's /proc/PID/ns/TYPE. The runtime-spec
// (config-linux.md "Namespaces"): "The runtime MUST generate an error if `path` is not associated
// with a namespace of type `type`", so the file is checked here, before anything is created.
import { closeSync, constants, openSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { childPath, isPlainObject, readAbsolutePath, readChoice } from './field-reader.js';
import type { ProfileErrorList } from './profile-error.js';
import { NAMESPACE_TYPES, type NamespaceType } from './types.js';

export interface NamespacePathContext {
  namespaces: readonly NamespaceType[];
  checkPaths: boolean;
  /** timeOffsets is given: runc refuses it beside a joined time namespace, whose clocks are someone else's. */
  hasTimeOffsets: boolean;
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
    } else if (type === 'time' && ctx.hasTimeOffsets) {
      errs.addDescribed(at, 'either a time namespace to join or timeOffsets, not both', 'both (the offsets of a joined time namespace are its creator\'s)');
    } else if (ctx.checkPaths) {
      const problem = namespaceFileProblem(nsPath, type);
      if (problem !== undefined) errs.addDescribed(at, `a ${type} namespace file (such as /proc/PID/ns/${type})`, problem);
      else paths[type] = nsPath;
    } else {
      paths[type] = nsPath;
    }
  }
  return errs.count === before ? paths : undefined;
}

/**
 * `file` is the network namespace nsrig itself runs in (the same nsfs inode as /proc/self/ns/net):
 * joining it shares the host's, where runc refuses net.* sysctls. False when either cannot be read
 * (namespaceFileProblem reports that).
 */
export function isOwnNetworkNamespace(file: string): boolean {
  try {
    const own = statSync('/proc/self/ns/net');
    const joined = statSync(file);
    return own.dev === joined.dev && own.ino === joined.ino;
  } catch {
    return false;
  }
}

/**
 * What is wrong with `file` as a namespace of `type`, or undefined. A namespace file lives on nsfs
 * (the device of /proc/self/ns/*) and its inode number is the namespace's; the type shows as
 * "TYPE:[INODE]" where /proc/self/fd shows an open /proc/PID/ns link, and as the root of the
 * nsfs mount where one is bound elsewhere (/run/netns/NAME in /proc/self/mountinfo). So the type
 * is read without an ioctl; the launch checks again with NS_GET_NSTYPE (core/container.ts).
 */
export function namespaceFileProblem(file: string, type: NamespaceType): string | undefined {
  let fd: number;
  let ino: number;
  try {
    const st = statSync(file);
    if (st.dev !== statSync('/proc/self/ns/net').dev) return `${file}, which is not a namespace file`;
    ino = st.ino;
    // O_NONBLOCK: nothing on nsfs blocks, but the open must not hang if the file changed since the stat.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${file}, which does not exist` : `${file}, which cannot be opened (${code ?? 'error'})`;
  }
  let link = '';
  try {
    link = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    // Read from mountinfo below.
  } finally {
    closeSync(fd);
  }
  const actual = /^([a-z]+):\[(\d+)\]$/.exec(link)?.[1] ?? boundNamespaceType(ino);
  if (actual === undefined) return `${file}, a namespace file whose type neither /proc/self/fd nor /proc/self/mountinfo tells`;
  if (actual !== type) return `${file}, a namespace of type ${actual}`;
  return undefined;
}

/** The type of the namespace of inode `ino` from the root of an nsfs mount in /proc/self/mountinfo ("net:[4026532008]"). */
function boundNamespaceType(ino: number): string | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    if (after?.split(' ')[0] !== 'nsfs') continue;
    const root = /^([a-z]+):\[(\d+)\]$/.exec(before!.split(' ')[3] ?? '');
    if (root !== null && Number(root[2]) === ino) return root[1];
  }
  return undefined;
}
