// What of the host a rig could damage, read as plain data: the suite-wide host guard takes it
// before and after the whole test run (test/host-guard/host-guard.ts) and compares. Values (names,
// kernel parameters, device nodes) must be exactly as they were; of the things a container or a
// fixture leaves (mounts, cgroups, state, processes, network namespaces), none may have appeared.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readMountinfo, type MountinfoEntry } from '../../core/mountinfo.js';

export interface HostSnapshot {
  /** One text per name ("hostname", "sysctl net.ipv4.ip_forward", "/dev/null"): compared exactly. */
  values: Record<string, string>;
  /** Per kind ("mount", "cgroup", ...), each thing of a rig's kind on the host, in words. */
  present: Record<string, string[]>;
}

/**
 * Parameters a container writes inside its own namespaces (the generators' sysctls, hostname and
 * domain name), those an escape would aim at, and host limits a broken isolation would change.
 */
export const GUARDED_SYSCTLS: readonly string[] = [
  'kernel.hostname', 'kernel.domainname',
  'net.ipv4.ip_forward', 'net.ipv4.conf.all.forwarding', 'net.ipv6.conf.all.forwarding',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start', 'net.core.somaxconn',
  'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.shmmax', 'kernel.shmall', 'kernel.shmmni', 'kernel.sem',
  'fs.mqueue.msg_max', 'fs.mqueue.queues_max', 'vm.overcommit_memory', 'user.max_user_namespaces',
  'kernel.core_pattern', 'kernel.modprobe', 'kernel.yama.ptrace_scope', 'kernel.unprivileged_bpf_disabled',
];

/** The nodes every process and runtime uses: a runtime that fchowns its stdio hands one to a container's user. */
export const GUARDED_DEVICES: readonly string[] = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/ptmx'];

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function nodeFacts(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st === undefined) return 'missing';
  const type = st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
  const rdev = type === 'char' || type === 'block' ? ` ${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` : '';
  return `${st.uid}:${st.gid} mode ${(st.mode & 0o7777).toString(8)} ${type}${rdev}`;
}

/** Mounts a leak would show as: naming nsrig, below /tmp (the staging root), or a bound network namespace. */
function rigMounts(all: MountinfoEntry[]): string[] {
  return all
    .filter((m) => m.mountPoint.includes('nsrig') || m.source.includes('nsrig') || m.mountPoint.startsWith('/tmp/') || m.mountPoint.startsWith('/run/netns/'))
    .map((m) => `${m.mountPoint} (${m.fsType} from ${m.source})`);
}

/** Directories naming nsrig in every cgroup hierarchy, down to the depth the engine and runtimes use. */
function rigCgroups(all: MountinfoEntry[]): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      const child = path.join(dir, entry.name);
      if (entry.name.includes('nsrig')) found.push(child);
      if (depth > 1) walk(child, depth - 1);
    }
  };
  const roots = new Set(all.filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2').map((m) => m.mountPoint));
  for (const root of roots) {
    try {
      walk(root, 5);
    } catch {
      // unmounted meanwhile (crun's host preparation comes and goes)
    }
  }
  return found.sort();
}

/**
 * What /run/nsrig-* hold: container records, cgroup records, a host preparation's state. The
 * directories themselves stay once made (an empty /run/nsrig-cgroups is the host as nsrig leaves it).
 */
function rigState(): string[] {
  const found: string[] = [];
  for (const name of list('/run').filter((n) => n.startsWith('nsrig'))) {
    const top = path.join('/run', name);
    const st = fs.lstatSync(top, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (!st.isDirectory()) found.push(top);
    else for (const entry of list(top)) found.push(path.join(top, entry));
  }
  return found;
}

/**
 * Processes a run can leave: a namespace holder (its environment names its owner), a process in a
 * cgroup naming nsrig, or one running this checkout's own code (dist/, bin/; not its node_modules,
 * which other checkouts on the host may link to). The guard's own ancestors are left out.
 */
function rigProcesses(checkout: string, ancestors: ReadonlySet<number>): string[] {
  const code = ['dist', 'bin'].map((dir) => `${path.join(checkout, dir)}/`);
  const found: string[] = [];
  for (const pid of list('/proc').filter((n) => /^\d+$/.test(n)).map(Number)) {
    if (pid === process.pid || ancestors.has(pid)) continue;
    const command = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean).join(' ');
    if (command === '') continue;
    const owner = /(?:^|\0)NSRIG_NS_HOLDER_OF=(\d+)/.exec(read(`/proc/${pid}/environ`) ?? '')?.[1];
    const cgroup = (read(`/proc/${pid}/cgroup`) ?? '').split('\n').find((line) => line.includes('nsrig'));
    const why = owner !== undefined ? `a namespace holder of ${owner}`
      : cgroup !== undefined ? `in cgroup ${cgroup.slice(cgroup.indexOf(':', cgroup.indexOf(':') + 1) + 1)}`
        : code.some((dir) => command.includes(dir)) ? 'running this checkout\'s code' : undefined;
    if (why !== undefined) found.push(`pid ${pid} (${command.slice(0, 120)}), ${why}`);
  }
  return found;
}

function ancestorsOf(pid: number): Set<number> {
  const found = new Set<number>();
  for (let p = pid; p > 1;) {
    const parent = Number(/^PPid:\s+(\d+)/m.exec(read(`/proc/${p}/status`) ?? '')?.[1] ?? 0);
    if (parent <= 0 || found.has(parent)) break;
    found.add(parent);
    p = parent;
  }
  return found;
}

/** Containers a runtime lists in its default state root; none when it is not installed. */
function runtimeContainers(runtime: string): string[] {
  const run = spawnSync(runtime, ['list', '-q'], { encoding: 'utf8', timeout: 20_000, stdio: ['pipe', 'pipe', 'pipe'] });
  return run.status === 0 ? run.stdout.split('\n').filter(Boolean) : [];
}

function walkFiles(dir: string): string[] {
  return list(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return fs.lstatSync(p, { throwIfNoEntry: false })?.isDirectory() ? [p, ...walkFiles(p)] : [p];
  });
}

/** The host as the guard compares it; checkout is the code's directory, whose processes must all be gone after a run. */
export function takeHostSnapshot(checkout: string): HostSnapshot {
  const values: Record<string, string> = {};
  for (const name of GUARDED_SYSCTLS) {
    values[`sysctl ${name}`] = (read(`/proc/sys/${name.replace(/\./g, '/')}`) ?? 'missing').trim().replace(/\s+/g, ' ');
  }
  for (const device of GUARDED_DEVICES) values[device] = nodeFacts(device);
  const all = readMountinfo();
  return {
    values,
    present: {
      'mount': rigMounts(all),
      'cgroup': rigCgroups(all),
      '/run entry': rigState(),
      'process': rigProcesses(checkout, ancestorsOf(process.pid)),
      'network namespace': list('/run/netns').map((n) => `/run/netns/${n}`),
      'runc container (default root)': runtimeContainers('runc'),
      'crun container (default root)': runtimeContainers('crun'),
      'pinned BPF object': walkFiles('/sys/fs/bpf'),
    },
  };
}
