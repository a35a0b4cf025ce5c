// Kernel keyrings (keyrings(7)) through keyctl(2) and add_key(2), which glibc does not wrap.
// Lookups report their errno as data: a probe wants to know exactly why a key is out of reach.
import { KEYCTL, KEY_SPEC, KEY_POS_ALL } from '../../policy/kernel/keyrings.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { rawSyscall } from './seccomp.js';
import { SyscallError } from './syscall-error.js';

const cString = (s: string) => Buffer.from(`${s}\0`);

function keyctl(op: number, ...args: (number | Buffer)[]): { result: number; errno: number } {
  const r = rawSyscall(NR.keyctl, op, ...args);
  return { result: Number(r.result), errno: r.errno };
}

/** The serial of this process's session keyring; 0 with its errno when it has none (nothing is created). */
export function sessionKeyringSerial(): { serial: number; errno: number } {
  const r = keyctl(KEYCTL.GET_KEYRING_ID, KEY_SPEC.SESSION_KEYRING, 0);
  return { serial: r.errno === 0 ? r.result : 0, errno: r.errno };
}

/**
 * Gives the calling process a new anonymous session keyring, as runc and crun do for each
 * container: keys its creator's session holds are no longer within its reach.
 */
export function joinNewSessionKeyring(): number {
  const r = keyctl(KEYCTL.JOIN_SESSION_KEYRING, 0);
  if (r.errno !== 0) throw new SyscallError('keyctl(KEYCTL_JOIN_SESSION_KEYRING)', r.errno);
  return r.result;
}

/**
 * A "user" key in the caller's session keyring that only a possessor may view or search, expiring
 * after timeoutSeconds even if the caller dies before removing it.
 */
export function addPossessorOnlyKey(description: string, payload: string, timeoutSeconds: number): number {
  const data = Buffer.from(payload);
  const r = rawSyscall(NR.add_key, cString('user'), cString(description), data, data.length, KEY_SPEC.SESSION_KEYRING);
  if (r.errno !== 0) throw new SyscallError('add_key', r.errno, description);
  const serial = Number(r.result);
  for (const [op, arg, name] of [[KEYCTL.SETPERM, KEY_POS_ALL, 'KEYCTL_SETPERM'], [KEYCTL.SET_TIMEOUT, timeoutSeconds, 'KEYCTL_SET_TIMEOUT']] as const) {
    const set = keyctl(op, serial, arg);
    if (set.errno !== 0) {
      invalidateKey(serial);
      throw new SyscallError(`keyctl(${name})`, set.errno, description);
    }
  }
  return serial;
}

export function invalidateKey(serial: number): void {
  keyctl(KEYCTL.INVALIDATE, serial);
}

/** describe(serial): null when the caller may view the key, else the errno. */
export function describeKeyErrno(serial: number): number | null {
  const buf = Buffer.alloc(256);
  const r = keyctl(KEYCTL.DESCRIBE, serial, buf, buf.length);
  return r.errno === 0 ? null : r.errno;
}

/** Searches the caller's session keyring (and what it links) for a "user" key: null when found, else the errno. */
export function searchSessionKeyringErrno(description: string): number | null {
  const r = keyctl(KEYCTL.SEARCH, KEY_SPEC.SESSION_KEYRING, cString('user'), cString(description), 0);
  return r.errno === 0 ? null : r.errno;
}
