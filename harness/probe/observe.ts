// Passive observations: what the process sees of itself and its container. Nothing here acts.
import fs from 'node:fs';
import os from 'node:os';
import type { FileKind, Observations, ProcessView } from './protocol.js';
import { interfaceFlags } from '../../core/host-kernel.js';
import { parseMountinfo } from '../../core/mountinfo.js';

export { parseMountinfo };

const O_CLOEXEC = 0o2000000;
/** Opens a path without reading it: enough to learn which mount it is on, whatever its mode. */
const O_PATH = 0o10000000;

function read(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function statusFields(): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of read('/proc/self/status').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return fields;
}

const numbers = (text: string | undefined) => (text ?? '').split(/\s+/).filter(Boolean).map(Number);

function mountIdOf(fdinfo: string): number | null {
  const m = /mnt_id:\s*(\d+)/.exec(fdinfo);
  return m ? Number(m[1]) : null;
}

function kindOf(st: fs.Stats): FileKind {
  return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'other';
}

/** What Node (libuv) opens for itself: its epoll and eventfd descriptors and the self-pipes it holds both ends of. */
const NODE_OWN_ANON = /^anon_inode:\[(eventpoll|eventfd|timerfd|signalfd)\]$/;

/**
 * Open descriptors. Close-on-exec tells nothing here: at start-up libuv marks every descriptor it
 * finds open close-on-exec, inherited ones included. So a descriptor above 2 counts as inherited
 * unless it is of a kind Node makes for itself (an epoll or eventfd, or a pipe with both ends
 * open in this process); a leaked pipe end, file, directory or socket shows as inherited.
 */
function openFds(): ProcessView['fds'] {
  const fds: ProcessView['fds'] = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    const info = read(`/proc/self/fdinfo/${fd}`);
    if (!info) continue;
    let target = '';
    let kind: FileKind = 'other';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      kind = kindOf(fs.fstatSync(fd));
    } catch {
      continue;
    }
    fds.push({ fd, target, inherited: true, mountId: mountIdOf(info), kind });
  }
  const pipeEnds = new Map<string, number>();
  for (const f of fds) if (f.target.startsWith('pipe:')) pipeEnds.set(f.target, (pipeEnds.get(f.target) ?? 0) + 1);
  for (const f of fds) {
    const nodeOwn = NODE_OWN_ANON.test(f.target) || (pipeEnds.get(f.target) ?? 0) >= 2;
    f.inherited = f.fd <= 2 || !nodeOwn;
  }
  return fds.sort((a, b) => a.fd - b.fd);
}

/** The mount a path is on, from the fdinfo of an O_PATH descriptor (magic links such as /proc/self/cwd included). */
function mountIdOfPath(path: string): number | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, O_PATH | O_CLOEXEC);
    return mountIdOf(read(`/proc/self/fdinfo/${fd}`));
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Namespace inodes of a process by type; the host side compares the container's against its own. */
export function namespaceInodes(pid: number | 'self' = 'self'): Record<string, number> {
  const result: Record<string, number> = {};
  for (const type of ['user', 'pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup', 'time']) {
    try {
      const link = fs.readlinkSync(`/proc/${pid}/ns/${type}`);
      result[type] = Number(/\[(\d+)\]/.exec(link)?.[1]);
    } catch {
      // namespace type not supported by this kernel
    }
  }
  return result;
}

export function observeProcess(): ProcessView {
  const s = statusFields();
  const stat = read('/proc/self/stat');
  const afterComm = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid: Number(s.Pid),
    ppid: Number(s.PPid),
    sid: Number(afterComm[3]),
    uids: numbers(s.Uid),
    gids: numbers(s.Gid),
    groups: numbers(s.Groups),
    capabilities: {
      inheritable: s.CapInh ?? '', permitted: s.CapPrm ?? '', effective: s.CapEff ?? '', bounding: s.CapBnd ?? '', ambient: s.CapAmb ?? '',
    },
    noNewPrivs: Number(s.NoNewPrivs ?? 0),
    seccomp: Number(s.Seccomp ?? 0),
    namespaces: namespaceInodes(),
    cwd: safeReadlink('/proc/self/cwd'),
    root: safeReadlink('/proc/self/root'),
    // Listed before the cwd and root are opened, so those descriptors do not show among them.
    fds: openFds(),
    cwdMountId: mountIdOfPath('/proc/self/cwd'),
    rootMountId: mountIdOfPath('/proc/self/root'),
  };
}

function safeReadlink(path: string): string {
  try {
    return fs.readlinkSync(path);
  } catch (e) {
    return `<${(e as NodeJS.ErrnoException).code}>`;
  }
}

function interfaces(): { name: string; up: boolean }[] {
  return read('/proc/net/dev').split('\n').slice(2).filter(Boolean).map((line) => {
    const name = line.split(':')[0].trim();
    return { name, up: ((interfaceFlags(name) ?? 0) & 1) === 1 };
  });
}

function devices(): string[] {
  try {
    return fs.readdirSync('/dev', { withFileTypes: true })
      .filter((d) => !d.isDirectory() && !d.isSymbolicLink())
      .map((d) => {
        const st = fs.statSync(`/dev/${d.name}`);
        return `${d.name}:${st.isBlockDevice() ? 'b' : st.isCharacterDevice() ? 'c' : 'f'}`;
      });
  } catch {
    return [];
  }
}

/** Rows of /proc/self/limits below its header: the columns are padded to fixed widths, the name has spaces. */
function limits(): Observations['limits'] {
  return read('/proc/self/limits').split('\n').slice(1).filter(Boolean).map((line) => {
    const [soft, hard] = line.slice(26).trim().split(/\s+/);
    return { soft: soft ?? '', hard: hard ?? '' };
  });
}

/** The home directory /etc/passwd gives this process's uid; null when it has no entry there. */
function passwdHome(): string | null {
  const uid = String(process.getuid?.());
  const entry = read('/etc/passwd').split('\n').map((line) => line.split(':')).find((f) => f.length >= 7 && f[2] === uid);
  return entry ? entry[5]! : null;
}

function uptimeSeconds(): number {
  return Number(read('/proc/uptime').split(' ')[0]);
}

export type PassiveObservations = Pick<Observations, 'self' | 'procPids' | 'hostname' | 'domainname' | 'uidMap' | 'gidMap'
  | 'setgroups' | 'cgroup' | 'mounts' | 'env' | 'passwdHome' | 'interfaces' | 'devices' | 'time' | 'limits' | 'umask'>;

export function observe(): PassiveObservations {
  return {
    self: observeProcess(),
    procPids: fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b),
    hostname: os.hostname(),
    domainname: read('/proc/sys/kernel/domainname').trim(),
    uidMap: read('/proc/self/uid_map'),
    gidMap: read('/proc/self/gid_map'),
    setgroups: read('/proc/self/setgroups').trim(),
    cgroup: read('/proc/self/cgroup'),
    mounts: parseMountinfo(read('/proc/self/mountinfo')),
    env: { ...process.env } as Record<string, string>,
    passwdHome: passwdHome(),
    interfaces: interfaces(),
    devices: devices(),
    limits: limits(),
    umask: statusFields().Umask ?? null,
    time: { offsets: read('/proc/self/timens_offsets'), monotonic: Number(process.hrtime.bigint()) / 1e9, boottime: uptimeSeconds() },
  };
}
