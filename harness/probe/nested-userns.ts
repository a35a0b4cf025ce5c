// A user namespace nested in the container's: the probe starts `unshare --user sleep`, and once the
// child is in a namespace of its own, writes the child's uid_map from the container's namespace,
// as a runtime nesting containers would. What the kernel accepts depends on the container's own
// map: an id it does not map cannot be mapped again below it (user_namespaces(7)).
import fs from 'node:fs';
import { spawn } from 'node:child_process';
import type { Observations, Outcome } from './protocol.js';
import { errnoNumber } from '../../policy/kernel/errno.js';

/** How long the child may take to leave for its namespace (unshare starts, then calls unshare(2)). */
const UNSHARE_WAIT_MS = 5000;

function userNamespaceOf(pid: number | 'self'): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/ns/user`);
  } catch {
    return null;
  }
}

function outcomeOf(e: unknown): Outcome {
  const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  return { errno: errnoNumber(code) ?? -1, code };
}

/** Maps `id` of the container to root of a new nested namespace; reports the write and the map read back. */
export async function nestedUidMap(id: number): Promise<Observations['nestedUidMaps'][number]> {
  const ours = userNamespaceOf('self');
  const child = spawn('unshare', ['--user', 'sleep', '30'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()).once('error', () => resolve()));
  try {
    const pid = child.pid;
    const started = Date.now();
    let moved = false;
    while (pid !== undefined && Date.now() - started < UNSHARE_WAIT_MS && child.exitCode === null) {
      const theirs = userNamespaceOf(pid);
      if (theirs !== null && theirs !== ours) {
        moved = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!moved || pid === undefined) return { id, unshared: false, write: { errno: null, code: null }, readBack: null };
    let write: Outcome = { errno: null, code: null };
    try {
      fs.writeFileSync(`/proc/${pid}/uid_map`, `0 ${id} 1\n`);
    } catch (e) {
      write = outcomeOf(e);
    }
    let readBack: string | null = null;
    try {
      readBack = fs.readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split(/\s+/).join(' ');
    } catch {
      readBack = null;
    }
    return { id, unshared: true, write, readBack };
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
