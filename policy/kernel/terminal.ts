// Pseudo-terminal ioctls (ioctl_tty(2), pty(7); include/uapi/asm-generic/ioctls.h) and the unix
// socket constants a pty master travels with (unix(7) SCM_RIGHTS; include/linux/socket.h).
export const TIOC = {
  /** Makes the terminal the calling session leader's controlling terminal. */
  SCTTY: 0x540e,
  GWINSZ: 0x5413,
  SWINSZ: 0x5414,
  /** _IOW('T', 0x31, int): 0 unlocks the slave of a fresh master (unlockpt(3)). */
  SPTLCK: 0x40045431,
  /** _IOR('T', 0x30, unsigned int): the pty's number in its devpts instance. */
  GPTN: 0x80045430,
  /** _IO('T', 0x41): opens the master's slave without a path lookup, in the master's own devpts. */
  GPTPEER: 0x5441,
} as const;

/** TCGETS/TCSETS (ioctl_tty(2)) on the kernel's struct termios: four 32-bit flag words, c_line, c_cc[19]. */
export const TC = { GETS: 0x5401, SETS: 0x5402 } as const;
export const TERMIOS_SIZE = 36;
export const TERMIOS_OFLAG_OFFSET = 4;
/** c_oflag's "post-process output" bit (termios(3)), under which ONLCR turns "\n" into "\r\n". */
export const OPOST = 0x1;
/** The other flag words' offsets in struct termios, and c_cc's. */
export const TERMIOS_IFLAG_OFFSET = 0;
export const TERMIOS_LFLAG_OFFSET = 12;
export const TERMIOS_CC_OFFSET = 17;
/** c_cc's index of the end-of-file character (Ctrl-D unless changed). */
export const VEOF = 4;
/** c_iflag bits that translate or swallow input bytes (termios(3)): IGNBRK BRKINT PARMRK ISTRIP INLCR IGNCR ICRNL IXON. */
export const INPUT_TRANSLATION = 0o1 | 0o2 | 0o10 | 0o40 | 0o100 | 0o200 | 0o400 | 0o2000;
/** c_lflag: ISIG (signal characters), ECHO, ECHONL, IEXTEN (Ctrl-V and other extensions); ICANON stays. */
export const LOCAL_ECHO_AND_SIGNALS = 0o1 | 0o10 | 0o100 | 0o100000;

export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SCM_RIGHTS = 1;
export const MSG_DONTWAIT = 0x40;
export const MSG_CMSG_CLOEXEC = 0x40000000;
/** sockaddr_un's sun_path holds 108 bytes, the terminating NUL included. */
export const UNIX_PATH_MAX = 108;
