// The hooks section (runtime-spec config.md "POSIX-platform Hooks"), in the spec's own shape so a
// config.json's hooks read unchanged: each kind a list of {path, args, env, timeout}.
import { HOOK_KINDS, type Hook, type HookKind, type Hooks } from './types.js';
import { childPath, readAbsolutePath, readList, readObject, readString } from './field-reader.js';
import type { ProfileErrorList } from './profile-error.js';

/** The longest timer Node keeps (2^31-1 ms), in whole seconds: a longer timeout would fire at once. */
export const MAX_HOOK_TIMEOUT_SECONDS = 2147483;

export function readHooks(errs: ProfileErrorList, value: unknown, path: string): Hooks | undefined {
  const fields = readObject(errs, value, path, HOOK_KINDS);
  if (fields === undefined) return undefined;
  const before = errs.count;
  const hooks: Hooks = {};
  for (const kind of HOOK_KINDS) {
    if (fields[kind] === undefined) continue;
    const list = readList(errs, fields[kind], childPath(path, kind));
    if (list === undefined) continue;
    const read = list.map((item, i) => readHook(errs, item, childPath(childPath(path, kind), i)));
    if (read.length > 0) hooks[kind] = read.filter((h): h is Hook => h !== undefined);
  }
  return errs.count === before ? hooks : undefined;
}

function readHook(errs: ProfileErrorList, value: unknown, path: string): Hook | undefined {
  const fields = readObject(errs, value, path, ['path', 'args', 'env', 'timeout']);
  if (fields === undefined) return undefined;
  const before = errs.count;
  if (fields.path === undefined) errs.add(childPath(path, 'path'), 'an absolute path (path is required)', undefined);
  const program = fields.path === undefined ? undefined : readAbsolutePath(errs, fields.path, childPath(path, 'path'));
  const args = fields.args === undefined ? [] : readStrings(errs, fields.args, childPath(path, 'args'), 'a string');
  const env = fields.env === undefined ? [] : readStrings(errs, fields.env, childPath(path, 'env'), 'a "NAME=value" string');
  env?.forEach((entry, i) => {
    if (entry.indexOf('=') <= 0) errs.add(childPath(childPath(path, 'env'), i), 'a "NAME=value" string', entry);
  });
  const timeout = fields.timeout;
  const timeoutOk = timeout === undefined
    || (typeof timeout === 'number' && Number.isInteger(timeout) && timeout >= 1 && timeout <= MAX_HOOK_TIMEOUT_SECONDS);
  if (!timeoutOk) {
    errs.add(childPath(path, 'timeout'), `a whole number of seconds greater than 0, at most ${MAX_HOOK_TIMEOUT_SECONDS}`, timeout);
  }
  if (errs.count !== before || program === undefined || args === undefined || env === undefined) return undefined;
  return { path: program, args, env, ...(timeout === undefined ? {} : { timeoutSeconds: timeout as number }) };
}

function readStrings(errs: ProfileErrorList, value: unknown, path: string, expected: string): string[] | undefined {
  const list = readList(errs, value, path);
  if (list === undefined) return undefined;
  const before = errs.count;
  const strings = list.map((item, i) => readString(errs, item, childPath(path, i), expected));
  return errs.count === before ? strings as string[] : undefined;
}

/** The hooks of one kind, in the order given; none when the profile has none. */
export function hooksOf(hooks: Hooks | undefined, kind: HookKind): readonly Hook[] {
  return hooks?.[kind] ?? [];
}
