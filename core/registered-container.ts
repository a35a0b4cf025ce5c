// A container another nsrig process launched and recorded (core/container-registry.ts), seen from
// this one: its OCI state, a signal to its first process, and what a join needs. Every use of its
// first process goes through a pidfd taken and then checked against the recorded start time, so a
// pid that has since been given to another process is never joined or signalled.
import fs from 'node:fs';
import type { JoinableContainer } from './container-exec.js';
import { readRecord, RegistryError, stillRuns, type ContainerRecord } from './container-registry.js';
import { STATE_OCI_VERSION } from './container-hooks.js';
import { closeFd, openPidfd, pidfdExited, signalPidfd } from './native/process.js';

/** runtime.md "State", as `runc state` prints it. */
export interface RegisteredState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'running' | 'stopped';
  pid?: number;
  bundle: string;
  rootfs?: string;
  created: string;
  owner: number;
  annotations: Record<string, string>;
}

/** Running, not a zombie: a first process that exited is stopped until its owner reaps it and tears down. */
function initRuns(record: ContainerRecord): boolean {
  if (record.init === undefined || !stillRuns(record.init)) return false;
  try {
    const stat = fs.readFileSync(`/proc/${record.init.pid}/stat`, 'utf8');
    return stat[stat.lastIndexOf(')') + 2] !== 'Z';
  } catch {
    return false;
  }
}

export function stateOf(record: ContainerRecord): RegisteredState {
  const status = record.status === 'creating' ? 'creating' : initRuns(record) ? 'running' : 'stopped';
  return {
    ociVersion: STATE_OCI_VERSION, id: record.id, status, ...(status === 'running' ? { pid: record.init!.pid } : {}),
    bundle: record.bundle, ...(record.rootfs === undefined ? {} : { rootfs: record.rootfs }), created: record.created, owner: record.owner.pid, annotations: {},
  };
}

/** The state of container ID; RegistryError when no live nsrig holds it. */
export function registeredState(id: string): RegisteredState {
  return stateOf(readRecord(id));
}

/** A pidfd on the running first process of container ID, or RegistryError 'not-running'. */
function openInit(record: ContainerRecord): number {
  const notRunning = (why: string) => new RegistryError(`container "${record.id}" is not running: ${why}`, 'not-running');
  if (record.status !== 'running' || record.init === undefined) throw notRunning('it is still being created');
  let pidfd: number;
  try {
    pidfd = openPidfd(record.init.pid);
  } catch {
    throw notRunning(`its first process (pid ${record.init.pid}) has exited`);
  }
  // Checked once the pidfd holds the process: a start time read before could be a later process's.
  if (!stillRuns(record.init) || pidfdExited(pidfd)) {
    closeFd(pidfd);
    throw notRunning(`its first process (pid ${record.init.pid}) has exited`);
  }
  return pidfd;
}

/** Sends signal to the first process of container ID (as `runc kill`). */
export function killRegistered(id: string, signal: NodeJS.Signals | number): void {
  const pidfd = openInit(readRecord(id));
  try {
    signalPidfd(pidfd, signal);
  } finally {
    closeFd(pidfd);
  }
}

/** Container ID as a join needs it; release() closes its pidfd. */
export function openRegistered(id: string): { container: JoinableContainer; release(): void } {
  const record = readRecord(id);
  const pidfd = openInit(record);
  return {
    container: {
      id, pid: record.init!.pid, pidfd, state: 'running',
      launchedFrom: { profile: record.profile, noNewKeyring: record.noNewKeyring },
      cgroups: { directories: record.cgroupDirectories },
    },
    release: () => closeFd(pidfd),
  };
}
