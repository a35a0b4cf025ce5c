// keyctl(2) operations, special keyring ids and permission bits (linux/keyctl.h, keyctl_setperm(3)).
export const KEYCTL = {
  GET_KEYRING_ID: 0, JOIN_SESSION_KEYRING: 1, SETPERM: 5, DESCRIBE: 6, SEARCH: 10, SET_TIMEOUT: 15, INVALIDATE: 21,
} as const;

export const KEY_SPEC = { SESSION_KEYRING: -3 } as const;

/** Every right for a possessor of the key, none for its user, group or anyone else. */
export const KEY_POS_ALL = 0x3f000000;
