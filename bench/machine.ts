// What a result was measured on: the numbers mean little without the machine, the kernel, the
// versions of every tool compared and how busy the host was.
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { TOOL_VERSION } from '../harness/tool-version.js';

export interface Machine {
  date: string;
  hostname: string;
  cpu: string;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  os: string;
  node: string;
  nsrig: string;
  /** First line of each tool's version output; "missing" when it is not installed. */
  tools: Record<string, string>;
  /** 1, 5 and 15 minute load averages when the run started: other work on the host skews timings. */
  loadAverage: number[];
}

const VERSION_COMMANDS: Record<string, string[]> = {
  hyperfine: ['hyperfine', '--version'],
  bwrap: ['bwrap', '--version'],
  crun: ['crun', '--version'],
  runc: ['runc', '--version'],
  strace: ['strace', '-V'],
  unshare: ['unshare', '--version'],
};

export function toolVersion(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.error) return 'missing';
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

export function describeMachine(): Machine {
  return {
    date: new Date().toISOString(),
    hostname: os.hostname(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: osName(),
    node: process.version,
    nsrig: TOOL_VERSION,
    tools: Object.fromEntries(Object.entries(VERSION_COMMANDS).map(([name, argv]) => [name, toolVersion(argv)])),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** One line for the top of a printed table. */
export function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cpus} CPUs, ${m.memoryGiB} GiB; ${m.os}; Linux ${m.kernel}; Node ${m.node}; load ${m.loadAverage.join(' ')}`;
}
