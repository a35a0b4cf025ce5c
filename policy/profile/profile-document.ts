// Our profile format (policy/profile/README.md) read into a resolved Profile: every field checked,
// every default applied, every rule that ties two fields together enforced. Errors go to the list;
// the caller throws them all at once.
import { statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import {
  DEFAULT_MASKED_PATHS, DEFAULT_NAMESPACES, DEFAULT_READONLY_PATHS, NAMESPACE_TYPES,
  type NamespaceType, type ProcessConfig, type Profile, type RootfsConfig, type UserNamespaceConfig,
} from './types.js';
import {
  childPath, isPlainObject, readAbsolutePath, readBoolean, readChoice, readInteger, readObject, readString, readUniqueList, valueOr,
} from './field-reader.js';
import { DEFAULT_ID_MAPPING, isMapped, readIdMappings } from './id-mappings.js';
import { defaultMounts, readMounts, readPathList } from './mounts.js';
import { readDeviceNodes } from './device-nodes.js';
import { requireNamespace } from './namespace-requirements.js';
import { isOwnNetworkNamespace, readNamespacePaths } from './namespace-paths.js';
import { readNetwork } from './network.js';
import { readSysctl } from './sysctl.js';
import { readHooks } from './hooks.js';
import { readProcess } from './process-section.js';
import { readCgroupsPath, readResources } from './resources.js';
import {
  readSeccomp, type SeccompPolicyFileLoader, type SeccompPolicyValidator, type SeccompReadOptions,
} from './seccomp-reference.js';
import type { ProfileErrorList } from './profile-error.js';

export const PROFILE_FIELDS = [
  'name', 'namespaces', 'hostname', 'domainname', 'user', 'rootfs', 'mounts', 'maskedPaths', 'readonlyPaths', 'devices',
  'network', 'process', 'timeOffsets', 'seccomp', 'resources', 'cgroupsPath', 'sysctl', 'namespacePaths', 'hooks',
];

/** How a profile is loaded; every field is optional. */
export interface ProfileLoadOptions {
  /** Checks a seccomp policy's contents (policy/seccomp plugs its validator in here). */
  validatePolicy?: SeccompPolicyValidator;
  /** Check on the host that the rootfs directory and bind sources exist. Default true. */
  checkPaths?: boolean;
  /** Reads and checks a referenced seccomp file instead of JSON.parse + validatePolicy (policy/seccomp's loadPolicyFile). */
  loadPolicyFile?: SeccompPolicyFileLoader;
  /** Where relative paths (seccomp file, OCI root.path) are resolved from. Default: the source's directory. */
  baseDir?: string;
  /**
   * Told, one line each, what a config.json asks for that is carried out as runc and crun carry
   * it out rather than as written (an ambient capability that cannot be raised). Default: dropped.
   */
  warn?: (message: string) => void;
}

export interface DocumentReadOptions extends SeccompReadOptions {
  checkPaths: boolean;
  warn?: (message: string) => void;
}

export function resolveLoadOptions(sourceName: string, opts: ProfileLoadOptions): DocumentReadOptions {
  return {
    baseDir: opts.baseDir ?? dirname(resolve(sourceName)),
    checkPaths: opts.checkPaths ?? true,
    ...(opts.validatePolicy === undefined ? {} : { validatePolicy: opts.validatePolicy }),
    ...(opts.loadPolicyFile === undefined ? {} : { loadPolicyFile: opts.loadPolicyFile }),
    ...(opts.warn === undefined ? {} : { warn: opts.warn }),
  };
}

/** A Profile when the document is valid; otherwise undefined, with every error in `errs`. */
export function readProfileDocument(errs: ProfileErrorList, value: unknown, opts: DocumentReadOptions): Profile | undefined {
  const doc = readObject(errs, value, '', PROFILE_FIELDS);
  if (doc === undefined) return undefined;
  const before = errs.count;
  const name = doc.name === undefined ? nameFromSource(errs.file) : readName(errs, doc.name, 'name');
  const readNamespacesResult = doc.namespaces === undefined ? [...DEFAULT_NAMESPACES] : readNamespaces(errs, doc.namespaces, 'namespaces');
  // Unreadable namespaces must not make every namespace-bound field an error too.
  const namespaces = readNamespacesResult ?? [...NAMESPACE_TYPES];
  const has = (ns: NamespaceType): boolean => namespaces.includes(ns);
  const hostname = doc.hostname === undefined ? undefined : readHostname(errs, doc.hostname, 'hostname', namespaces);
  const domainname = doc.domainname === undefined ? undefined : readDomainname(errs, doc.domainname, 'domainname', namespaces);
  const joinsUser = has('user') && isPlainObject(doc.namespacePaths) && doc.namespacePaths.user !== undefined;
  const user = readUser(errs, doc.user, 'user', namespaces, joinsUser, opts.warn);
  const rootfs = readRootfs(errs, doc.rootfs, 'rootfs', namespaces, opts.checkPaths);
  const mountCtx = { namespaces, checkPaths: opts.checkPaths };
  const mounts = doc.mounts === undefined ? defaultMounts(namespaces) : readMounts(errs, doc.mounts, 'mounts', mountCtx);
  const maskedPaths = readPaths(errs, doc.maskedPaths, 'maskedPaths', namespaces, DEFAULT_MASKED_PATHS);
  const readonlyPaths = readPaths(errs, doc.readonlyPaths, 'readonlyPaths', namespaces, DEFAULT_READONLY_PATHS);
  const devices = readDeviceNodes(errs, doc.devices, 'devices', namespaces);
  const network = readNetwork(errs, doc.network, 'network', namespaces);
  const process = readProcess(errs, valueOr(doc.process, {}), 'process');
  const timeOffsets = doc.timeOffsets === undefined ? undefined : readTimeOffsets(errs, doc.timeOffsets, 'timeOffsets', namespaces);
  const seccomp = doc.seccomp === undefined ? undefined : readSeccomp(errs, doc.seccomp, 'seccomp', opts);
  const resources = doc.resources === undefined ? undefined : readResources(errs, doc.resources, 'resources');
  const cgroupsPath = doc.cgroupsPath === undefined ? undefined : readCgroupsPath(errs, doc.cgroupsPath, 'cgroupsPath');
  const netPath = isPlainObject(doc.namespacePaths) ? doc.namespacePaths.net : undefined;
  // Two stats, needed only to judge net.* sysctls.
  const joinedHostNetwork = doc.sysctl !== undefined && opts.checkPaths && typeof netPath === 'string' && isOwnNetworkNamespace(netPath);
  const sysctl = doc.sysctl === undefined ? undefined : readSysctl(errs, doc.sysctl, 'sysctl', namespaces, { hostname, domainname }, joinedHostNetwork);
  const namespacePaths = doc.namespacePaths === undefined ? undefined
    : readNamespacePaths(errs, doc.namespacePaths, 'namespacePaths', { namespaces, checkPaths: opts.checkPaths, hasTimeOffsets: doc.timeOffsets !== undefined });
  const hooks = doc.hooks === undefined ? undefined : readHooks(errs, doc.hooks, 'hooks');
  // In a joined user namespace the ids are looked up in its own mappings, which only the launch can read.
  if (user !== undefined && process !== undefined && has('user') && !joinsUser) checkIdsMapped(errs, user, process);
  if (errs.count !== before || name === undefined || readNamespacesResult === undefined || user === undefined
    || rootfs === undefined || mounts === undefined || maskedPaths === undefined || readonlyPaths === undefined
    || devices === undefined || network === undefined || process === undefined) {
    return undefined;
  }
  return {
    source: errs.file, name, namespaces, ...(hostname === undefined ? {} : { hostname }),
    ...(domainname === undefined ? {} : { domainname }), user, rootfs, mounts, maskedPaths, readonlyPaths,
    ...(devices.length === 0 ? {} : { devices }), network, process,
    ...(timeOffsets === undefined ? {} : { timeOffsets }), ...(seccomp === undefined ? {} : { seccomp }),
    ...(resources === undefined ? {} : { resources }), ...(cgroupsPath === undefined ? {} : { cgroupsPath }),
    ...(sysctl === undefined || Object.keys(sysctl).length === 0 ? {} : { sysctl }),
    ...(namespacePaths === undefined || Object.keys(namespacePaths).length === 0 ? {} : { namespacePaths }),
    ...(hooks === undefined || Object.keys(hooks).length === 0 ? {} : { hooks }),
  };
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const NAME_EXPECTED = 'a name of 1 to 128 letters, digits, ".", "_" or "-", starting with a letter or digit';

function readName(errs: ProfileErrorList, value: unknown, path: string): string | undefined {
  const name = readString(errs, value, path, NAME_EXPECTED);
  if (name === undefined || NAME_PATTERN.test(name)) return name;
  errs.add(path, NAME_EXPECTED, name);
  return undefined;
}

/** "web-sandbox.yaml" → "web-sandbox"; what cannot be in a name becomes "-". */
export function nameFromSource(source: string): string {
  const stem = basename(source, extname(source)).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '').slice(0, 128);
  return stem === '' ? 'profile' : stem;
}

function readNamespaces(errs: ProfileErrorList, value: unknown, path: string): NamespaceType[] | undefined {
  return readUniqueList(errs, value, path, (item, at) => readChoice(errs, item, at, NAMESPACE_TYPES), 'namespace');
}

/** HOST_NAME_MAX and the NIS domain name limit in struct utsname. */
const UTS_NAME_MAX = 64;
const HOSTNAME_EXPECTED = `a host name of at most ${UTS_NAME_MAX} bytes: letters, digits and "-" in labels separated by ".", no label starting with "-"`;
const HOSTNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]*(\.[A-Za-z0-9][A-Za-z0-9-]*)*$/;

function readHostname(errs: ProfileErrorList, value: unknown, path: string, namespaces: NamespaceType[]): string | undefined {
  const hostname = readString(errs, value, path, HOSTNAME_EXPECTED);
  if (hostname === undefined || !requireNamespace(errs, namespaces, 'uts', path, 'hostname')) return undefined;
  if (hostname.length <= UTS_NAME_MAX && HOSTNAME_PATTERN.test(hostname)) return hostname;
  errs.add(path, HOSTNAME_EXPECTED, hostname);
  return undefined;
}

const DOMAINNAME_EXPECTED = `a domain name of 1 to ${UTS_NAME_MAX} printable ASCII characters without spaces`;

function readDomainname(errs: ProfileErrorList, value: unknown, path: string, namespaces: NamespaceType[]): string | undefined {
  const domainname = readString(errs, value, path, DOMAINNAME_EXPECTED);
  if (domainname === undefined || !requireNamespace(errs, namespaces, 'uts', path, 'domainname')) return undefined;
  if (/^[!-~]{1,64}$/.test(domainname)) return domainname;
  errs.add(path, DOMAINNAME_EXPECTED, domainname);
  return undefined;
}

/**
 * Mappings default to a non-identity range; one side given alone serves for the other too.
 * With `joined` (namespacePaths.user) the mappings are the joined namespace's own, which nothing
 * writes: declared ones are kept but ignored with a warning, as runc 1.1 ignores them (containerd
 * and CRI-O declare the joined namespace's mappings beside its path), and none are assumed.
 */
function readUser(errs: ProfileErrorList, value: unknown, path: string, namespaces: NamespaceType[], joined = false,
  warn?: (message: string) => void): UserNamespaceConfig | undefined {
  const hasUser = namespaces.includes('user');
  if (value === undefined && !hasUser) return { uidMappings: [], gidMappings: [], setgroups: 'allow' };
  const fields = value === undefined ? {} : readObject(errs, value, path, ['uidMappings', 'gidMappings', 'setgroups']);
  const namespaceOk = value === undefined || requireNamespace(errs, namespaces, 'user', path, 'user');
  if (fields === undefined) return undefined;
  const uids = fields.uidMappings === undefined ? undefined : readIdMappings(errs, fields.uidMappings, childPath(path, 'uidMappings'));
  const gids = fields.gidMappings === undefined ? undefined : readIdMappings(errs, fields.gidMappings, childPath(path, 'gidMappings'));
  const setgroups = fields.setgroups === undefined ? 'deny' : readChoice(errs, fields.setgroups, childPath(path, 'setgroups'), ['allow', 'deny'] as const);
  if (!namespaceOk || (fields.uidMappings !== undefined && uids === undefined) || (fields.gidMappings !== undefined && gids === undefined)
    || setgroups === undefined) {
    return undefined;
  }
  if (joined) {
    for (const side of ['uidMappings', 'gidMappings'] as const) {
      if (fields[side] !== undefined) {
        warn?.(`${errs.file}: ${errs.translate(childPath(path, side))}: ignored: the user namespace is joined (${errs.translate('namespacePaths.user')}) and keeps its own mappings`);
      }
    }
    // Kept as declared, for a config.json written back (runc 1.1 requires them beside the path), never written.
    const declared = uids ?? gids ?? [];
    return { uidMappings: declared.map((m) => ({ ...m })), gidMappings: (gids ?? declared).map((m) => ({ ...m })), setgroups };
  }
  const uidMappings = uids ?? gids ?? [{ ...DEFAULT_ID_MAPPING }];
  const gidMappings = gids ?? uidMappings;
  return { uidMappings: uidMappings.map((m) => ({ ...m })), gidMappings: gidMappings.map((m) => ({ ...m })), setgroups };
}

const PROPAGATIONS = ['private', 'slave', 'shared', 'unbindable'] as const;

function readRootfs(errs: ProfileErrorList, value: unknown, path: string, namespaces: NamespaceType[],
  checkPaths: boolean): RootfsConfig | undefined {
  const hasMnt = namespaces.includes('mnt');
  if (value === undefined) return { path: '/', readonly: hasMnt, propagation: 'private' };
  const fields = readObject(errs, value, path, ['path', 'readonly', 'propagation']);
  const namespaceOk = requireNamespace(errs, namespaces, 'mnt', path, 'rootfs');
  if (fields === undefined) return undefined;
  const rootPath = fields.path === undefined ? '/' : readAbsolutePath(errs, fields.path, childPath(path, 'path'));
  const readonly = fields.readonly === undefined ? true : readBoolean(errs, fields.readonly, childPath(path, 'readonly'));
  const propagation = fields.propagation === undefined ? 'private'
    : readChoice(errs, fields.propagation, childPath(path, 'propagation'), PROPAGATIONS);
  if (!namespaceOk || rootPath === undefined || readonly === undefined || propagation === undefined) return undefined;
  if (checkPaths && rootPath !== '/' && !isDirectory(rootPath)) {
    errs.add(childPath(path, 'path'), 'an existing directory on the host', rootPath);
    return undefined;
  }
  return { path: rootPath, readonly, propagation };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function readPaths(errs: ProfileErrorList, value: unknown, path: string, namespaces: NamespaceType[],
  defaults: readonly string[]): string[] | undefined {
  if (value === undefined) return namespaces.includes('mnt') ? [...defaults] : [];
  const paths = readPathList(errs, value, path);
  if (paths === undefined || paths.length === 0) return paths;
  return requireNamespace(errs, namespaces, 'mnt', path, path) ? paths : undefined;
}

/** KTIME_SEC_MAX / 2: the kernel refuses a larger time namespace offset with ERANGE. */
export const MAX_TIME_OFFSET_SECONDS = 4611686018;

function readTimeOffsets(errs: ProfileErrorList, value: unknown, path: string,
  namespaces: NamespaceType[]): { monotonic: number; boottime: number } | undefined {
  const fields = readObject(errs, value, path, ['monotonic', 'boottime']);
  const namespaceOk = requireNamespace(errs, namespaces, 'time', path, 'timeOffsets');
  if (fields === undefined) return undefined;
  const read = (key: string): number | undefined => fields[key] === undefined ? 0
    : readInteger(errs, fields[key], childPath(path, key), -MAX_TIME_OFFSET_SECONDS, MAX_TIME_OFFSET_SECONDS);
  const monotonic = read('monotonic');
  const boottime = read('boottime');
  return !namespaceOk || monotonic === undefined || boottime === undefined ? undefined : { monotonic, boottime };
}

/**
 * Inside a user namespace the process's ids must have host ids, or setuid/setgid fail; and with
 * setgroups denied the process cannot have supplementary groups at all.
 */
function checkIdsMapped(errs: ProfileErrorList, user: UserNamespaceConfig, process: ProcessConfig): void {
  if (!isMapped(user.uidMappings, process.uid)) {
    errs.add('process.user.uid', 'a uid that user.uidMappings maps', process.uid);
  }
  if (!isMapped(user.gidMappings, process.gid)) {
    errs.add('process.user.gid', 'a gid that user.gidMappings maps', process.gid);
  }
  if (user.setgroups === 'deny' && process.additionalGids.length > 0) {
    errs.addDescribed('process.user.additionalGids', 'an empty list, or user.setgroups set to allow', `${process.additionalGids.length} groups`,
      'supplementary groups require setgroups allow');
    return;
  }
  process.additionalGids.forEach((gid, i) => {
    if (!isMapped(user.gidMappings, gid)) errs.add(`process.user.additionalGids[${i}]`, 'a gid that user.gidMappings maps', gid);
  });
}
