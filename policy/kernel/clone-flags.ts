// clone(2) and unshare(2) flags (include/uapi/linux/sched.h).
export const CLONE = {
  VFORK: 0x00004000,
  PIDFD: 0x00001000,
  PARENT: 0x00008000,
  NEWTIME: 0x00000080,
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
  FS: 0x00000200,
} as const;

/** The CLONE_* names set in flags (an exit signal in the low byte is shown by number), for people. */
export function cloneFlagNames(flags: number): string[] {
  const names = Object.entries(CLONE).filter(([, bit]) => (flags & bit) !== 0).map(([name]) => `CLONE_${name}`);
  const exitSignal = flags & 0xff & ~CLONE.NEWTIME;
  return exitSignal ? [...names, `exit signal ${exitSignal}`] : names;
}
