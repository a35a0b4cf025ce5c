// Credentials and capabilities of the calling thread: the steps that must run inside the
// container because a new user namespace resets the bounding set and ids cannot be switched
// from outside.
import { raw, check, lastErrno } from './libc.js';
import { SyscallError } from './syscall-error.js';
import { PR } from '../../policy/kernel/process-control.js';
import { NR } from '../../policy/kernel/syscall-table.js';

export function setGroups(gids: number[]): void {
  check(raw.setgroups(gids.length, gids.length ? new Uint32Array(gids) : null) as number, 'setgroups', `[${gids.join(',')}]`);
}

export function setResGid(gid: number): void {
  check(raw.setresgid(gid, gid, gid) as number, 'setresgid', String(gid));
}

export function setResUid(uid: number): void {
  check(raw.setresuid(uid, uid, uid) as number, 'setresuid', String(uid));
}

function prctl(option: number, arg2: number | bigint, what: string): number {
  const rc = raw.prctl(option, arg2, 0, 0, 0) as number;
  if (rc === -1) throw new SyscallError('prctl', lastErrno(), what);
  return rc;
}

export function setKeepCapabilities(keep: boolean): void {
  prctl(PR.SET_KEEPCAPS, keep ? 1 : 0, 'PR_SET_KEEPCAPS');
}

export function setNoNewPrivileges(): void {
  prctl(PR.SET_NO_NEW_PRIVS, 1, 'PR_SET_NO_NEW_PRIVS');
}

/** SIGKILL when the thread that created us dies, so a killed nsrig leaves no container behind. */
export function setParentDeathSignal(): void {
  prctl(PR.SET_PDEATHSIG, 9, 'PR_SET_PDEATHSIG SIGKILL');
}

/**
 * Orphaned descendants are re-parented to the caller instead of to init, so it can reap them and
 * learn their exit status (what a container manager does for a runtime's detached init).
 */
export function becomeChildSubreaper(): void {
  prctl(PR.SET_CHILD_SUBREAPER, 1, 'PR_SET_CHILD_SUBREAPER');
}

export function dropFromBoundingSet(cap: number): void {
  prctl(PR.CAPBSET_DROP, cap, `PR_CAPBSET_DROP ${cap}`);
}

export function clearAmbientSet(): void {
  const rc = raw.prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) as number;
  if (rc === -1) throw new SyscallError('prctl', lastErrno(), 'PR_CAP_AMBIENT_CLEAR_ALL');
}

export function raiseAmbient(cap: number): void {
  const rc = raw.prctl(PR.CAP_AMBIENT, PR.CAP_AMBIENT_RAISE, cap, 0, 0) as number;
  if (rc === -1) throw new SyscallError('prctl', lastErrno(), `PR_CAP_AMBIENT_RAISE ${cap}`);
}

const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

export interface CapabilityMasks {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** capset(2) with 64-bit masks (version 3: two 32-bit words per set). */
export function setCapabilities(masks: CapabilityMasks): void {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
  header.writeInt32LE(0, 4);
  const data = Buffer.alloc(24);
  [0, 1].forEach((word) => {
    const shift = BigInt(32 * word);
    data.writeUInt32LE(Number((masks.effective >> shift) & 0xffffffffn), 12 * word);
    data.writeUInt32LE(Number((masks.permitted >> shift) & 0xffffffffn), 12 * word + 4);
    data.writeUInt32LE(Number((masks.inheritable >> shift) & 0xffffffffn), 12 * word + 8);
  });
  const rc = Number(raw.capsetSyscall(NR.capset, header, data));
  if (rc === -1) throw new SyscallError('capset', lastErrno());
}

