// The device allow-list as a BPF_PROG_TYPE_CGROUP_DEVICE program, cgroup v2's stand-in for the v1
// devices controller. The ordered rules are first reduced the way the v1 controller reduces them
// (admin-guide/cgroup-v1/devices.rst): an "a" rule sets the default and clears the exceptions; any
// other rule adds its access to, or takes it from, the exception for its exact type:major:minor.
// The program then checks the request against those exceptions, so one allow-list means the same
// on both cgroup versions.
import { Assembler } from './assembler.js';
import type { Instruction } from './isa.js';
import type { DeviceRule } from '../profile/types.js';

/** bpf_cgroup_dev_ctx.access_type: device type in the low 16 bits, requested access in the high. */
const DEV_TYPE = { b: 1, c: 2 } as const;
const ACCESS_BIT = { m: 1, r: 2, w: 4 } as const;

export interface DeviceException {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  /** ACCESS_BIT bits. */
  access: number;
}

export interface ReducedAllowList {
  /** What a device no exception names gets. */
  defaultAllow: boolean;
  /** Devices that get the opposite of the default, for the access bits listed. */
  exceptions: DeviceException[];
}

function accessBits(access: string): number {
  return [...access].reduce((bits, c) => bits | ACCESS_BIT[c as keyof typeof ACCESS_BIT], 0);
}

/** The v1 controller's state after the rules, starting from "deny all" as runc starts every allow-list. */
export function reduceDeviceRules(rules: readonly DeviceRule[]): ReducedAllowList {
  let defaultAllow = false;
  let exceptions: DeviceException[] = [];
  for (const rule of rules) {
    if (rule.type === 'a') {
      defaultAllow = rule.allow;
      exceptions = [];
      continue;
    }
    const bits = accessBits(rule.access);
    const same = exceptions.find((e) => e.type === rule.type && e.major === rule.major && e.minor === rule.minor);
    // A rule agreeing with the default takes its access back from the exception; one against it adds to it.
    if (rule.allow === defaultAllow) {
      if (same !== undefined) same.access &= ~bits;
      exceptions = exceptions.filter((e) => e.access !== 0);
    } else if (same !== undefined) same.access |= bits;
    else exceptions.push({ type: rule.type, major: rule.major, minor: rule.minor, access: bits });
  }
  return { defaultAllow, exceptions };
}

/**
 * r1 points at bpf_cgroup_dev_ctx {u32 access_type; u32 major; u32 minor}; r0 = 1 allows, 0 denies.
 * With a deny default, a request is allowed when one exception matches the device and holds every
 * access bit asked for; with an allow default, denied when one matches and holds any of them.
 */
export function deviceProgram(rules: readonly DeviceRule[]): Instruction[] {
  const { defaultAllow, exceptions } = reduceDeviceRules(rules);
  const a = new Assembler();
  a.ldx('W', 'r2', 'r1', 0);
  a.mov64('r6', 'r2');
  a.alu64('and', 'r6', 0xffff); // r6: device type
  a.alu64('rsh', 'r2', 16); // r2: access asked for
  a.ldx('W', 'r3', 'r1', 4); // r3: major
  a.ldx('W', 'r4', 'r1', 8); // r4: minor
  for (const e of exceptions) {
    const next = a.label();
    if (e.type !== 'a') a.jump('jne', 'r6', DEV_TYPE[e.type], next);
    if (e.major !== -1) a.jump('jne', 'r3', e.major, next);
    if (e.minor !== -1) a.jump('jne', 'r4', e.minor, next);
    a.mov64('r0', 'r2');
    if (defaultAllow) {
      a.alu64('and', 'r0', e.access);
      a.jump('jeq', 'r0', 0, next);
      a.mov64('r0', 0);
    } else {
      a.alu64('and', 'r0', ~e.access & 7);
      a.jump('jne', 'r0', 0, next);
      a.mov64('r0', 1);
    }
    a.exit();
    a.place(next);
  }
  a.mov64('r0', defaultAllow ? 1 : 0);
  a.exit();
  return a.assemble();
}
