// The OCI / Docker seccomp profile exactly as it is written on disk (runtime-spec config-linux.md
// "Seccomp", moby's profiles/seccomp types, and containers/common's extra `errno` names). A policy
// is parsed into this shape and can be written back unchanged: nothing is renamed or defaulted here.
// Defaults and includes/excludes are applied later by resolvePolicy().

export const ACTION_NAMES = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export const OPERATOR_NAMES = [
  'SCMP_CMP_NE',
  'SCMP_CMP_LT',
  'SCMP_CMP_LE',
  'SCMP_CMP_EQ',
  'SCMP_CMP_GE',
  'SCMP_CMP_GT',
  'SCMP_CMP_MASKED_EQ',
] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

/** libseccomp's architecture tokens, as OCI profiles spell them. */
export const ARCH_NAMES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL',
  'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64',
  'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K',
  'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
] as const;
export type ArchName = (typeof ARCH_NAMES)[number];

/** seccomp(2) filter flags an OCI profile may request, with their kernel values. */
export const FILTER_FLAGS = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
} as const;
export type FilterFlagName = keyof typeof FILTER_FLAGS;

/**
 * A 64-bit argument value. JSON numbers above 2^53 lose precision, so loadPolicyFile() hands such
 * values over as bigint; everything else is a plain number.
 */
export type ArgValue = number | bigint;

export interface SeccompArg {
  index: number;
  value: ArgValue;
  /** Only SCMP_CMP_MASKED_EQ reads it: (arg & value) == valueTwo. */
  valueTwo?: ArgValue;
  op: OperatorName;
}

/** Conditions on the container that decide whether a rule is kept (moby's Filter). */
export interface SeccompFilter {
  /** Capability names (CAP_SYS_ADMIN, ...). */
  caps?: string[];
  /** Go architecture names as moby compares them: amd64, x86, x32, arm64, ... */
  arches?: string[];
  /** "<kernel>.<major>", e.g. "4.8". */
  minKernel?: string;
}

export interface SeccompSyscall {
  names?: string[];
  /** moby's deprecated single-name form; read as if it were names: [name]. */
  name?: string;
  action: ActionName;
  errnoRet?: number;
  /** containers/common writes the errno's name beside errnoRet ("EPERM"). */
  errno?: string;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

export interface SeccompArchMap {
  architecture: ArchName;
  subArchitectures: ArchName[] | null;
}

export interface SeccompPolicy {
  defaultAction: ActionName;
  defaultErrnoRet?: number;
  /** containers/common: the errno name of defaultErrnoRet ("ENOSYS"). */
  defaultErrno?: string;
  architectures?: ArchName[];
  archMap?: SeccompArchMap[];
  syscalls?: SeccompSyscall[];
  flags?: FilterFlagName[];
  listenerPath?: string;
  listenerMetadata?: string;
}

/** What the container looks like to the policy: decides includes/excludes. */
export interface PolicyContext {
  /** Native architecture: 'x86_64' (moby's Go name 'amd64' is accepted too). */
  arch: string;
  /** Capabilities of the container's bounding set (moby reads the bounding set). */
  capabilities: string[];
  /** Kernel release, "6.18" or a full uname release such as "6.18.44-generic". */
  kernel: string;
}
