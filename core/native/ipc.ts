// System V IPC and POSIX message queues, for probing IPC namespace isolation. Lookups return the
// errno instead of throwing: for a probe, ENOENT is an observation, not a failure.
import { raw, lastErrno } from './libc.js';

const IPC_CREAT = 0o1000;
const IPC_EXCL = 0o2000;
const IPC_RMID = 0;
const O_CREAT = 0o100;
const O_RDWR = 2;


export type SysvKind = 'shm' | 'sem' | 'msg';

export interface IpcOutcome {
  /** The object id (or mqueue descriptor) when the call succeeded. */
  id: number | null;
  /** errno when it failed, else null. */
  errno: number | null;
}

function outcome(rc: number): IpcOutcome {
  return rc === -1 ? { id: null, errno: lastErrno() } : { id: rc, errno: null };
}

/** Creates (create=true, exclusively) or looks up a System V object by key. */
export function sysvGet(kind: SysvKind, key: number, create: boolean): IpcOutcome {
  const flags = create ? IPC_CREAT | IPC_EXCL | 0o600 : 0;
  switch (kind) {
    case 'shm':
      return outcome(raw.shmget(key, 4096, flags) as number);
    case 'sem':
      return outcome(raw.semget(key, 1, flags) as number);
    case 'msg':
      return outcome(raw.msgget(key, flags) as number);
  }
}

export function sysvRemove(kind: SysvKind, id: number): void {
  if (kind === 'shm') raw.shmctl(id, IPC_RMID, null);
  else if (kind === 'sem') raw.semctl(id, 0, IPC_RMID);
  else raw.msgctl(id, IPC_RMID, null);
}

/**
 * Opens (create=true makes it) a POSIX message queue; the descriptor is closed at once. Created
 * queues are tiny (1 message of 16 bytes): the default size would spend a tenth of the owner's
 * RLIMIT_MSGQUEUE, and many containers share a mapped host uid.
 */
export function mqueueOpen(name: string, create: boolean): IpcOutcome {
  // struct mq_attr { long mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs; long __pad[4]; }
  const attr = new BigInt64Array([0n, 1n, 16n, 0n, 0n, 0n, 0n, 0n]);
  const rc = (create ? raw.mqOpen(name, O_CREAT | O_RDWR, 'uint32_t', 0o600, 'void *', attr) : raw.mqOpen(name, O_RDWR)) as number;
  const result = outcome(rc);
  if (rc >= 0) raw.close(rc);
  return result;
}

export function mqueueRemove(name: string): void {
  raw.mqUnlink(name);
}
