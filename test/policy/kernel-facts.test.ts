// policy/kernel's tables against the system's own: Node's errno and signal constants (taken from
// libc when Node was built), the running kernel's last capability, and the installed uapi headers
// (linux-libc-dev), read as the C preprocessor would see each #define.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import { ERRNO_NAMES } from '../../policy/kernel/errno.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { CAPABILITY_NAMES, capabilityMask, capabilityNames } from '../../policy/kernel/capabilities.js';
import { RLIMIT_NUMBERS } from '../../policy/kernel/rlimits.js';
import { CLONE, cloneFlagNames } from '../../policy/kernel/clone-flags.js';
import {
  MS, MOUNT_ATTR, AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, MOVE_MOUNT_F_EMPTY_PATH, OPEN_TREE_CLONE, mountFlagNames,
} from '../../policy/kernel/mount-flags.js';
import { CLOSE_RANGE_CLOEXEC, PR } from '../../policy/kernel/process-control.js';
import { NR } from '../../policy/kernel/syscall-table.js';
import { CLOCK } from '../../policy/kernel/clocks.js';

const INCLUDE = '/usr/include';

/** The numeric #defines of a header: decimal, hex, octal and (1 << n) / (1U << n), as C reads them. */
function defines(header: string): Map<string, number> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`${INCLUDE}/${header}`, 'utf8');
  } catch {
    return undefined;
  }
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^#[ \t]*define[ \t]+(\w+)[ \t]+(.+?)[ \t]*(?:\/\*.*)?$/gm)) {
    const value = m[2]!.trim();
    let n: number | undefined;
    const shift = /^\(\s*1U?\s*<<\s*(\d+)\s*\)$/.exec(value);
    if (shift) n = 2 ** Number(shift[1]);
    else if (/^-?0x[0-9a-f]+$/i.test(value)) n = Number(value.replace(/^(-?)0x/i, '$10x'));
    else if (/^0[0-7]+$/.test(value)) n = parseInt(value, 8);
    else if (/^-?\d+$/.test(value)) n = Number(value);
    if (n !== undefined) out.set(m[1]!, n);
  }
  return out;
}

function compareWithHeader(t: import('ava').ExecutionContext, header: string, ours: Readonly<Record<string, number>>): void {
  const theirs = defines(header);
  if (!theirs) {
    t.pass(`skipped: ${INCLUDE}/${header} is not installed (linux-libc-dev), nothing to compare with`);
    t.log(`skipped: ${INCLUDE}/${header} is missing`);
    return;
  }
  for (const [name, value] of Object.entries(ours)) t.is(theirs.get(name), value as number | undefined, `${name} in ${header}`);
}

const prefixed = (prefix: string, table: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [`${prefix}${k}`, v]));

test('errno names and numbers are libc\'s', (t) => {
  // Node exports most errno names, not all (ENOTBLK, for one): compare every name it has.
  const libc = os.constants.errno as Record<string, number>;
  const shared = Object.entries(ERRNO_NAMES).filter(([, name]) => libc[name] !== undefined);
  for (const [n, name] of shared) t.is(libc[name], Number(n), name);
  t.true(shared.length >= 60, `${shared.length} names compared`);
});

test('signal numbers are libc\'s', (t) => {
  const libc = os.constants.signals as Record<string, number>;
  for (const [name, n] of Object.entries(SIGNALS)) t.is(libc[name], n, name);
});

test('the capability table ends where the running kernel\'s does', (t) => {
  const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  t.true(last <= CAPABILITY_NAMES.length - 1, `the kernel knows capability ${last}, the table stops at ${CAPABILITY_NAMES.length - 1}`);
  compareWithHeader(t, 'linux/capability.h', Object.fromEntries(CAPABILITY_NAMES.map((name, n) => [name, n])));
  t.deepEqual(capabilityNames(capabilityMask(['CAP_SYS_ADMIN', 'CAP_CHOWN'])), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
});

test('rlimits, clone, mount, prctl and clock constants are the uapi headers\'', (t) => {
  compareWithHeader(t, 'asm-generic/resource.h', RLIMIT_NUMBERS);
  compareWithHeader(t, 'linux/sched.h', prefixed('CLONE_', CLONE));
  compareWithHeader(t, 'linux/mount.h', {
    ...prefixed('MS_', MS), ...prefixed('MOUNT_ATTR_', MOUNT_ATTR), OPEN_TREE_CLONE, MOVE_MOUNT_F_EMPTY_PATH,
  });
  compareWithHeader(t, 'linux/fcntl.h', { AT_FDCWD, AT_EMPTY_PATH, AT_RECURSIVE });
  compareWithHeader(t, 'linux/close_range.h', { CLOSE_RANGE_CLOEXEC });
  compareWithHeader(t, 'linux/time.h', prefixed('CLOCK_', CLOCK));
  const { CAP_AMBIENT_RAISE, CAP_AMBIENT_CLEAR_ALL, ...options } = PR;
  compareWithHeader(t, 'linux/prctl.h', { ...prefixed('PR_', options), PR_CAP_AMBIENT_RAISE: CAP_AMBIENT_RAISE, PR_CAP_AMBIENT_CLEAR_ALL: CAP_AMBIENT_CLEAR_ALL });
});

test('the syscall numbers core calls by number are the x86_64 header\'s', (t) => {
  compareWithHeader(t, 'x86_64-linux-gnu/asm/unistd_64.h', prefixed('__NR_', NR));
});

test('flag names read back for people', (t) => {
  t.deepEqual(cloneFlagNames(CLONE.NEWUSER | CLONE.NEWPID | 17), ['CLONE_NEWUSER', 'CLONE_NEWPID', 'exit signal 17']);
  t.deepEqual(mountFlagNames(MS.BIND | MS.REC), ['MS_BIND', 'MS_REC']);
});
