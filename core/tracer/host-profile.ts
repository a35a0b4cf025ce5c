// The profile for tracing a command on the host, as strace would run it: no new namespaces (the
// engine then leaves mounts, hostname and network alone), nsrig's own ids, groups, capabilities,
// working directory and environment.
import fs from 'node:fs';
import type { Capabilities, Profile } from '../../policy/profile/types.js';
import { CAPABILITY_NAMES } from '../../policy/kernel/capabilities.js';
import { KernelAnswerError } from '../native/syscall-error.js';

/** setTimeout's largest delay: in effect, no time limit. */
export const NO_TIME_LIMIT_MS = 2 ** 31 - 1;

function capabilityNames(mask: bigint): string[] {
  return CAPABILITY_NAMES.filter((_, n) => (mask >> BigInt(n)) & 1n);
}

/** The capability sets of this process, from /proc/self/status. */
export function currentCapabilities(): Capabilities {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const mask = (field: string): bigint => {
    const m = new RegExp(`^${field}:\\s+([0-9a-f]+)$`, 'm').exec(status);
    if (!m) throw new KernelAnswerError(`/proc/self/status has no ${field} line`);
    return BigInt(`0x${m[1]}`);
  };
  return {
    bounding: capabilityNames(mask('CapBnd')),
    effective: capabilityNames(mask('CapEff')),
    permitted: capabilityNames(mask('CapPrm')),
    inheritable: capabilityNames(mask('CapInh')),
    ambient: capabilityNames(mask('CapAmb')),
  };
}

export interface HostCommandOptions {
  cwd?: string;
  /** The whole environment of the command; nsrig's own when absent. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function hostProfile(args: string[], opts: HostCommandOptions = {}): Profile {
  const capabilities = currentCapabilities();
  const env = opts.env ?? Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return {
    source: '<host>',
    name: 'host',
    namespaces: [],
    user: { uidMappings: [], gidMappings: [], setgroups: 'allow' },
    rootfs: { path: '/', readonly: false, propagation: 'private' },
    mounts: [],
    maskedPaths: [],
    readonlyPaths: [],
    network: { loopback: false },
    process: {
      args,
      env,
      cwd: opts.cwd ?? process.cwd(),
      uid: process.getuid!(),
      gid: process.getgid!(),
      additionalGids: process.getgroups!(),
      capabilities,
      // Left off when it can be: no_new_privs changes what setuid programs do. Without
      // CAP_SYS_ADMIN the kernel accepts the tracer's seccomp filter only with it.
      noNewPrivileges: !capabilities.effective.includes('CAP_SYS_ADMIN'),
      rlimits: [],
      timeoutMs: opts.timeoutMs ?? NO_TIME_LIMIT_MS,
    },
  };
}
