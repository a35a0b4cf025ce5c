// A profile applied to one container: includes/excludes decided the way moby decides them,
// defaults filled in, argument values made exact, and the architectures fixed. Everything after
// this (compiler, trace check, semantics) reads only the ResolvedPolicy.
import { actionFromName, EPERM, type Action } from './actions.js';
import { PolicyError } from './policy-error.js';
import { FILTER_FLAGS, type ArchName, type OperatorName, type PolicyContext, type SeccompArg, type SeccompPolicy, type SeccompSyscall } from './types.js';
import { errnoNumber } from '../kernel/errno.js';

export interface ResolvedCondition {
  index: number;
  op: OperatorName;
  /** For SCMP_CMP_MASKED_EQ this is the mask. */
  value: bigint;
  /** For SCMP_CMP_MASKED_EQ this is the value the masked argument must equal; 0 otherwise. */
  valueTwo: bigint;
}

export interface ResolvedRule {
  names: string[];
  action: Action;
  /** All must hold (an empty list always holds). */
  conditions: ResolvedCondition[];
  /** Index of the profile's syscalls[] entry this rule came from. */
  source: number;
}

export interface ResolvedPolicy {
  defaultAction: Action;
  /** Native architecture first, then the others the profile lists, without repeats. */
  architectures: ArchName[];
  rules: ResolvedRule[];
  /** seccomp(2) flags: the OR of the profile's flags. */
  flags: number;
}

/** uname machine names and Go's names for the same architecture; moby compares Go's. */
const GO_ARCH: Readonly<Record<string, string>> = {
  x86_64: 'amd64', amd64: 'amd64', i386: '386', i686: '386', '386': '386', aarch64: 'arm64', arm64: 'arm64',
  s390x: 's390x', ppc64le: 'ppc64le', riscv64: 'riscv64', loongarch64: 'loong64', x32: 'x32',
};
const SECCOMP_ARCH: Readonly<Record<string, ArchName>> = {
  amd64: 'SCMP_ARCH_X86_64', '386': 'SCMP_ARCH_X86', arm64: 'SCMP_ARCH_AARCH64', s390x: 'SCMP_ARCH_S390X',
  ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', loong64: 'SCMP_ARCH_LOONGARCH64', x32: 'SCMP_ARCH_X32',
};

interface KernelVersion {
  kernel: number;
  major: number;
}

/** moby reads only "<kernel>.<major>" from a release: 6.18.44-generic and 6.18 are equal. */
function parseKernel(text: string, file: string, path: string): KernelVersion {
  const m = /^(\d+)\.(\d+)/.exec(text);
  if (m === null) throw new PolicyError(file, path, 'a kernel release such as "6.18"', text);
  return { kernel: Number(m[1]), major: Number(m[2]) };
}

function atLeast(running: KernelVersion, min: KernelVersion): boolean {
  return running.kernel > min.kernel || (running.kernel === min.kernel && running.major >= min.major);
}

/**
 * Decides which rules apply to a container described by `ctx`, exactly as moby's setupSeccomp
 * does: a rule is dropped when any exclude matches (its arch is listed, any listed capability is in
 * the container's set, or the kernel is at least minKernel), and kept only when every include
 * matches (its arch is listed, all listed capabilities are held, the kernel is at least minKernel).
 * Architectures come from `architectures`, or else from the archMap entry of the native arch.
 * A rule naming the same argument index twice is split into one rule per condition (runc's
 * behaviour: the conditions are then alternatives, not all required).
 */
export function resolvePolicy(policy: SeccompPolicy, ctx: PolicyContext, sourceName = 'policy'): ResolvedPolicy {
  const goArch = GO_ARCH[ctx.arch];
  const nativeArch = goArch === undefined ? undefined : SECCOMP_ARCH[goArch];
  if (goArch === undefined || nativeArch === undefined) {
    throw new PolicyError('context', 'arch', `one of ${Object.keys(GO_ARCH).join(', ')}`, ctx.arch);
  }
  const running = parseKernel(ctx.kernel, 'context', 'kernel');
  const caps = new Set(ctx.capabilities);

  const architectures: ArchName[] = [nativeArch];
  const add = (a: ArchName): void => {
    if (!architectures.includes(a)) architectures.push(a);
  };
  if (policy.architectures !== undefined) policy.architectures.forEach(add);
  const mapped = policy.archMap?.find((m) => m.architecture === nativeArch);
  if (mapped !== undefined) (mapped.subArchitectures ?? []).forEach(add);

  const defaultErrno = policy.defaultErrnoRet ?? (policy.defaultErrno === undefined ? undefined : errnoNumber(policy.defaultErrno));
  const rules: ResolvedRule[] = [];
  (policy.syscalls ?? []).forEach((call, source) => {
    const path = `syscalls[${source}]`;
    if (!applies(call, goArch, caps, running, sourceName, path)) return;
    const names = call.names !== undefined && call.names !== null && call.names.length > 0 ? call.names : [call.name ?? ''];
    const errnoRet = call.errnoRet ?? (call.errno === undefined ? undefined : errnoNumber(call.errno));
    const action = actionFromName(call.action, errnoRet);
    const conditions = (call.args ?? []).map(toCondition);
    const indexes = conditions.map((c) => c.index);
    const repeated = indexes.some((idx, i) => indexes.indexOf(idx) !== i);
    if (repeated) {
      for (const condition of conditions) rules.push({ names, action, conditions: [condition], source });
    } else {
      rules.push({ names, action, conditions, source });
    }
  });

  return {
    defaultAction: actionFromName(policy.defaultAction, defaultErrno ?? EPERM),
    architectures,
    rules,
    flags: (policy.flags ?? []).reduce((acc, f) => acc | FILTER_FLAGS[f], 0),
  };
}

function applies(call: SeccompSyscall, goArch: string, caps: Set<string>, running: KernelVersion, file: string, path: string): boolean {
  const ex = call.excludes ?? {};
  if ((ex.arches ?? []).includes(goArch)) return false;
  if ((ex.caps ?? []).some((c) => caps.has(c))) return false;
  if (ex.minKernel && atLeast(running, parseKernel(ex.minKernel, file, `${path}.excludes.minKernel`))) return false;
  const inc = call.includes ?? {};
  if ((inc.arches ?? []).length > 0 && !(inc.arches ?? []).includes(goArch)) return false;
  if (!(inc.caps ?? []).every((c) => caps.has(c))) return false;
  if (inc.minKernel && !atLeast(running, parseKernel(inc.minKernel, file, `${path}.includes.minKernel`))) return false;
  return true;
}

function toCondition(arg: SeccompArg): ResolvedCondition {
  return { index: arg.index, op: arg.op, value: BigInt(arg.value), valueTwo: BigInt(arg.valueTwo ?? 0) };
}
