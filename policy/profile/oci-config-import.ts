// An OCI runtime-spec config.json read as a profile. The config is rewritten into our own
// document shape with OCI semantics made explicit (an omitted list is empty, an omitted flag is
// off), then read by the same rules as any profile; a path translation makes every error name
// the config's own field (`linux.uidMappings[0].containerID`, not ours).
import { basename, dirname, resolve } from 'node:path';
import { NAMESPACE_TYPES, type MountType, type NamespaceType, type Profile } from './types.js';
import { childPath, isPlainObject, readList, readObject, readString, valueOr, type Fields } from './field-reader.js';
import { normaliseCapabilityName } from './capabilities.js';
import { NSRIG_ANNOTATIONS, OCI_NAMESPACE_NAMES, OCI_RLIM_INFINITY } from './oci-spec.js';
import { ProfileErrorList, ProfileErrors } from './profile-error.js';
import { ociConfigShape } from './oci-config-schema.js';
import { nameFromSource, readProfileDocument, resolveLoadOptions, type ProfileLoadOptions } from './profile-document.js';

type Unsupported = Readonly<Record<string, string>>;

const TOP_FIELDS = ['ociVersion', 'process', 'root', 'hostname', 'domainname', 'mounts', 'linux', 'annotations', 'hooks'];
const TOP_UNSUPPORTED: Unsupported = {
  solaris: 'nsrig runs Linux containers only', windows: 'nsrig runs Linux containers only',
  vm: 'nsrig runs no virtual machines', zos: 'nsrig runs Linux containers only',
};
const PROCESS_FIELDS = ['terminal', 'consoleSize', 'cwd', 'env', 'args', 'rlimits', 'capabilities', 'noNewPrivileges', 'user',
  'oomScoreAdj', 'apparmorProfile', 'selinuxLabel'];
const PROCESS_UNSUPPORTED: Unsupported = {
  commandLine: 'it is for Windows', scheduler: 'nsrig sets no scheduling policy', ioPriority: 'nsrig sets no I/O priority',
  execCPUAffinity: 'nsrig sets no CPU affinity',
};
/** An empty label is no label; any other is refused, as runc 1.1.5 and crun 1.8.1 refuse it on a host without the LSM. */
const LSM_FIELDS: Readonly<Record<string, string>> = {
  apparmorProfile: 'nsrig applies no AppArmor profile; runc and crun refuse one where AppArmor is not enabled',
  selinuxLabel: 'nsrig sets no SELinux label; runc and crun refuse one where SELinux is not enabled',
};
const LINUX_FIELDS = ['namespaces', 'uidMappings', 'gidMappings', 'maskedPaths', 'readonlyPaths', 'rootfsPropagation', 'seccomp',
  'timeOffsets', 'resources', 'devices', 'cgroupsPath', 'sysctl', 'personality'];
const LINUX_UNSUPPORTED: Unsupported = {
  intelRdt: 'nsrig does not use Intel RDT', mountLabel: 'nsrig sets no SELinux mount label',
  memoryPolicy: 'nsrig sets no NUMA memory policy',
  netDevices: 'nsrig moves no network devices', unshareFlags: 'nsrig knows no such setting',
};
/** config-linux.md's personality domains, by our names. */
const PERSONALITY_DOMAINS: Readonly<Record<string, string>> = { LINUX: 'linux', LINUX32: 'linux32' };
const FROM_OCI_NAMESPACE: Readonly<Record<string, NamespaceType>> = Object.fromEntries(
  NAMESPACE_TYPES.map((ns) => [OCI_NAMESPACE_NAMES[ns], ns]));

/** Doc paths → config paths; the longest matching prefix wins. */
class PathTranslation {
  private readonly pairs: [string, string][] = [];
  add(docPath: string, ociPath: string): void {
    this.pairs.push([docPath, ociPath]);
  }
  translate(path: string): string {
    let best: [string, string] | undefined;
    for (const pair of this.pairs) {
      const [doc] = pair;
      const matches = path === doc || path.startsWith(`${doc}.`) || path.startsWith(`${doc}[`);
      if (matches && (best === undefined || doc.length > best[0].length)) best = pair;
    }
    return best === undefined ? path : best[1] + path.slice(best[0].length);
  }
}

interface Conversion {
  errs: ProfileErrorList;
  /** One line about something carried out differently from how the config reads, never an error. */
  warn: (message: string) => void;
  paths: PathTranslation;
  baseDir: string;
}

/** A profile from a parsed config.json; throws ProfileErrors naming the config's fields. */
export function profileFromOciConfig(config: unknown, sourceName: string, opts: ProfileLoadOptions = {}): Profile {
  const shapeErrs = new ProfileErrorList(sourceName);
  ociConfigShape(shapeErrs, config, '');
  const errs = new ProfileErrorList(sourceName);
  const readOpts = resolveLoadOptions(sourceName, opts);
  const conv: Conversion = { errs, paths: new PathTranslation(), baseDir: readOpts.baseDir, warn: opts.warn ?? (() => {}) };
  const doc = documentFromConfig(conv, config, sourceName);
  if (errs.count > 0) throwWithShapeErrors(shapeErrs, errs);
  errs.translate = (path) => conv.paths.translate(path);
  const profile = readProfileDocument(errs, doc, readOpts);
  throwWithShapeErrors(shapeErrs, errs);
  return profile!;
}

/**
 * A malformed value is reported once. The reading of what a field means says it best where it
 * has a word on that field (an id "from 0 to 4294967294", not any uint32); elsewhere the shape
 * error stands, for the fields nsrig reads no meaning from.
 */
function throwWithShapeErrors(shapeErrs: ProfileErrorList, errs: ProfileErrorList): void {
  const within = (path: string, outer: string): boolean =>
    path === outer || outer === '' || path.startsWith(`${outer}.`) || path.startsWith(`${outer}[`);
  const shape = shapeErrs.errors.filter((s) => !errs.errors.some((e) => within(e.fieldPath, s.fieldPath)));
  const all = [...errs.errors, ...shape];
  if (all.length > 0) throw new ProfileErrors(all);
}

function readSection(errs: ProfileErrorList, value: unknown, path: string, known: string[], unsupported: Unsupported): Fields | undefined {
  const fields = readObject(errs, value, path, [...known, ...Object.keys(unsupported)]);
  if (fields === undefined) return undefined;
  for (const [key, reason] of Object.entries(unsupported)) {
    if (fields[key] !== undefined) errs.add(childPath(path, key), `no ${key} (${reason})`, fields[key]);
  }
  return fields;
}

function documentFromConfig(conv: Conversion, config: unknown, sourceName: string): Fields {
  const { errs, paths } = conv;
  const top = readSection(errs, config, '', TOP_FIELDS, TOP_UNSUPPORTED);
  if (top === undefined) return {};
  const version = readString(errs, top.ociVersion, 'ociVersion', 'a runtime-spec version such as "1.0.2"');
  if (version !== undefined && !/^1\.\d+\.\d+/.test(version)) errs.add('ociVersion', 'a runtime-spec version 1.x.y', version);
  const linux = top.linux === undefined ? {} : readSection(errs, top.linux, 'linux', LINUX_FIELDS, LINUX_UNSUPPORTED) ?? {};
  const doc: Fields = {};
  const nsPaths: Fields = {};
  const namespaces = namespacesFromConfig(conv, linux.namespaces, nsPaths);
  doc.namespaces = namespaces;
  paths.add('namespaces', 'linux.namespaces');
  if (Object.keys(nsPaths).length > 0) doc.namespacePaths = nsPaths;
  if (linux.sysctl !== undefined) {
    doc.sysctl = linux.sysctl;
    paths.add('sysctl', 'linux.sysctl');
  }
  for (const key of ['hostname', 'domainname'] as const) if (top[key] !== undefined) doc[key] = top[key];
  const annotations = readAnnotations(errs, top.annotations);
  doc.name = annotations[NSRIG_ANNOTATIONS.name] ?? defaultName(sourceName);
  paths.add('name', `annotations["${NSRIG_ANNOTATIONS.name}"]`);
  // A joined user namespace keeps its creator's mappings: none are needed (runc and crun run it without).
  const user = userFromConfig(conv, linux, annotations, namespaces.includes('user') && nsPaths.user === undefined);
  if (user !== undefined) doc.user = user;
  const rootfs = rootfsFromConfig(conv, top.root, linux.rootfsPropagation, namespaces.includes('mnt'));
  if (rootfs !== undefined) doc.rootfs = rootfs;
  doc.mounts = mountsFromConfig(conv, top.mounts);
  doc.maskedPaths = valueOr(linux.maskedPaths, []);
  doc.readonlyPaths = valueOr(linux.readonlyPaths, []);
  // Field names are the spec's own; the reader names linux.devices[i].major and so on.
  if (linux.devices !== undefined) doc.devices = linux.devices;
  paths.add('devices', 'linux.devices');
  paths.add('maskedPaths', 'linux.maskedPaths');
  paths.add('readonlyPaths', 'linux.readonlyPaths');
  const network = networkFromAnnotations(conv, annotations);
  if (network !== undefined) doc.network = network;
  doc.process = processFromConfig(conv, top.process, annotations, linux.personality);
  if (linux.timeOffsets !== undefined) doc.timeOffsets = timeOffsetsFromConfig(conv, linux.timeOffsets);
  if (linux.seccomp !== undefined) {
    if (isPlainObject(linux.seccomp)) doc.seccomp = linux.seccomp;
    else errs.add('linux.seccomp', 'an OCI seccomp policy object', linux.seccomp);
    paths.add('seccomp', 'linux.seccomp');
  }
  if (linux.resources !== undefined) {
    doc.resources = linux.resources;
    paths.add('resources', 'linux.resources');
  }
  // Field names are the spec's own: the reader names hooks.createRuntime[0].timeout and so on.
  if (top.hooks !== undefined) doc.hooks = top.hooks;
  paths.add('hooks', 'hooks');
  // runc reads an empty cgroupsPath as none given.
  if (linux.cgroupsPath !== undefined && linux.cgroupsPath !== '') {
    doc.cgroupsPath = linux.cgroupsPath;
    paths.add('cgroupsPath', 'linux.cgroupsPath');
  }
  return doc;
}

function defaultName(sourceName: string): string {
  return basename(sourceName) === 'config.json' ? nameFromSource(basename(dirname(resolve(sourceName)))) : nameFromSource(sourceName);
}

/** nsPaths receives the path of each namespace to join, by our names. */
function namespacesFromConfig(conv: Conversion, value: unknown, nsPaths: Fields): NamespaceType[] {
  const { errs } = conv;
  if (value === undefined) return [];
  const list = readList(errs, value, 'linux.namespaces');
  if (list === undefined) return [...NAMESPACE_TYPES];
  const namespaces: NamespaceType[] = [];
  let complete = true;
  list.forEach((item, i) => {
    const at = childPath('linux.namespaces', i);
    const fields = readObject(errs, item, at, ['type', 'path']);
    const ns = typeof fields?.type === 'string' ? FROM_OCI_NAMESPACE[fields.type] : undefined;
    if (fields !== undefined && ns === undefined) {
      errs.add(childPath(at, 'type'), `one of ${Object.keys(FROM_OCI_NAMESPACE).join(', ')}`, fields.type);
    }
    if (ns === undefined) complete = false;
    else {
      conv.paths.add(`namespaces[${namespaces.length}]`, childPath(at, 'type'));
      namespaces.push(ns);
      if (fields?.path !== undefined) {
        nsPaths[ns] = fields.path;
        conv.paths.add(childPath('namespacePaths', ns), childPath(at, 'path'));
      }
    }
  });
  // A broken entry must not turn every namespace-bound field into a second error.
  return complete ? namespaces : [...NAMESPACE_TYPES];
}

function readAnnotations(errs: ProfileErrorList, value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    errs.add('annotations', 'an object of strings', value);
    return {};
  }
  const known = Object.values(NSRIG_ANNOTATIONS) as string[];
  const ours: Record<string, string> = {};
  for (const [key, text] of Object.entries(value)) {
    const at = `annotations[${JSON.stringify(key)}]`;
    if (typeof text !== 'string') errs.add(at, 'a string', text);
    else if (known.includes(key)) ours[key] = text;
    else if (key.startsWith('org.nsrig.')) errs.addDescribed(at, `one of the nsrig annotations ${known.join(', ')}`, 'an unknown annotation');
  }
  return ours;
}

/** The runtime-spec has no setgroups field; runtimes running as root leave it at allow. */
function userFromConfig(conv: Conversion, linux: Fields, annotations: Record<string, string>, hasUser: boolean): Fields | undefined {
  const user: Fields = {};
  for (const side of ['uidMappings', 'gidMappings'] as const) {
    const ociPath = `linux.${side}`;
    if (linux[side] === undefined) {
      if (hasUser) conv.errs.add(ociPath, `mappings, since the user namespace is requested (runtimes refuse it without ${side})`, undefined);
      continue;
    }
    conv.paths.add(`user.${side}`, ociPath);
    user[side] = Array.isArray(linux[side]) ? linux[side].map((m: unknown, i: number) => mappingFromConfig(conv, m, side, i)) : linux[side];
  }
  const setgroups = annotations[NSRIG_ANNOTATIONS.setgroups];
  if (setgroups !== undefined) {
    user.setgroups = setgroups;
    conv.paths.add('user.setgroups', `annotations["${NSRIG_ANNOTATIONS.setgroups}"]`);
  } else if (hasUser) {
    user.setgroups = 'allow';
  }
  if (Object.keys(user).length === 0) return undefined;
  conv.paths.add('user', 'linux.uidMappings');
  return user;
}

function mappingFromConfig(conv: Conversion, value: unknown, side: string, i: number): unknown {
  const at = `linux.${side}[${i}]`;
  const fields = readObject(conv.errs, value, at, ['containerID', 'hostID', 'size']);
  if (fields === undefined) return {};
  const docAt = `user.${side}[${i}]`;
  conv.paths.add(`${docAt}.containerId`, `${at}.containerID`);
  conv.paths.add(`${docAt}.hostId`, `${at}.hostID`);
  return { containerId: fields.containerID, hostId: fields.hostID, size: fields.size };
}

/**
 * Without a mount namespace the container runs on the host's own root, which is all a config
 * may then ask for: only a root other than that is passed on, to be refused as needing mnt.
 */
function rootfsFromConfig(conv: Conversion, value: unknown, propagation: unknown, hasMnt: boolean): Fields | undefined {
  const root = readObject(conv.errs, value, 'root', ['path', 'readonly']) ?? {};
  conv.paths.add('rootfs', 'root');
  conv.paths.add('rootfs.propagation', 'linux.rootfsPropagation');
  // root.path is relative to the bundle, which is the directory holding config.json.
  const path = typeof root.path === 'string' && root.path !== '' ? resolve(conv.baseDir, root.path) : root.path;
  const rootfs = { path, readonly: valueOr(root.readonly, false), propagation: valueOr(propagation, 'private') };
  const hostRoot = rootfs.path === '/' && rootfs.readonly === false && rootfs.propagation === 'private';
  return hasMnt || !hostRoot ? rootfs : undefined;
}

const OCI_MOUNT_FIELDS = ['destination', 'type', 'source', 'options'];
const OCI_MOUNT_UNSUPPORTED: Unsupported = {
  uidMappings: 'nsrig makes no id-mapped mounts', gidMappings: 'nsrig makes no id-mapped mounts',
};

function mountsFromConfig(conv: Conversion, value: unknown): unknown {
  conv.paths.add('mounts', 'mounts');
  if (value === undefined) return [];
  if (!Array.isArray(value)) return value;
  return value.map((item, i) => mountFromConfig(conv, item, i));
}

/** The mount with its options as they are: the profile reader checks them, naming mounts[i].options[k]. */
function mountFromConfig(conv: Conversion, value: unknown, i: number): Fields {
  const { errs, paths } = conv;
  const at = `mounts[${i}]`;
  const fields = readSection(errs, value, at, OCI_MOUNT_FIELDS, OCI_MOUNT_UNSUPPORTED);
  if (fields === undefined) return {};
  const options = fields.options === undefined ? [] : readList(errs, fields.options, childPath(at, 'options')) ?? [];
  const isBind = options.includes('bind') || options.includes('rbind');
  const kind = mountKind(fields, isBind);
  if (kind === undefined) {
    errs.add(childPath(at, 'type'), 'a filesystem type, or bind (type "bind" or options with bind or rbind)', fields.type);
    return {};
  }
  const mount: Fields = { type: kind, destination: fields.destination, options };
  paths.add(`mounts[${i}]`, at);
  if (kind === 'bind') {
    mount.source = typeof fields.source === 'string' && !fields.source.startsWith('/') ? resolve(conv.baseDir, fields.source) : fields.source;
  }
  if (kind === 'filesystem') {
    mount.fsType = fields.type;
    if (fields.source !== undefined) mount.source = fields.source;
    paths.add(`mounts[${i}].fsType`, childPath(at, 'type'));
  }
  return mount;
}

const OWN_TYPES: readonly string[] = ['proc', 'sysfs', 'mqueue', 'devpts', 'cgroup', 'cgroup2'];

/** runc's reading: bind or rbind among the options makes a bind whatever the type says. */
function mountKind(fields: Fields, isBind: boolean): MountType | undefined {
  if (fields.type === 'bind' || isBind) return 'bind';
  if (fields.type === 'tmpfs') return fields.destination === '/dev' ? 'dev' : 'tmpfs';
  if (typeof fields.type !== 'string' || fields.type === '') return undefined;
  return OWN_TYPES.includes(fields.type) ? fields.type as MountType : 'filesystem';
}

function networkFromAnnotations(conv: Conversion, annotations: Record<string, string>): Fields | undefined {
  const network: Fields = {};
  const loopback = annotations[NSRIG_ANNOTATIONS.loopback];
  if (loopback !== undefined) {
    network.loopback = loopback === 'true' ? true : loopback === 'false' ? false : loopback;
    conv.paths.add('network.loopback', `annotations["${NSRIG_ANNOTATIONS.loopback}"]`);
  }
  const hostAddress = annotations[NSRIG_ANNOTATIONS.vethHostAddress];
  const containerAddress = annotations[NSRIG_ANNOTATIONS.vethContainerAddress];
  if (hostAddress !== undefined || containerAddress !== undefined) {
    network.veth = { hostAddress, containerAddress };
    conv.paths.add('network.veth.hostAddress', `annotations["${NSRIG_ANNOTATIONS.vethHostAddress}"]`);
    conv.paths.add('network.veth.containerAddress', `annotations["${NSRIG_ANNOTATIONS.vethContainerAddress}"]`);
  }
  conv.paths.add('network', 'annotations');
  return Object.keys(network).length === 0 ? undefined : network;
}

function processFromConfig(conv: Conversion, value: unknown, annotations: Record<string, string>, personality: unknown): Fields {
  const { errs, paths } = conv;
  const fields = readSection(errs, value, 'process', PROCESS_FIELDS, PROCESS_UNSUPPORTED);
  if (fields === undefined) return {};
  const process: Fields = { args: fields.args, cwd: valueOr(fields.cwd, '/'), env: envFromConfig(conv, fields.env) };
  // false is every config's default (runc spec writes it either way): absent in the profile.
  if (fields.terminal !== undefined && fields.terminal !== false) process.terminal = fields.terminal;
  // Without a terminal runc and crun ignore consoleSize: there is nothing to size.
  if (fields.consoleSize !== undefined && fields.terminal === true) process.consoleSize = fields.consoleSize;
  process.capabilities = fields.capabilities === undefined ? {} : raisableCapabilities(conv, fields.capabilities);
  process.noNewPrivileges = valueOr(fields.noNewPrivileges, false);
  if (fields.user !== undefined) {
    const user = readSection(errs, fields.user, 'process.user', ['uid', 'gid', 'additionalGids', 'umask'], { username: 'it is for Windows' });
    if (user !== undefined) {
      const { umask, ...ids } = user;
      process.user = ids;
      if (umask !== undefined) {
        process.umask = umask;
        paths.add('process.umask', 'process.user.umask');
      }
    }
  }
  if (fields.oomScoreAdj !== undefined) process.oomScoreAdj = fields.oomScoreAdj;
  if (personality !== undefined) process.personality = personalityFromConfig(conv, personality);
  for (const [key, reason] of Object.entries(LSM_FIELDS)) {
    if (fields[key] !== undefined && fields[key] !== '') errs.add(childPath('process', key), `an empty ${key} (${reason})`, fields[key]);
  }
  if (fields.rlimits !== undefined) {
    process.rlimits = Array.isArray(fields.rlimits) ? fields.rlimits.map(rlimitFromConfig) : fields.rlimits;
  }
  const timeout = annotations[NSRIG_ANNOTATIONS.timeout];
  if (timeout !== undefined) {
    process.timeout = /^\d+(\.\d+)?$/.test(timeout) ? Number(timeout) : timeout;
    paths.add('process.timeout', `annotations["${NSRIG_ANNOTATIONS.timeout}"]`);
  }
  return process;
}

/**
 * An ambient capability not in both permitted and inheritable cannot be raised (capabilities(7)).
 * runc 1.1.5 and crun 1.8.1 start the process without it (runc spec's own default lists ambient
 * capabilities and no inheritable ones), so it is left out here too, with a warning.
 */
function raisableCapabilities(conv: Conversion, value: unknown): unknown {
  if (!isPlainObject(value) || !Array.isArray(value.ambient)) return value;
  const names = (set: unknown): string[] => (Array.isArray(set) ? set.filter((n): n is string => typeof n === 'string').map(canonicalCapability) : []);
  const permitted = names(value.permitted);
  const inheritable = names(value.inheritable);
  const ambient: unknown[] = [];
  value.ambient.forEach((cap: unknown, i: number) => {
    const at = `process.capabilities.ambient[${i}]`;
    // A name the kernel lacks is kept, for the capability reader to refuse by name.
    const name = typeof cap === 'string' ? normaliseCapabilityName(cap) : undefined;
    const missing = name === undefined ? [] : [...(permitted.includes(name) ? [] : ['permitted']), ...(inheritable.includes(name) ? [] : ['inheritable'])];
    if (missing.length > 0) {
      conv.warn(`${conv.errs.file}: ${at}: ${String(cap)} is not raised, since it is not in ${missing.join(' or ')} ` +
        '(runc and crun start the process without it too)');
      return;
    }
    conv.paths.add(`process.capabilities.ambient[${ambient.length}]`, at);
    ambient.push(cap);
  });
  return { ...value, ambient };
}

function canonicalCapability(name: string): string {
  return normaliseCapabilityName(name) ?? name;
}

/** linux.personality: the domain by its runtime-spec name; no flags are defined yet (config-linux.md). */
function personalityFromConfig(conv: Conversion, value: unknown): unknown {
  conv.paths.add('process.personality', 'linux.personality.domain');
  if (!isPlainObject(value)) return value;
  if (Array.isArray(value.flags) && value.flags.length > 0) {
    conv.errs.add('linux.personality.flags', 'no flags (config-linux.md defines none)', value.flags);
  }
  const domain = typeof value.domain === 'string' ? PERSONALITY_DOMAINS[value.domain] : undefined;
  if (domain === undefined) conv.errs.add('linux.personality.domain', `one of ${Object.keys(PERSONALITY_DOMAINS).join(', ')}`, value.domain);
  return domain;
}

/**
 * 2^64-1 means no limit; read as a plain number it is 2^64 (the nearest double). The shape check
 * has refused anything past 2^64-1 already.
 */
function rlimitFromConfig(value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const limit = (n: unknown): unknown =>
    (typeof n === 'number' && n === 2 ** 64) || n === OCI_RLIM_INFINITY ? 'unlimited' : n;
  return { ...value, soft: limit(value.soft), hard: limit(value.hard) };
}

function envFromConfig(conv: Conversion, value: unknown): unknown {
  if (value === undefined) return {};
  const list = readList(conv.errs, value, 'process.env');
  if (list === undefined) return {};
  const env: Record<string, unknown> = {};
  list.forEach((item, i) => {
    const at = `process.env[${i}]`;
    const text = readString(conv.errs, item, at, 'a "NAME=value" string');
    if (text === undefined) return;
    const split = text.indexOf('=');
    if (split <= 0) conv.errs.add(at, 'a "NAME=value" string', text);
    else if (Object.hasOwn(env, text.slice(0, split))) conv.errs.add(at, 'each variable once', text);
    else {
      env[text.slice(0, split)] = text.slice(split + 1);
      conv.paths.add(childPath('process.env', text.slice(0, split)), at);
    }
  });
  return env;
}

function timeOffsetsFromConfig(conv: Conversion, value: unknown): Fields {
  const offsets = readObject(conv.errs, value, 'linux.timeOffsets', ['monotonic', 'boottime']) ?? {};
  conv.paths.add('timeOffsets', 'linux.timeOffsets');
  const result: Fields = {};
  for (const clock of ['monotonic', 'boottime'] as const) {
    if (offsets[clock] === undefined) continue;
    const at = `linux.timeOffsets.${clock}`;
    const offset = readObject(conv.errs, offsets[clock], at, ['secs', 'nanosecs']) ?? {};
    if (offset.nanosecs !== undefined && offset.nanosecs !== 0) {
      conv.errs.add(`${at}.nanosecs`, '0 (profiles hold whole seconds)', offset.nanosecs);
    }
    result[clock] = valueOr(offset.secs, 0);
    conv.paths.add(`timeOffsets.${clock}`, `${at}.secs`);
  }
  return result;
}

