// A process that holds namespaces of its own for containers to join (linux.namespaces[].path,
// namespacePaths): unshare(1) makes them, sets a hostname and brings loopback up in them, and
// sleeps. It dies with its owner: it is our child, started by setpriv(1) with a parent-death
// signal (SIGKILL) that unshare and its exec'd shell and sleep keep, and unshare's --kill-child
// passes on to the child it forks for a pid or time namespace. An exit hook alone is not enough:
// a SIGKILLed owner runs none. It is held by a pidfd, so the kill that ends it never reaches a
// recycled pid, and its environment names its owner, so the next holder of any nsrig process
// kills one left by an nsrig that predates the parent-death signal.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { closeFd, openPidfd, signalPidfd } from '../core/host-kernel.js';
import type { NamespaceType } from '../policy/profile/types.js';

export type HeldNamespace = 'user' | 'net' | 'uts' | 'ipc' | 'pid' | 'cgroup' | 'mnt' | 'time';

/**
 * A held user namespace maps its root to the host's and its other ids off the host's
 * (USER_NAMESPACE_MAP, written from here: unshare(1) writes more than one id only through
 * newuidmap(1)); the holder's other namespaces are created inside it, and belong to it.
 */
const UNSHARE_OPTION: Readonly<Record<HeldNamespace, string>> = {
  user: '--user', net: '--net', uts: '--uts', ipc: '--ipc', pid: '--pid', cgroup: '--cgroup', mnt: '--mount', time: '--time',
};
/** pid and time namespaces hold only children of the one who unshares them: their files are *_for_children. */
const NS_FILE: Readonly<Record<HeldNamespace, string>> = {
  user: 'user', net: 'net', uts: 'uts', ipc: 'ipc', pid: 'pid_for_children', cgroup: 'cgroup', mnt: 'mnt', time: 'time_for_children',
};
const OWNER_VARIABLE = 'NSRIG_NS_HOLDER_OF';
/** uid_map and gid_map of a held user namespace: its root is the host's, 1-65535 are host ids 100001-165535. */
export const USER_NAMESPACE_MAP = '0 0 1\n1 100001 65535\n';
const READY_POLLS = 200;
const READY_POLL_MS = 50;

/** Our holders until they are reaped: fixtures of the whole process, not leftovers (host-leftovers.ts). */
const ourHolders = new Set<number>();

export function isOurNamespaceHolder(pid: number): boolean {
  return ourHolders.has(pid);
}

export interface NamespaceHolder {
  /** The unshare(1) process's pid. */
  pid: number;
  hostname: string;
  /** Whether loopback came up (it needs ip(8)). */
  loopbackUp: boolean;
  /** /proc/PID/ns/… per held type: the paths a container joins. */
  paths: Partial<Record<NamespaceType, string>>;
  /** Each held namespace's inode number, as /proc/self/ns shows it inside a process that is there. */
  inodes: Partial<Record<NamespaceType, number>>;
  /** Kills the holder; idempotent and synchronous (it runs in exit hooks). */
  close(): void;
}

/** Why no holder can be made here, or undefined. */
export function namespaceHolderProblem(): string | undefined {
  return spawnSync('sh', ['-c', 'command -v unshare && command -v setpriv'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).status === 0
    ? undefined : 'unshare(1) or setpriv(1) (util-linux) is not installed';
}

/** userMap: a held user namespace's uid and gid map instead of USER_NAMESPACE_MAP (one without 0 leaves the holder without capabilities there). */
export function startNamespaceHolder(types: readonly HeldNamespace[], options: { seconds?: number; userMap?: string } = {}): NamespaceHolder {
  sweepStaleNamespaceHolders();
  const hostname = `holder-${randomBytes(3).toString('hex')}`;
  const ready = path.join(os.tmpdir(), `nsrig-holder-${process.pid}-${randomBytes(4).toString('hex')}`);
  const forks = types.includes('pid') || types.includes('time') ? ['--fork', '--kill-child'] : [];
  // Only inside namespaces of its own: without a UTS namespace, hostname(1) would rename the host,
  // and without a network namespace the link brought up would be the host's.
  const setHostname = types.includes('uts') ? 'hostname "$1" || exit 1; ' : '';
  // The ready file comes in the environment, not the command line: a test that looks for processes
  // naming its temp directory must not take the holder, which outlives its runs, for a leftover.
  const loopbackUp = types.includes('net')
    ? 'ip link set lo up 2>/dev/null && echo up > "$NSRIG_HOLDER_READY" || echo down > "$NSRIG_HOLDER_READY"; '
    : 'echo down > "$NSRIG_HOLDER_READY"; ';
  const held = `${setHostname}${loopbackUp}exec sleep "$2"`;
  // In a user namespace of its own, the holder runs as nobody with no capability until its maps are
  // written (below); then an exec makes it the namespace's root, able to name and configure what it
  // holds. That exec gains capabilities, which clears the parent-death signal (prctl(2)): setpriv
  // sets it again.
  const inner = types.includes('user')
    ? 'until grep -q . /proc/self/uid_map; do sleep 0.05; done; exec setpriv --pdeathsig KILL -- sh -c "$NSRIG_HOLDER_SCRIPT" holder "$1" "$2"' : held;
  const errors = `${ready}.err`;
  const stderr = fs.openSync(errors, 'w');
  let child: ChildProcess;
  try {
    // The death signal belongs to the thread that forks: Node spawns from the main thread, which lives as long as we do.
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'unshare', ...types.flatMap((t) => UNSHARE_OPTION[t].split(' ')), ...forks,
      'sh', '-c', inner, 'holder', hostname, String(options.seconds ?? 600)], {
      stdio: ['ignore', 'ignore', stderr],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', [OWNER_VARIABLE]: String(process.pid), NSRIG_HOLDER_READY: ready, NSRIG_HOLDER_SCRIPT: held },
    });
  } finally {
    fs.closeSync(stderr);
  }
  const pid = child.pid;
  if (pid !== undefined) {
    ourHolders.add(pid);
    child.once('exit', () => ourHolders.delete(pid));
  }
  child.on('error', () => undefined);
  // It must not keep an otherwise finished process alive: the death signal ends it with us.
  child.unref();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  if (types.includes('user') && pid !== undefined) writeHolderMaps(pid, pause, options.userMap ?? USER_NAMESPACE_MAP);
  // Ready once its line is there: an empty file may be read mid-write.
  const readyLine = () => (fs.existsSync(ready) ? fs.readFileSync(ready, 'utf8') : '');
  for (let i = 0; i < READY_POLLS && pid !== undefined && readyLine() === '' && running(pid); i++) Atomics.wait(pause, 0, 0, READY_POLL_MS);
  const loopback = readyLine().trim();
  const why = fs.readFileSync(errors, 'utf8').trim();
  fs.rmSync(ready, { force: true });
  fs.rmSync(errors, { force: true });
  if (pid === undefined || loopback === '' || !running(pid)) {
    if (pid !== undefined && running(pid)) process.kill(pid, 'SIGKILL');
    throw new Error(`could not start a namespace holder with unshare ${types.join(', ')}: ${why || (pid === undefined ? 'setpriv could not be run' : 'it was not ready in time')}`);
  }
  const pidfd = openPidfd(pid);
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    signalPidfd(pidfd, 'SIGKILL');
    closeFd(pidfd);
  };
  try {
    const paths: Partial<Record<NamespaceType, string>> = {};
    const inodes: Partial<Record<NamespaceType, number>> = {};
    for (const type of types) {
      const file = `/proc/${pid}/ns/${NS_FILE[type]}`;
      paths[type] = file;
      inodes[type] = fs.statSync(file).ino;
    }
    return { pid, hostname, loopbackUp: loopback === 'up', paths, inodes, close };
  } catch (e) {
    close();
    throw e;
  }
}

/** Alive and not a zombie: an exited child of ours stays one until Node reaps it. */
function running(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Kills holders whose owner is gone: their owner was SIGKILLed before its exit hook ran. */
export function sweepStaleNamespaceHolders(): void {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let owner: number;
    try {
      const entry = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').find((e) => e.startsWith(`${OWNER_VARIABLE}=`));
      owner = Number(entry?.slice(OWNER_VARIABLE.length + 1));
    } catch {
      continue;
    }
    if (!owner || fs.existsSync(`/proc/${owner}`)) continue;
    try {
      const pidfd = openPidfd(Number(name));
      signalPidfd(pidfd, 'SIGKILL');
      closeFd(pidfd);
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Writes `map` as the uid and gid maps of the holder's user namespace, once it has
 * one (unshare(1) makes it after it starts). A holder that never gets there is not ready in time.
 */
function writeHolderMaps(pid: number, pause: Int32Array, map: string): void {
  const own = fs.readlinkSync('/proc/self/ns/user');
  for (let i = 0; i < READY_POLLS && running(pid); i++) {
    let theirs: string;
    try {
      theirs = fs.readlinkSync(`/proc/${pid}/ns/user`);
    } catch {
      return;
    }
    if (theirs !== own) {
      fs.writeFileSync(`/proc/${pid}/uid_map`, map);
      fs.writeFileSync(`/proc/${pid}/gid_map`, map);
      return;
    }
    Atomics.wait(pause, 0, 0, READY_POLL_MS);
  }
}
