// The cgroup v2 device filter: an OCI linux.resources.devices allow-list as a
// BPF_PROG_TYPE_CGROUP_DEVICE program. cgroup v2 has no devices.allow file; the kernel asks the
// program for every open, mknod and access of a device node by a task in the cgroup.
//
// Semantics, as runc applies a list: the last rule that matches decides; a rule matches when its
// type is "a" or the node's, its major and minor are wildcards (-1 or absent) or equal, and every
// access asked for is among the rule's. Nothing matching means deny.
import { Assembler } from './assembler.js';
import type { Instruction } from './isa.js';

export interface DeviceRule {
  allow: boolean;
  /** "a" any, "c" character, "b" block. */
  type: 'a' | 'c' | 'b';
  /** -1 or absent: any. */
  major?: number;
  minor?: number;
  /** Some of "rwm" (read, write, mknod); absent: all three. */
  access?: string;
}

export interface DeviceRequest {
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** Some of "rwm". */
  access: string;
}

/** struct bpf_cgroup_dev_ctx: access_type (type in the low 16 bits, access in the high), major, minor. */
const CTX = { accessType: 0, major: 4, minor: 8 } as const;
const DEV_TYPE = { b: 1, c: 2 } as const;
const ACCESS_BITS: Readonly<Record<string, number>> = { m: 1, r: 2, w: 4 };

export class DeviceRuleError extends Error {
  constructor(readonly index: number, message: string) {
    super(`devices[${index}]: ${message}`);
    this.name = 'DeviceRuleError';
  }
}

function accessMask(access: string | undefined, index: number): number {
  let mask = 0;
  for (const ch of access ?? 'rwm') {
    const bit = ACCESS_BITS[ch];
    if (bit === undefined) throw new DeviceRuleError(index, `access ${JSON.stringify(access)} has ${JSON.stringify(ch)}; expected letters of "rwm"`);
    mask |= bit;
  }
  return mask;
}

function wildcard(n: number | undefined): boolean {
  return n === undefined || n === -1;
}

function checkRule(rule: DeviceRule, index: number): void {
  if (!['a', 'c', 'b'].includes(rule.type)) throw new DeviceRuleError(index, `type ${JSON.stringify(rule.type)}; expected "a", "c" or "b"`);
  for (const [field, n] of [['major', rule.major], ['minor', rule.minor]] as const) {
    if (!wildcard(n) && (!Number.isInteger(n) || n! < 0 || n! > 0xffffffff)) throw new DeviceRuleError(index, `${field} ${n}; expected -1 (any) or 0..4294967295`);
  }
  accessMask(rule.access, index);
}

/** What the rules decide for one request: the reference the program is tested against. */
export function deviceAllowed(rules: readonly DeviceRule[], request: DeviceRequest): boolean {
  const asked = accessMask(request.access, -1);
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    if (r.type !== 'a' && r.type !== request.type) continue;
    if (!wildcard(r.major) && r.major !== request.major) continue;
    if (!wildcard(r.minor) && r.minor !== request.minor) continue;
    if ((asked & ~accessMask(r.access, i)) !== 0) continue;
    return r.allow;
  }
  return false;
}

/**
 * The program: r2 type, r3 access, r4 major, r5 minor, then one block per rule, last rule first,
 * each falling through to the next block when a field does not match.
 */
export function deviceProgram(rules: readonly DeviceRule[]): Instruction[] {
  rules.forEach(checkRule);
  const a = new Assembler();
  a.ldx('W', 'r2', 'r1', CTX.accessType);
  a.mov64('r3', 'r2');
  a.alu32('rsh', 'r3', 16);
  a.alu32('and', 'r2', 0xffff);
  a.ldx('W', 'r4', 'r1', CTX.major);
  a.ldx('W', 'r5', 'r1', CTX.minor);
  for (let i = rules.length - 1; i >= 0; i--) {
    const r = rules[i]!;
    const next = a.label(`rule_${i - 1}`);
    if (r.type !== 'a') a.jump32('jne', 'r2', DEV_TYPE[r.type], next);
    const mask = accessMask(r.access, i);
    if (mask !== 7) {
      // Any access asked for outside the rule's: not this rule.
      a.mov64('r1', 'r3');
      a.alu32('and', 'r1', ~mask & 7);
      a.jump32('jne', 'r1', 0, next);
    }
    if (!wildcard(r.major)) a.jump32('jne', 'r4', r.major!, next);
    if (!wildcard(r.minor)) a.jump32('jne', 'r5', r.minor!, next);
    a.mov64('r0', r.allow ? 1 : 0);
    a.exit();
    // A rule that matches everything decides everything: the verifier refuses code after it.
    if (r.type === 'a' && mask === 7 && wildcard(r.major) && wildcard(r.minor)) return a.assemble();
    a.place(next);
  }
  a.mov64('r0', 0);
  a.exit();
  return a.assemble();
}
