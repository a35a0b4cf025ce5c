// An OCI session's directory (mkdtemp $TMPDIR/nsrig-bundle-*): the bundle, and under runtime/ the
// runtime's private state root, its log, the pid file and owner.json, which says which nsrig
// process made it, with which runtime, for which container. An nsrig that was SIGKILLed never
// tore its sessions down: its containers may still run. The next run finds them by owner.json and
// has the runtime delete them (--force kills what still runs), then removes the directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readMountinfo } from './cgroup-layout.js';
import { isSameOrBelow } from './host-root-view.js';
import { startTicksOf, stillStartedAt } from '../../../core/process-start.js';
import { removeContainerCgroups } from './runtime-cgroups.js';

export const SESSION_DIR_PREFIX = 'nsrig-bundle-';
const OWNER_FILE = 'owner.json';

interface SessionOwner {
  pid: number;
  /** The owner's start time (proc(5) stat field 22): a pid alone is reused. */
  startTicks: number;
  /** The runtime that holds the container, and its state root. */
  runtime: string;
  stateRoot: string;
  id: string;
}

/** Written before the runtime is run, so that no container exists without its owner on record. */
export function recordOwner(runtimeDir: string, runtime: string, stateRoot: string, id: string): void {
  const owner: SessionOwner = { pid: process.pid, startTicks: startTicksOf('self') ?? 0, runtime, stateRoot, id };
  fs.writeFileSync(path.join(runtimeDir, OWNER_FILE), JSON.stringify(owner), { mode: 0o600 });
}

function readOwner(sessionDir: string): SessionOwner | undefined {
  try {
    const owner = JSON.parse(fs.readFileSync(path.join(sessionDir, 'runtime', OWNER_FILE), 'utf8')) as SessionOwner;
    return Number.isInteger(owner.pid) && typeof owner.runtime === 'string' && typeof owner.id === 'string' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes a session directory, but never while anything is mounted below it: a bind of a host
 * directory left there would have rm delete the host's files.
 */
export function removeSessionDir(dir: string): string[] {
  const mounted = readMountinfo().filter((m) => isSameOrBelow(m.mountPoint, dir)).map((m) => m.mountPoint);
  if (mounted.length > 0) return [`not removing ${dir}: ${mounted.join(', ')} still mounted there`];
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return [];
  } catch (error) {
    return [`could not remove ${dir}: ${(error as Error).message}`];
  }
}

/**
 * Deletes the containers of session directories whose owner is gone and removes the directories.
 * Returns the directories it removed. A directory without owner.json (made by an older nsrig, or
 * being made right now) is left alone.
 */
export function sweepStaleSessions(tmpdir: string = os.tmpdir(), commandTimeoutMs = 10_000): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(tmpdir).filter((n) => n.startsWith(SESSION_DIR_PREFIX));
  } catch {
    return [];
  }
  const swept: string[] = [];
  for (const dir of names.map((n) => path.join(tmpdir, n))) {
    const owner = readOwner(dir);
    if (owner === undefined || stillStartedAt(owner.pid, owner.startTicks)) continue;
    spawnSync(owner.runtime, ['--root', owner.stateRoot, 'delete', '--force', owner.id], { timeout: commandTimeoutMs, stdio: 'ignore' });
    removeContainerCgroups(owner.id);
    let left: string[] = [];
    try {
      left = fs.readdirSync(owner.stateRoot);
    } catch {
      // no state root: the runtime never got as far as making the container
    }
    // Still listed: the runtime could not delete it; keep the directory for the next sweep to retry.
    if (left.length === 0 && removeSessionDir(dir).length === 0) swept.push(dir);
  }
  return swept;
}
