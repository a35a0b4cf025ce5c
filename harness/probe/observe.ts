// Passive observations: what the process sees of itself and its container. Nothing here acts.
import fs from 'node:fs';
import os from 'node:os';
import type { MountEntry, Observations, ProcessView } from './protocol.js';
import { interfaceFlags } from '../../core/native/system.js';

const O_CLOEXEC = 0o2000000;

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

/**
 * Open descriptors. Node opens all of its own close-on-exec, so one without O_CLOEXEC in
 * /proc/self/fdinfo was inherited from whoever exec'd us.
 */
function openFds(): ProcessView['fds'] {
  const fds: ProcessView['fds'] = [];
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    const info = read(`/proc/self/fdinfo/${fd}`);
    const flags = parseInt(/flags:\s*([0-7]+)/.exec(info)?.[1] ?? '0', 8);
    if (!info) continue;
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    fds.push({ fd, target, inherited: (flags & O_CLOEXEC) === 0 });
  }
  return fds;
}

function namespaceInodes(): Record<string, number> {
  const result: Record<string, number> = {};
  for (const type of ['user', 'pid', 'uts', 'ipc', 'net', 'mnt', 'cgroup', 'time']) {
    try {
      const link = fs.readlinkSync(`/proc/self/ns/${type}`);
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
    fds: openFds(),
  };
}

function safeReadlink(path: string): string {
  try {
    return fs.readlinkSync(path);
  } catch (e) {
    return `<${(e as NodeJS.ErrnoException).code}>`;
  }
}

export function parseMountinfo(text: string): MountEntry[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const [left, right] = line.split(' - ');
    const f = left.split(' ');
    const r = right.split(' ');
    const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
    return {
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescape(f[3]),
      mountPoint: unescape(f[4]),
      options: f[5].split(','),
      optional: f.slice(6),
      fsType: r[0],
      source: r[1],
      superOptions: (r[2] ?? '').split(','),
    };
  });
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

function uptimeSeconds(): number {
  return Number(read('/proc/uptime').split(' ')[0]);
}

export type PassiveObservations = Pick<Observations, 'self' | 'procPids' | 'hostname' | 'domainname' | 'uidMap' | 'gidMap'
  | 'setgroups' | 'cgroup' | 'mounts' | 'env' | 'interfaces' | 'devices' | 'time'>;

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
    interfaces: interfaces(),
    devices: devices(),
    time: { offsets: read('/proc/self/timens_offsets'), monotonic: Number(process.hrtime.bigint()) / 1e9, boottime: uptimeSeconds() },
  };
}
