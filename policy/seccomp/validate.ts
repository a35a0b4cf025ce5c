// Checks an OCI / Docker seccomp profile field by field and returns it unchanged, typed. Every
// rejection names the field path, what was expected and what was there. Unknown fields are errors:
// a misspelt "errnoret" would otherwise silently turn into the default EPERM.
import { errnoNumber } from '../kernel/errno.js';
import { MISSING, PolicyError } from './policy-error.js';
import {
  ACTION_NAMES, ARCH_NAMES, FILTER_FLAGS, OPERATOR_NAMES,
  type ActionName, type SeccompPolicy,
} from './types.js';

const TOP_FIELDS = ['defaultAction', 'defaultErrnoRet', 'defaultErrno', 'architectures', 'archMap',
  'syscalls', 'flags', 'listenerPath', 'listenerMetadata'];
const SYSCALL_FIELDS = ['names', 'name', 'action', 'errnoRet', 'errno', 'args', 'comment', 'includes', 'excludes'];
const ARG_FIELDS = ['index', 'value', 'valueTwo', 'op'];
const FILTER_FIELDS = ['caps', 'arches', 'minKernel'];
const ARCHMAP_FIELDS = ['architecture', 'subArchitectures'];
/** seccomp_data carries six arguments. */
const MAX_ARG_INDEX = 5;
const U64_MAX = (1n << 64n) - 1n;
/** SECCOMP_RET_DATA is 16 bits wide. */
const RET_DATA_MAX = 0xffff;
/** Actions whose return data an OCI profile may set (errnoRet); the runtime-spec says others MUST fail. */
const ACTIONS_WITH_DATA: readonly ActionName[] = ['SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE'];

type Json = Record<string, unknown>;

class Checker {
  constructor(readonly file: string) {}

  fail(path: string, expected: string, got: unknown): never {
    throw new PolicyError(this.file, path, expected, got);
  }

  object(value: unknown, path: string, allowed: readonly string[]): Json {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, 'an object', value);
    for (const key of Object.keys(value)) {
      if (!allowed.includes(key)) this.fail(join(path, key), `no such field (known: ${allowed.join(', ')})`, key);
    }
    return value as Json;
  }

  array(value: unknown, path: string): unknown[] {
    if (!Array.isArray(value)) this.fail(path, 'an array', value);
    return value;
  }

  string(value: unknown, path: string): string {
    if (typeof value !== 'string') this.fail(path, 'a string', value);
    return value;
  }

  oneOf<T extends string>(value: unknown, path: string, choices: readonly T[]): T {
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
      this.fail(path, `one of ${choices.join(', ')}`, value);
    }
    return value as T;
  }

  integer(value: unknown, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `an integer from ${min} to ${max}`, value);
    }
    return value;
  }

  /** A 64-bit unsigned argument value: a safe integer number, or a bigint from the exact reader. */
  u64(value: unknown, path: string): void {
    if (typeof value === 'bigint') {
      if (value < 0n || value > U64_MAX) this.fail(path, 'an unsigned 64-bit integer', value);
      return;
    }
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
      this.fail(path, 'an unsigned 64-bit integer', value);
    }
    if (!Number.isSafeInteger(value)) {
      this.fail(path, 'an integer below 2^53 when given as a number (load the file with loadPolicyFile to keep larger values exact)', value);
    }
  }

  stringList(value: unknown, path: string): string[] {
    return this.array(value, path).map((v, i) => {
      const s = this.string(v, `${path}[${i}]`);
      if (s === '') this.fail(`${path}[${i}]`, 'a non-empty string', s);
      return s;
    });
  }

  errnoName(value: unknown, path: string): number {
    const name = this.string(value, path);
    const n = errnoNumber(name);
    if (n === undefined) this.fail(path, 'a known errno name such as EPERM', name);
    return n;
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/**
 * Validates an already-parsed profile object and returns it as a SeccompPolicy (the same object,
 * unchanged). `sourceName` is what errors call the document, usually its file name.
 */
export function parsePolicy(obj: unknown, sourceName: string): SeccompPolicy {
  const c = new Checker(sourceName);
  const top = c.object(obj, '', TOP_FIELDS);
  if (!('defaultAction' in top)) c.fail('defaultAction', `one of ${ACTION_NAMES.join(', ')}`, MISSING);
  const defaultAction = c.oneOf(top.defaultAction, 'defaultAction', ACTION_NAMES);
  checkErrnoPair(c, '', defaultAction, top, 'defaultErrnoRet', 'defaultErrno');

  if (top.architectures !== undefined) {
    c.array(top.architectures, 'architectures').forEach((a, i) => c.oneOf(a, `architectures[${i}]`, ARCH_NAMES));
  }
  if (top.archMap !== undefined) {
    if (top.architectures !== undefined) c.fail('archMap', 'either architectures or archMap, not both (moby refuses both)', top.archMap);
    c.array(top.archMap, 'archMap').forEach((entry, i) => {
      const p = `archMap[${i}]`;
      const m = c.object(entry, p, ARCHMAP_FIELDS);
      c.oneOf(m.architecture, `${p}.architecture`, ARCH_NAMES);
      if (m.subArchitectures !== null && m.subArchitectures !== undefined) {
        c.array(m.subArchitectures, `${p}.subArchitectures`)
          .forEach((a, j) => c.oneOf(a, `${p}.subArchitectures[${j}]`, ARCH_NAMES));
      }
    });
  }
  if (top.flags !== undefined) {
    const names = Object.keys(FILTER_FLAGS) as (keyof typeof FILTER_FLAGS)[];
    c.array(top.flags, 'flags').forEach((f, i) => c.oneOf(f, `flags[${i}]`, names));
  }
  if (top.listenerPath !== undefined) c.string(top.listenerPath, 'listenerPath');
  if (top.listenerMetadata !== undefined) c.string(top.listenerMetadata, 'listenerMetadata');
  if (top.syscalls !== undefined && top.syscalls !== null) {
    c.array(top.syscalls, 'syscalls').forEach((s, i) => checkSyscall(c, s, `syscalls[${i}]`));
  }
  return obj as SeccompPolicy;
}

function checkSyscall(c: Checker, value: unknown, path: string): void {
  const s = c.object(value, path, SYSCALL_FIELDS);
  if (s.names !== undefined && s.names !== null) {
    const names = c.stringList(s.names, `${path}.names`);
    if (s.name !== undefined && s.name !== '') c.fail(`${path}.name`, 'either name or names, not both', s.name);
    if (names.length === 0 && (s.name === undefined || s.name === '')) c.fail(`${path}.names`, 'at least one syscall name', s.names);
  } else if (s.name !== undefined) {
    if (c.string(s.name, `${path}.name`) === '') c.fail(`${path}.name`, 'a syscall name', s.name);
  } else {
    c.fail(`${path}.names`, 'a list of syscall names', MISSING);
  }
  if (!('action' in s)) c.fail(`${path}.action`, `one of ${ACTION_NAMES.join(', ')}`, MISSING);
  const action = c.oneOf(s.action, `${path}.action`, ACTION_NAMES);
  checkErrnoPair(c, path, action, s, 'errnoRet', 'errno');
  if (s.comment !== undefined) c.string(s.comment, `${path}.comment`);
  for (const key of ['includes', 'excludes'] as const) {
    if (s[key] !== undefined && s[key] !== null) checkFilter(c, s[key], `${path}.${key}`);
  }
  if (s.args !== undefined && s.args !== null) {
    c.array(s.args, `${path}.args`).forEach((a, i) => checkArg(c, a, `${path}.args[${i}]`));
  }
}

function checkArg(c: Checker, value: unknown, path: string): void {
  const a = c.object(value, path, ARG_FIELDS);
  c.integer(a.index, `${path}.index`, 0, MAX_ARG_INDEX);
  c.u64(a.value, `${path}.value`);
  if (a.valueTwo !== undefined) c.u64(a.valueTwo, `${path}.valueTwo`);
  c.oneOf(a.op, `${path}.op`, OPERATOR_NAMES);
}

function checkFilter(c: Checker, value: unknown, path: string): void {
  const f = c.object(value, path, FILTER_FIELDS);
  if (f.caps !== undefined && f.caps !== null) {
    c.stringList(f.caps, `${path}.caps`).forEach((cap, i) => {
      if (!/^CAP_[A-Z_]+$/.test(cap)) c.fail(`${path}.caps[${i}]`, 'a capability name such as CAP_SYS_ADMIN', cap);
    });
  }
  if (f.arches !== undefined && f.arches !== null) c.stringList(f.arches, `${path}.arches`);
  if (f.minKernel !== undefined && f.minKernel !== '') {
    const text = c.string(f.minKernel, `${path}.minKernel`);
    const m = /^(\d+)\.(\d+)$/.exec(text);
    if (m === null || (Number(m[1]) === 0 && Number(m[2]) === 0)) {
      c.fail(`${path}.minKernel`, 'a kernel version "<kernel>.<major>" such as "4.8", not 0.0', text);
    }
  }
}

/** errnoRet (number) and its containers/common twin errno (name) must agree and suit the action. */
function checkErrnoPair(c: Checker, path: string, action: ActionName, obj: Json, retKey: string, nameKey: string): void {
  const retPath = join(path, retKey);
  const namePath = join(path, nameKey);
  const fromNumber = obj[retKey] === undefined ? undefined : c.integer(obj[retKey], retPath, 0, RET_DATA_MAX);
  const fromName = obj[nameKey] === undefined ? undefined : c.errnoName(obj[nameKey], namePath);
  if (fromNumber !== undefined && fromName !== undefined && fromNumber !== fromName) {
    c.fail(namePath, `the errno named by ${retKey} (${fromNumber})`, obj[nameKey]);
  }
  // Only a rule's own errnoRet is bound to its action. defaultErrnoRet is tolerated beside any
  // default action: it is then unused, and refusing it would reject a profile whose only edit was
  // to switch defaultAction.
  if (path !== '' && (fromNumber !== undefined || fromName !== undefined) && !ACTIONS_WITH_DATA.includes(action)) {
    c.fail(fromNumber !== undefined ? retPath : namePath, 'no errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one', obj[retKey] ?? obj[nameKey]);
  }
}
