// A process that holds namespaces of its own for containers to join (linux.namespaces[].path,
// namespacePaths): unshare(1) makes them, sets a hostname and brings loopback up in them, and
// sleeps. It is started through a shell that exits at once, so it is no child of ours (a
// leftover check counting our children must not see it), and it is held by a pidfd, so the kill
// that ends it never reaches a recycled pid. Its environment names its owner: the next holder
// of any nsrig process kills those whose owner is gone (SIGKILLed before its exit hook ran).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { closeFd, openPidfd, signalPidfd } from '../core/host-kernel.js';
import type { NamespaceType } from '../policy/profile/types.js';

export type HeldNamespace = 'user' | 'net' | 'uts' | 'ipc' | 'pid' | 'cgroup' | 'mnt' | 'time';

/**
 * A held user namespace maps its root to the host's (the only mapping unshare(1) writes itself
 * without newuidmap(1)); the holder's other namespaces are then created inside it, and belong to it.
 */
const UNSHARE_OPTION: Readonly<Record<HeldNamespace, string>> = {
  user: '--user --map-root-user', net: '--net', uts: '--uts', ipc: '--ipc', pid: '--pid', cgroup: '--cgroup', mnt: '--mount', time: '--time',
};
/** pid and time namespaces hold only children of the one who unshares them: their files are *_for_children. */
const NS_FILE: Readonly<Record<HeldNamespace, string>> = {
  user: 'user', net: 'net', uts: 'uts', ipc: 'ipc', pid: 'pid_for_children', cgroup: 'cgroup', mnt: 'mnt', time: 'time_for_children',
};
const OWNER_VARIABLE = 'NSRIG_NS_HOLDER_OF';
const READY_POLLS = 200;

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
  return spawnSync('sh', ['-c', 'command -v unshare'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } }).status === 0
    ? undefined : 'unshare(1) (util-linux) is not installed';
}

export function startNamespaceHolder(types: readonly HeldNamespace[], options: { seconds?: number } = {}): NamespaceHolder {
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
  const inner = `${setHostname}${loopbackUp}exec sleep "$2"`;
  // The outer shell starts unshare in the background, waits for the ready file and prints unshare's pid.
  const outer = `unshare ${types.map((t) => UNSHARE_OPTION[t]).join(' ')} ${forks.join(' ')} sh -c '${inner}' holder "$1" "$3" </dev/null >/dev/null 2>&1 &
pid=$!; i=0
while [ ! -s "$2" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt ${READY_POLLS} ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$2" ] && echo "$pid"`;
  const result = spawnSync('sh', ['-c', outer, 'holder', hostname, ready, String(options.seconds ?? 600)], {
    encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', [OWNER_VARIABLE]: String(process.pid), NSRIG_HOLDER_READY: ready },
  });
  const loopback = fs.existsSync(ready) ? fs.readFileSync(ready, 'utf8').trim() : '';
  fs.rmSync(ready, { force: true });
  const pid = Number(result.stdout.trim());
  if (result.status !== 0 || !Number.isSafeInteger(pid) || pid <= 0) {
    throw new Error(`could not start a namespace holder with unshare ${types.join(', ')}: ${result.stderr.trim() || `exit ${result.status}`}`);
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
