// The process section: what runs, with which environment, identity, capabilities and limits.
import {
  CAPABILITY_SETS, DEFAULT_CAPABILITIES, DEFAULT_PATH, PERSONALITIES, type Capabilities, type ProcessConfig, type Rlimit,
} from './types.js';
import { CAPABILITY_NAMES } from './capabilities.js';
import {
  childPath, isPlainObject, readBoolean, readChoice, readInteger, readKernelName, readList, readObject, readString, readUniqueList,
} from './field-reader.js';
import { MAX_ID } from './id-mappings.js';
import { LARGEST_FINITE_RLIMIT, RLIMIT_NAMES, UNLIMITED } from './rlimits.js';
import type { ProfileErrorList } from './profile-error.js';

const PROCESS_FIELDS = ['args', 'env', 'cwd', 'user', 'capabilities', 'noNewPrivileges', 'rlimits', 'timeout', 'umask', 'oomScoreAdj', 'personality',
  'terminal', 'consoleSize'];
/** proc(5): oom_score_adj ranges from -1000 (never chosen) to 1000 (chosen first). */
export const OOM_SCORE_ADJ_RANGE = [-1000, 1000] as const;
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const MAX_TIMEOUT_SECONDS = 86400;

export function readProcess(errs: ProfileErrorList, value: unknown, path: string): ProcessConfig | undefined {
  const fields = readObject(errs, value, path, PROCESS_FIELDS);
  if (fields === undefined) return undefined;
  const at = (key: string): string => childPath(path, key);
  const before = errs.count;
  const args = readArgs(errs, fields.args, at('args'));
  const env = fields.env === undefined ? { PATH: DEFAULT_PATH } : readEnv(errs, fields.env, at('env'));
  const cwd = fields.cwd === undefined ? '/' : readCwd(errs, fields.cwd, at('cwd'));
  const user = fields.user === undefined ? { uid: 0, gid: 0, additionalGids: [] } : readProcessUser(errs, fields.user, at('user'));
  const capabilities = fields.capabilities === undefined
    ? listedCapabilities([...DEFAULT_CAPABILITIES])
    : readCapabilities(errs, fields.capabilities, at('capabilities'));
  const noNewPrivileges = fields.noNewPrivileges === undefined ? true : readBoolean(errs, fields.noNewPrivileges, at('noNewPrivileges'));
  const rlimits = fields.rlimits === undefined ? [] : readRlimits(errs, fields.rlimits, at('rlimits'));
  const timeoutMs = fields.timeout === undefined ? DEFAULT_TIMEOUT_SECONDS * 1000 : readTimeoutMs(errs, fields.timeout, at('timeout'));
  const umask = fields.umask === undefined ? undefined : readUmask(errs, fields.umask, at('umask'));
  const oomScoreAdj = fields.oomScoreAdj === undefined ? undefined
    : readInteger(errs, fields.oomScoreAdj, at('oomScoreAdj'), ...OOM_SCORE_ADJ_RANGE);
  const personality = fields.personality === undefined ? undefined : readChoice(errs, fields.personality, at('personality'), PERSONALITIES);
  const terminal = fields.terminal === undefined ? undefined : readBoolean(errs, fields.terminal, at('terminal'));
  const consoleSize = fields.consoleSize === undefined ? undefined : readConsoleSize(errs, fields.consoleSize, at('consoleSize'));
  if (consoleSize !== undefined && terminal !== true) errs.add(at('consoleSize'), 'no consoleSize without terminal: true (there is no terminal to size)', fields.consoleSize);
  if (errs.count !== before || args === undefined || env === undefined || cwd === undefined || user === undefined
    || capabilities === undefined || noNewPrivileges === undefined || rlimits === undefined || timeoutMs === undefined) {
    return undefined;
  }
  return {
    args, env, cwd, ...user, capabilities, noNewPrivileges, rlimits, timeoutMs, ...(umask === undefined ? {} : { umask }),
    ...(oomScoreAdj === undefined ? {} : { oomScoreAdj }), ...(personality === undefined ? {} : { personality }),
    ...(terminal === undefined ? {} : { terminal }), ...(consoleSize === undefined ? {} : { consoleSize }),
  };
}

/** struct winsize holds each dimension in an unsigned short (TIOCSWINSZ, ioctl_tty(2)). */
const MAX_CONSOLE_DIMENSION = 0xffff;

function readConsoleSize(errs: ProfileErrorList, value: unknown, path: string): { height: number; width: number } | undefined {
  const fields = readObject(errs, value, path, ['height', 'width']);
  if (fields === undefined) return undefined;
  const dimension = (key: 'height' | 'width'): number | undefined => {
    if (fields[key] === undefined) {
      errs.add(childPath(path, key), `a number of ${key === 'height' ? 'rows' : 'columns'} (required)`, undefined);
      return undefined;
    }
    return readInteger(errs, fields[key], childPath(path, key), 0, MAX_CONSOLE_DIMENSION);
  };
  const height = dimension('height');
  const width = dimension('width');
  return height === undefined || width === undefined ? undefined : { height, width };
}

const UMASK_EXPECTED = 'a umask from 0 to 0777, written "0022" (quoted) or 0o22';

/** Octal text ("0022") or a number (YAML's 0o22, or the decimal 18 a config.json holds). */
function readUmask(errs: ProfileErrorList, value: unknown, path: string): number | undefined {
  const mask = typeof value === 'string' && /^0?[0-7]{1,3}$/.test(value) ? parseInt(value, 8) : value;
  if (typeof mask === 'number' && Number.isInteger(mask) && mask >= 0 && mask <= 0o777) return mask;
  errs.add(path, UMASK_EXPECTED, value);
  return undefined;
}

function readArgs(errs: ProfileErrorList, value: unknown, path: string): string[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  if (list.length === 0) {
    errs.add(path, 'at least the program to run', list);
    return undefined;
  }
  const args = list.map((item, i) => readString(errs, item, childPath(path, i)));
  if (args[0] === '') errs.add(childPath(path, 0), 'a program name or path', '');
  return args.every((a): a is string => a !== undefined) && args[0] !== '' ? args : undefined;
}

/** Exactly the environment given: a map of names to strings, nothing inherited. */
function readEnv(errs: ProfileErrorList, value: unknown, path: string): Record<string, string> | undefined {
  if (!isPlainObject(value)) {
    errs.add(path, 'an object of variable names to string values', value);
    return undefined;
  }
  const env: Record<string, string> = {};
  let complete = true;
  for (const [name, text] of Object.entries(value)) {
    const at = childPath(path, name);
    if (name === '' || name.includes('=') || name.includes('\0')) {
      errs.addDescribed(at, 'a variable name that is not empty and has no "=" or NUL', `the name ${JSON.stringify(name)}`);
      complete = false;
      continue;
    }
    const hint = typeof text === 'number' || typeof text === 'boolean' ? ' (quote it)' : '';
    const read = readString(errs, text, at, `a string${hint}`);
    if (read === undefined) complete = false;
    else env[name] = read;
  }
  return complete ? env : undefined;
}

function readCwd(errs: ProfileErrorList, value: unknown, path: string): string | undefined {
  const cwd = readString(errs, value, path, 'an absolute path');
  if (cwd === undefined || cwd.startsWith('/')) return cwd;
  errs.add(path, 'an absolute path', cwd);
  return undefined;
}

function readProcessUser(errs: ProfileErrorList, value: unknown, path: string):
  { uid: number; gid: number; additionalGids: number[] } | undefined {
  const fields = readObject(errs, value, path, ['uid', 'gid', 'additionalGids']);
  if (fields === undefined) return undefined;
  const uid = fields.uid === undefined ? 0 : readInteger(errs, fields.uid, childPath(path, 'uid'), 0, MAX_ID);
  const gid = fields.gid === undefined ? 0 : readInteger(errs, fields.gid, childPath(path, 'gid'), 0, MAX_ID);
  let additionalGids: number[] | undefined = [];
  if (fields.additionalGids !== undefined) {
    const list = readList(errs, fields.additionalGids, childPath(path, 'additionalGids'));
    const gids = list?.map((g, i) => readInteger(errs, g, childPath(childPath(path, 'additionalGids'), i), 0, MAX_ID));
    additionalGids = gids?.every((g): g is number => g !== undefined) ? gids : undefined;
  }
  if (uid === undefined || gid === undefined || additionalGids === undefined) return undefined;
  return { uid, gid, additionalGids };
}

/** A plain list gives bounding, effective and permitted; inheritable and ambient stay empty. */
function listedCapabilities(names: string[]): Capabilities {
  return { bounding: names, effective: [...names], permitted: [...names], inheritable: [], ambient: [] };
}

const CAPABILITIES_EXPECTED = 'a list of capability names, or an object with bounding, effective, permitted, inheritable, ambient';

function readCapabilities(errs: ProfileErrorList, value: unknown, path: string): Capabilities | undefined {
  if (Array.isArray(value)) {
    const names = readCapabilityList(errs, value, path);
    return names === undefined ? undefined : listedCapabilities(names);
  }
  if (!isPlainObject(value)) {
    errs.add(path, CAPABILITIES_EXPECTED, value);
    return undefined;
  }
  const fields = readObject(errs, value, path, CAPABILITY_SETS)!;
  const sets: Partial<Capabilities> = {};
  for (const set of CAPABILITY_SETS) {
    sets[set] = fields[set] === undefined ? [] : readCapabilityList(errs, fields[set], childPath(path, set));
  }
  if (CAPABILITY_SETS.some((set) => sets[set] === undefined)) return undefined;
  const caps = sets as Capabilities;
  const before = errs.count;
  // The kernel keeps effective within permitted, and refuses to raise an ambient capability that
  // is not both permitted and inheritable (capabilities(7)).
  caps.effective.forEach((cap, i) => {
    if (!caps.permitted.includes(cap)) errs.add(childPath(childPath(path, 'effective'), i), 'a capability that is also in permitted', cap);
  });
  caps.ambient.forEach((cap, i) => {
    if (!caps.permitted.includes(cap) || !caps.inheritable.includes(cap)) {
      errs.add(childPath(childPath(path, 'ambient'), i), 'a capability that is also in permitted and inheritable', cap);
    }
  });
  return errs.count === before ? caps : undefined;
}

function readCapabilityList(errs: ProfileErrorList, value: unknown, path: string): string[] | undefined {
  return readUniqueList(errs, value, path, (item, at) =>
    readKernelName(errs, item, at, 'CAP_', CAPABILITY_NAMES, 'a capability name from capabilities(7), such as CAP_NET_BIND_SERVICE'), 'capability');
}

function readRlimits(errs: ProfileErrorList, value: unknown, path: string): Rlimit[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  const rlimits: Rlimit[] = [];
  list.forEach((item, i) => {
    const at = childPath(path, i);
    const fields = readObject(errs, item, at, ['type', 'soft', 'hard']);
    if (fields === undefined) return;
    const type = readKernelName(errs, fields.type, childPath(at, 'type'), 'RLIMIT_', RLIMIT_NAMES, `one of ${RLIMIT_NAMES.join(', ')}`);
    const soft = readLimit(errs, fields.soft, childPath(at, 'soft'));
    const hard = readLimit(errs, fields.hard, childPath(at, 'hard'));
    if (type === undefined || soft === undefined || hard === undefined) return;
    if (soft > hard) errs.add(childPath(at, 'soft'), `a soft limit no greater than the hard limit (${hard})`, soft);
    else if (rlimits.some((r) => r.type === type)) errs.add(childPath(at, 'type'), 'each limit once', type);
    else rlimits.push({ type, soft, hard });
  });
  return rlimits.length === list.length ? rlimits : undefined;
}

function readLimit(errs: ProfileErrorList, value: unknown, path: string): number | undefined {
  if (value === 'unlimited' || value === UNLIMITED) return UNLIMITED;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  errs.add(path, `an integer from 0 to ${LARGEST_FINITE_RLIMIT}, or "unlimited"`, value);
  return undefined;
}

function readTimeoutMs(errs: ProfileErrorList, value: unknown, path: string): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0.001 && value <= MAX_TIMEOUT_SECONDS) {
    return Math.round(value * 1000);
  }
  errs.add(path, `a number of seconds from 0.001 to ${MAX_TIMEOUT_SECONDS}`, value);
  return undefined;
}
