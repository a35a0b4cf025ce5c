// Seccomp return values (include/uapi/linux/seccomp.h) and how OCI action names map onto them.
import { errnoName } from '../kernel/errno.js';
import type { ActionName } from './types.js';

export const SECCOMP_RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;
export type ActionKind = keyof typeof SECCOMP_RET;

export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;
/** The kernel hands at most this errno back; larger ERRNO data is capped to it. */
export const MAX_ERRNO = 4095;
export const EPERM = 1;

/** One filter outcome: its kind, its 16-bit data, and the 32-bit value a filter returns. */
export interface Action {
  kind: ActionKind;
  data: number;
  ret: number;
}

const KIND_OF_NAME: Readonly<Record<ActionName, ActionKind>> = {
  SCMP_ACT_KILL: 'KILL_THREAD', // libseccomp's SCMP_ACT_KILL is the per-thread kill
  SCMP_ACT_KILL_PROCESS: 'KILL_PROCESS',
  SCMP_ACT_KILL_THREAD: 'KILL_THREAD',
  SCMP_ACT_TRAP: 'TRAP',
  SCMP_ACT_ERRNO: 'ERRNO',
  SCMP_ACT_TRACE: 'TRACE',
  SCMP_ACT_ALLOW: 'ALLOW',
  SCMP_ACT_LOG: 'LOG',
  SCMP_ACT_NOTIFY: 'USER_NOTIF',
};

export function makeAction(kind: ActionKind, data = 0): Action {
  return { kind, data: data & SECCOMP_RET_DATA, ret: (SECCOMP_RET[kind] | (data & SECCOMP_RET_DATA)) >>> 0 };
}

/**
 * The action an OCI name stands for. ERRNO and TRACE carry `errnoRet`, EPERM when it is absent,
 * as runc does; the other actions carry no data.
 */
export function actionFromName(name: ActionName, errnoRet: number | undefined): Action {
  const kind = KIND_OF_NAME[name];
  const carriesData = kind === 'ERRNO' || kind === 'TRACE';
  return makeAction(kind, carriesData ? (errnoRet ?? EPERM) : 0);
}

/** Decodes a filter's 32-bit return value. Unknown action bits mean KILL_PROCESS to the kernel. */
export function actionFromRet(ret: number): Action {
  const full = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  for (const [kind, value] of Object.entries(SECCOMP_RET) as [ActionKind, number][]) {
    if (value === full) return { kind, data: ret & SECCOMP_RET_DATA, ret: ret >>> 0 };
  }
  return { kind: 'KILL_PROCESS', data: 0, ret: ret >>> 0 };
}

/**
 * Rank of an action when several apply: lower is stricter and wins. This is the kernel's own order
 * between stacked filters (it compares the action bits as a signed 32-bit number).
 */
export function actionRank(action: Action): number {
  return (action.ret & SECCOMP_RET_ACTION_FULL) | 0;
}

/** "ALLOW", "ERRNO(EPERM)", "TRACE(5)", ... */
export function describeAction(action: Action): string {
  if (action.kind === 'ERRNO') return `ERRNO(${errnoName(action.data)})`;
  if (action.kind === 'TRACE') return `TRACE(${action.data})`;
  return action.kind;
}
