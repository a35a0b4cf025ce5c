// The engine's containers named with `nsrig run --name ID`, recorded where other nsrig processes
// find them (exec, state, list, kill). An engine container lives only as long as the nsrig that
// launched it (its owner), so a record names the owner by pid and start time: one whose owner is
// gone (SIGKILLed, so its teardown never ran) is swept by the next nsrig that reads the registry,
// with whatever of the container still runs. Each record is a directory ROOT/ID holding
// state.json; it appears whole (made aside, then renamed into place), so no ID is ever seen taken
// without its owner, and the rename is what refuses an ID that another nsrig holds.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Profile } from '../policy/profile/types.js';
import type { Container } from './container.js';
import { startTicksOf, stillStartedAt } from './process-start.js';
import { closeFd, openPidfd, signalPidfd } from './native/process.js';
import { sweepDeadOwnersCgroups } from './cgroup-dead-owners.js';
import { tearDownOnExit } from './exit-teardown.js';

/** Root-only (0700); a test or a second rig on the host points it elsewhere. */
const DEFAULT_ROOT = '/run/nsrig-containers';
export const REGISTRY_ROOT_ENV = 'NSRIG_CONTAINERS_DIR';
const STATE_FILE = 'state.json';
/** runc's own bound on a container id's characters, and a length that keeps ROOT/ID/state.json short. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;
export const ID_MAX_LENGTH = 128;

/** A process named for good: a pid alone is reused once its process is gone. */
export interface ProcessIdentity {
  pid: number;
  /** proc(5) stat field 22. */
  startTicks: number;
}

export interface ContainerRecord {
  /** The name given to `nsrig run --name`. */
  id: string;
  /** The engine's own id (nsrig-PID-HEX), which its cgroups are named after; absent while creating. */
  engineId?: string;
  /** creating: the owner is launching it; running: its first process was released to the program. */
  status: 'creating' | 'running';
  /** ISO 8601. */
  created: string;
  owner: ProcessIdentity;
  /** The container's first process, from the host's pid namespace; absent while creating. */
  init?: ProcessIdentity;
  /** The profile or config.json it was launched from, and that file as compiled then (an edit since changes nothing). */
  source: string;
  profile: Profile;
  noNewKeyring: boolean;
  /** Every cgroup directory of the container, the v2 one first. */
  cgroupDirectories: string[];
  bundle: string;
  rootfs?: string;
}

export type RegistryRefusal = 'invalid-id' | 'taken' | 'unknown' | 'not-running' | 'dead-owner' | 'unsafe-root';

/** What the registry refuses, with the reason a caller maps to an exit status. */
export class RegistryError extends Error {
  constructor(message: string, readonly reason: RegistryRefusal) {
    super(message);
    this.name = 'RegistryError';
  }
}

export function registryRoot(): string {
  return path.resolve(process.env[REGISTRY_ROOT_ENV] || DEFAULT_ROOT);
}

/** Makes the root 0700 if missing; refuses one that someone else could write or read. */
function openRoot(): string {
  const root = registryRoot();
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(root);
  if (!st.isDirectory() || st.uid !== process.getuid!() || (st.mode & 0o077) !== 0) {
    throw new RegistryError(`${root} (the container registry${process.env[REGISTRY_ROOT_ENV] ? `, from ${REGISTRY_ROOT_ENV}` : ''}) must be a directory `
      + `owned by uid ${process.getuid!()} with mode 0700, not ${st.isDirectory() ? `uid ${st.uid} mode 0${(st.mode & 0o777).toString(8)}` : 'another kind of file'}`, 'unsafe-root');
  }
  return root;
}

export function validateId(id: string): void {
  if (id.length === 0 || id.length > ID_MAX_LENGTH || !ID_PATTERN.test(id) || id.includes('..')) {
    throw new RegistryError(`container id "${id}" is not valid: 1 to ${ID_MAX_LENGTH} characters of A-Z a-z 0-9 _ . + -, `
      + 'starting with a letter or digit, no ".."', 'invalid-id');
  }
}

// Profiles hold bigints (time offsets), which JSON has no number for.
const BIGINT_TAG = '$bigint';
const encode = (record: ContainerRecord) => JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? { [BIGINT_TAG]: v.toString() } : v), 2);
const decode = (text: string) => JSON.parse(text, (_k, v: unknown) => (
  v !== null && typeof v === 'object' && BIGINT_TAG in v ? BigInt((v as Record<string, string>)[BIGINT_TAG]!) : v)) as ContainerRecord;

function readAt(dir: string): ContainerRecord | undefined {
  try {
    return decode(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The same process still runs (a zombie counts: its pid is not free for another yet). */
export function stillRuns(p: ProcessIdentity): boolean {
  return stillStartedAt(p.pid, p.startTicks);
}

/**
 * Kills what a dead owner left running and removes its record: the first process through a pidfd
 * taken after its start time matched (so a recycled pid is never signalled); its cgroups go with
 * every dead owner's in sweepDeadOwners' one sweep after.
 */
function sweepRecord(dir: string, record: ContainerRecord): void {
  if (record.init !== undefined && stillRuns(record.init)) {
    let pidfd: number | undefined;
    try {
      pidfd = openPidfd(record.init.pid);
      if (stillRuns(record.init)) signalPidfd(pidfd, 'SIGKILL');
    } catch {
      // gone meanwhile
    } finally {
      if (pidfd !== undefined) closeFd(pidfd);
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Removes every record whose owner is gone (and what it left); returns their ids. */
export function sweepDeadOwners(): string[] {
  const root = openRoot();
  const swept: string[] = [];
  for (const name of fs.readdirSync(root)) {
    const dir = path.join(root, name);
    const record = readAt(dir);
    // A directory being made aside, or whose owner died between mkdir and rename: judged by its name.
    const aside = /^\.claim-(\d+)-(\d+)-/.exec(name);
    if (record === undefined && aside !== null) {
      if (!stillRuns({ pid: Number(aside[1]), startTicks: Number(aside[2]) })) fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    if (record !== undefined && !stillRuns(record.owner)) {
      sweepRecord(dir, record);
      swept.push(name);
    }
  }
  // One sweep takes every dead owner's cgroups, with what is still in them, in every hierarchy.
  if (swept.length > 0) sweepDeadOwnersCgroups();
  return swept;
}

/** The record of a live owner's container, after sweeping the dead ones; RegistryError 'unknown' otherwise. */
export function readRecord(id: string): ContainerRecord {
  validateId(id);
  const swept = sweepDeadOwners();
  const record = readAt(path.join(registryRoot(), id));
  if (record === undefined) {
    throw new RegistryError(swept.includes(id)
      ? `container "${id}" belonged to an nsrig process that is gone; its remains were swept`
      : `no container "${id}" (nsrig list shows those running)`, swept.includes(id) ? 'dead-owner' : 'unknown');
  }
  return record;
}

/** Every container whose owner lives, by id. */
export function listRecords(): ContainerRecord[] {
  sweepDeadOwners();
  const root = registryRoot();
  return fs.readdirSync(root).filter((n) => !n.startsWith('.')).sort()
    .map((n) => readAt(path.join(root, n))).filter((r): r is ContainerRecord => r !== undefined);
}

/** Records this process holds, removed on any exit that lets JavaScript run. */
const held = new Set<string>();

function replace(dir: string, record: ContainerRecord): void {
  const aside = path.join(dir, `.${STATE_FILE}.${randomBytes(4).toString('hex')}`);
  fs.writeFileSync(aside, encode(record), { mode: 0o600 });
  fs.renameSync(aside, path.join(dir, STATE_FILE));
}

/**
 * Takes ID for this process, recording the container as creating. Refuses an invalid ID or one a
 * live owner holds; a dead owner's record is swept first.
 */
export function claimId(record: Omit<ContainerRecord, 'owner' | 'status' | 'created' | 'cgroupDirectories'>): ContainerRecord {
  validateId(record.id);
  const root = openRoot();
  sweepDeadOwners();
  const owner = { pid: process.pid, startTicks: startTicksOf('self') ?? 0 };
  const full: ContainerRecord = { ...record, status: 'creating', created: new Date().toISOString(), owner, cgroupDirectories: [] };
  const aside = path.join(root, `.claim-${owner.pid}-${owner.startTicks}-${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(aside, { mode: 0o700 });
  try {
    replace(aside, full);
    fs.renameSync(aside, path.join(root, record.id));
  } catch (e) {
    fs.rmSync(aside, { recursive: true, force: true });
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
    const holder = readAt(path.join(root, record.id));
    throw new RegistryError(`container id "${record.id}" is taken${holder ? ` by a container of nsrig pid ${holder.owner.pid}, ${holder.status}` : ''}; `
      + 'choose another --name or stop that container', 'taken');
  }
  held.add(record.id);
  tearDownOnExit(held, removeNow);
  return full;
}

/** The container launched under a claimed ID runs: its first process and cgroups go on record. */
export function recordRunning(claimed: ContainerRecord, container: Container): ContainerRecord {
  if (!held.has(claimed.id)) throw new Error(`container "${claimed.id}" is not held by this process`);
  const startTicks = startTicksOf(container.pid);
  if (startTicks === undefined) throw new RegistryError(`the first process of container "${claimed.id}" (pid ${container.pid}) is gone`, 'not-running');
  const record: ContainerRecord = {
    ...claimed, status: 'running', engineId: container.id, init: { pid: container.pid, startTicks },
    cgroupDirectories: container.cgroups?.directories ?? [], bundle: container.bundle ?? claimed.bundle,
  };
  replace(path.join(registryRoot(), record.id), record);
  return record;
}

function removeNow(id: string): void {
  const dir = path.join(registryRoot(), id);
  // Only ever our own: after a sweep by another nsrig the ID may be someone else's.
  if (readAt(dir)?.owner.pid === process.pid) fs.rmSync(dir, { recursive: true, force: true });
  held.delete(id);
}

/** Removes this process's record of ID once its container is torn down. */
export function releaseId(id: string): void {
  if (held.has(id)) removeNow(id);
}
