// /proc/PID/mountinfo lines as records (proc(5)). One parser for the engine, the probe and the
// harness, so mount points are unescaped the same way wherever two views are compared.
import fs from 'node:fs';

export interface MountinfoEntry {
  id: number;
  parent: number;
  root: string;
  mountPoint: string;
  options: string[];
  optional: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

export function parseMountinfo(text: string): MountinfoEntry[] {
  return text.split('\n').filter(Boolean).map((line) => {
    const [left, right] = line.split(' - ');
    const f = left!.split(' ');
    const r = right!.split(' ');
    const unescape = (p: string) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    return {
      id: Number(f[0]),
      parent: Number(f[1]),
      root: unescape(f[3]!),
      mountPoint: unescape(f[4]!),
      options: f[5]!.split(','),
      optional: f.slice(6),
      fsType: r[0]!,
      source: r[1]!,
      superOptions: (r[2] ?? '').split(','),
    };
  });
}

/** A process's mounts as records: this process's unless a pid is given. */
export function readMountinfo(pid: number | 'self' = 'self'): MountinfoEntry[] {
  return parseMountinfo(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
}
