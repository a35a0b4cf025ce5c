// Linux capabilities (include/uapi/linux/capability.h), in number order.
export const CAPABILITY_NAMES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The 64-bit mask (capset(2)'s two words joined) of a list of capability names. */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = CAPABILITY_NAMES.indexOf(name);
    if (n < 0) throw new RangeError(`unknown capability ${name}; known: CAP_CHOWN .. ${CAPABILITY_NAMES.at(-1)}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

/** The names in a mask, in number order. */
export function capabilityNames(mask: bigint): string[] {
  return CAPABILITY_NAMES.filter((_, n) => (mask >> BigInt(n)) & 1n);
}
