// Two user namespaces outside any container, as files a container can be handed: a sibling the
// harness makes for the run, and the one nsrig runs in (the host's). Each is an nsfs file bound
// onto a file of one directory, as `ip netns` keeps network namespaces, so a profile can bind the
// directory in (user.foreign-namespace-join-refused) and the probe can open both.
//
// The files are binds, not /proc/PID/ns/user paths, for two reasons: a bind keeps the namespace
// alive without a process holding it, and a runtime inside the container's user namespace could
// not resolve the /proc link of a process in a sibling namespace (the link needs ptrace access,
// refused across user namespaces), so the launch itself would fail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cloneExec, closeFd, makePipe, mount, setPropagation, waitForExit } from '../core/host-kernel.js';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { MS } from '../policy/kernel/mount-flags.js';
import { removeMountedDir, runDirectoryName } from './run-directories.js';
import { trueProgram } from './targets/host-prerequisites.js';

export interface UserNamespaceFiles {
  /** The directory holding both files, a private mount of its own. */
  dir: string;
  /** File name in dir: a user namespace made by the harness, a child of nsrig's (so a sibling of any container's). */
  sibling: string;
  /** File name in dir: the user namespace nsrig runs in (the host's initial one when nsrig runs on the host). */
  host: string;
  /** Each namespace's inode number, which its file shows through any bind: what tells the file the probe opened is the namespace. */
  inodes: { sibling: number; host: number };
}

/** The files, or why this host has none (no user namespaces, say): only the invariant that needs them skips. */
export type UserNamespaceFilesFact = UserNamespaceFiles | { unavailable: string };

const PREFIX = 'nsrig-userns-';
/** What HostFixtures sweeps after a SIGKILLed run (run-directories.ts); the holder itself dies with nsrig. */
export const USER_NAMESPACE_FILES_NAME = runDirectoryName(PREFIX);

/**
 * The sibling namespace: a holder process is cloned into a new user namespace and waits on a pipe
 * (cloneExec's waitFd) while its /proc link is bound; then the pipe closes and it runs true(1) and
 * exits, and the bind alone keeps the namespace. The holder dies with nsrig (its parent-death
 * signal), so a SIGKILL of nsrig leaves only the directory, which sweepStale removes.
 */
function bindSibling(target: string): void {
  const [readEnd, writeEnd] = makePipe();
  const program = trueProgram();
  let pidfd: number | undefined;
  try {
    const holder = cloneExec({ path: program.path, argv: program.argv, envp: [], namespaceFlags: CLONE.NEWUSER, inheritFds: [], waitFd: readEnd });
    pidfd = holder.pidfd;
    mount(`/proc/${holder.pid}/ns/user`, target, null, MS.BIND);
  } finally {
    closeFd(readEnd);
    closeFd(writeEnd);
    // The holder reads end-of-file and goes on to exit, bound or not; its exit is awaited so no zombie is left.
    if (pidfd !== undefined) {
      const fd = pidfd;
      void waitForExit(fd).finally(() => closeFd(fd));
    }
  }
}

export function makeUserNamespaceFiles(): UserNamespaceFiles {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
  const names = { sibling: 'sibling', host: 'host' };
  try {
    fs.chmodSync(dir, 0o755);
    // A private mount of its own: the binds below it propagate to no other mount namespace.
    mount(dir, dir, null, MS.BIND);
    setPropagation(dir, 'private', false);
    for (const name of [names.sibling, names.host]) fs.writeFileSync(path.join(dir, name), '', { mode: 0o444 });
    bindSibling(path.join(dir, names.sibling));
    mount('/proc/self/ns/user', path.join(dir, names.host), null, MS.BIND);
    const inode = (name: string) => fs.statSync(path.join(dir, name)).ino;
    return { dir, ...names, inodes: { sibling: inode(names.sibling), host: inode(names.host) } };
  } catch (e) {
    removeMountedDir(dir);
    throw e;
  }
}

/** makeUserNamespaceFiles, or the reason it failed: a host without user namespaces still runs every other invariant. */
export function tryMakeUserNamespaceFiles(): UserNamespaceFilesFact {
  try {
    return makeUserNamespaceFiles();
  } catch (e) {
    return { unavailable: `the harness could not make a user namespace of its own to hand the container: ${(e as Error).message}` };
  }
}
