// Kernel parameters a container may set: only those that belong to a namespace the container has
// its own of, so writing one never changes the host. The rules are runc's and crun's: net.* with
// the network namespace, the System V IPC limits and fs.mqueue.* with the IPC namespace, the UTS
// names with the UTS namespace (and not beside the field that sets the same name); anything else
// is global and refused.
import { childPath, isPlainObject, readString } from './field-reader.js';
import { requireNamespace } from './namespace-requirements.js';
import type { ProfileErrorList } from './profile-error.js';
import type { NamespaceType } from './types.js';

/** ipc_namespaces(7): the IPC limits each IPC namespace has its own copy of. */
const IPC_SYSCTLS = ['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax',
  'kernel.shmmni', 'kernel.shm_rmid_forced'];
const UTS_SYSCTLS: Readonly<Record<string, 'hostname' | 'domainname'>> = { 'kernel.hostname': 'hostname', 'kernel.domainname': 'domainname' };

const NAME_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;
const NAME_EXPECTED = 'a sysctl name of dot-separated parts (letters, digits, "_", "-"), such as net.ipv4.ip_forward';

/** The namespace a sysctl belongs to, or undefined for a global one. */
export function sysctlNamespace(name: string): NamespaceType | undefined {
  if (name.startsWith('net.')) return 'net';
  if (IPC_SYSCTLS.includes(name) || name.startsWith('fs.mqueue.')) return 'ipc';
  if (Object.hasOwn(UTS_SYSCTLS, name)) return 'uts';
  return undefined;
}

/** Where a sysctl lives below /proc/sys: each "." a directory level, as sysctl(8) reads it. */
export function sysctlPath(name: string): string {
  return `/proc/sys/${name.split('.').join('/')}`;
}

/**
 * `joinedHostNetwork`: the path the profile joins as its network namespace is nsrig's own (runc's
 * rule: a joined namespace that is the runtime's own is the host's, however it is reached).
 */
export function readSysctl(errs: ProfileErrorList, value: unknown, path: string, namespaces: readonly NamespaceType[],
  setNames: { hostname?: string; domainname?: string }, joinedHostNetwork = false): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    errs.add(path, 'an object of sysctl names to string values', value);
    return undefined;
  }
  const before = errs.count;
  const sysctl: Record<string, string> = {};
  for (const [name, raw] of Object.entries(value)) {
    const at = childPath(path, name);
    const hint = typeof raw === 'number' ? ' (quote it)' : '';
    const text = readString(errs, raw, at, `a string${hint}`);
    if (text === undefined) continue;
    if (!NAME_PATTERN.test(name)) {
      errs.addDescribed(at, NAME_EXPECTED, `the name ${JSON.stringify(name)}`);
      continue;
    }
    const namespace = sysctlNamespace(name);
    if (namespace === undefined) {
      errs.addDescribed(at, 'a sysctl of the net, ipc or uts namespace (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, ' +
        'kernel.hostname, kernel.domainname)', `${JSON.stringify(name)}, which is not namespaced: it would change the host`);
      continue;
    }
    if (!requireNamespace(errs, namespaces, namespace, at, `sysctl ${name}`)) continue;
    if (namespace === 'net' && joinedHostNetwork) {
      const joined = errs.translate('namespacePaths.net');
      errs.addDescribed(at, `a network namespace of the container's own (${joined} names nsrig's own, the host's)`,
        'the host\'s network namespace', `sysctl ${name} would change the host's`);
      continue;
    }
    const field = UTS_SYSCTLS[name];
    if (field !== undefined && setNames[field] !== undefined) {
      errs.addDescribed(at, `no ${name} beside the ${field} field`, `both`, `sysctl ${name} conflicts with ${field}`);
      continue;
    }
    sysctl[name] = text;
  }
  return errs.count === before ? sysctl : undefined;
}
