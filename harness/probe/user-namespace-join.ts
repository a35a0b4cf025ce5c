// Joining a user namespace from inside, as a process of the container would try it. The probe opens
// the namespace file itself; the setns(2) is made by nsenter(1): the kernel refuses a user namespace
// join to a multithreaded process or one sharing its filesystem attributes (EINVAL), which Node
// always is, so only a single-threaded program of its own reaches the capability check. nsenter
// reports a failed setns as "reassociate to namespace 'ns/user' failed: <strerror>", read back here
// with the C locale; with --preserve-credentials it changes no ids after the join.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { Observations, Outcome } from './protocol.js';
import { errnoNamedBy, errnoNumber } from '../../policy/kernel/errno.js';

/** How long nsenter may take; it makes one call and runs true(1). */
const NSENTER_TIMEOUT_MS = 10000;

function outcomeOf(e: unknown): Outcome {
  const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  return { errno: errnoNumber(code) ?? -1, code };
}

/** The open, and the inode of what it opened (a namespace file shows the namespace's). */
function openOnce(file: string): { open: Outcome; inode: number | null } {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      return { open: { errno: null, code: null }, inode: fs.fstatSync(fd).ino };
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return { open: outcomeOf(e), inode: null };
  }
}

/** The setns outcome nsenter reports, and its last line of stderr when it failed. */
function joinWithNsenter(file: string): { setns: Outcome; message: string | null } {
  const run = spawnSync('nsenter', [`--user=${file}`, '--preserve-credentials', '--', 'true'], {
    env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8', timeout: NSENTER_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (run.error) return { setns: outcomeOf(run.error), message: `nsenter: ${run.error.message}` };
  if (run.status === 0) return { setns: { errno: null, code: null }, message: null };
  const message = run.stderr.trim().split('\n').pop() ?? '';
  const failed = /reassociate to namespace '[^']*' failed: (.+)$/.exec(message);
  const code = failed ? errnoNamedBy(failed[1]) : undefined;
  return { setns: code ? { errno: errnoNumber(code) ?? -1, code } : { errno: -1, code: 'ENSENTER' }, message };
}

/** Each file: whether it opens, and what a setns(CLONE_NEWUSER) into it gives (null when it was not tried: the open failed). */
export function joinUserNamespaces(files: string[]): Observations['userNamespaceJoins'] {
  return files.map((file) => {
    const { open, inode } = openOnce(file);
    if (open.code !== null) return { file, open, inode, setns: null, message: null };
    return { file, open, inode, ...joinWithNsenter(file) };
  });
}
