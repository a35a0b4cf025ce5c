// One Results schema feeds every output: terminal, JSON, JUnit and HTML.
import type { TargetInfo } from './target.js';

/** RFC 2119, as the invariant's cited text says (see harness/invariants/references.ts). */
export type InvariantLevel = 'MUST' | 'SHOULD' | 'MAY';
/** "error" is a target that could not run the case (a runtime refused the config), not a violation. */
export type InvariantStatus = 'pass' | 'fail' | 'skip' | 'error';

export interface Reference {
  /** "pid_namespaces(7)", "OCI runtime-spec config-linux.md#namespaces", "CVE-2024-21626". */
  label: string;
  url: string;
  /** The cited text's own sentence the invariant rests on (absent in results written before quotes). */
  quote?: string;
}

export interface Counterexample {
  /** The shrunk profile, as JSON-able data (the profile file a person can run with nsrig run). */
  profile: unknown;
  expected: string;
  observed: string;
  /** fast-check's counterexample path, for replay. */
  path: string;
  /** How many shrink steps fast-check took. */
  shrinks: number;
}

export interface SyscallCount {
  name: string;
  count: number;
  errors: number;
}

export interface SyscallProfile {
  /** Which case the trace belongs to, e.g. "seccomp.denied-errno#3". */
  caseId: string;
  syscalls: SyscallCount[];
  /** Syscalls the case made that its policy does not allow. */
  violations: { name: string; count: number }[];
}

/** The recorded upstream defect of the target's runtime version that explains a failure (harness/known-defects.json). */
export interface KnownDefectNote {
  /** "opencontainers/runc#3911". */
  reference: string;
  url: string;
  /** The first release without the defect; absent while no release fixes it. */
  fixedIn?: string;
  summary: string;
}

/** "fixed in 1.1.8", or that no release is fixed yet: how every output names the fixing release. */
export function fixedInWords(fixedIn: string | undefined): string {
  return fixedIn === undefined ? 'not fixed in any release yet' : `fixed in ${fixedIn}`;
}

export interface InvariantResult {
  id: string;
  area: string;
  level: InvariantLevel;
  /** The property in one sentence. */
  title: string;
  reference: Reference;
  status: InvariantStatus;
  /** Why it was skipped, or the target error's message. */
  reason?: string;
  /** Generated cases that ran (0 when skipped). */
  cases: number;
  durationMs: number;
  counterexample?: Counterexample;
  /** One command that replays the failure. */
  replay?: string;
  /** A failure that matches a known defect of this runtime version: still a failure, now explained. */
  knownDefect?: KnownDefectNote;
  /** Which target produced it, when results of several targets are merged. */
  target?: string;
}

export interface HostInfo {
  kernel: string;
  distribution: string;
  arch: string;
  cgroupMode: 'v1' | 'v2' | 'hybrid' | 'unknown';
  node: string;
}

/** The file a security team brought, and the exact bytes checked. */
export interface CheckedConfigName {
  /** Absolute path as given. */
  file: string;
  /** sha256 of its bytes, hex. */
  sha256: string;
}

export interface Results {
  tool: { name: 'nsrig'; version: string };
  target: TargetInfo;
  seed: number;
  runs: number;
  startedAt: string;
  durationMs: number;
  host: HostInfo;
  shard?: { index: number; count: number };
  /** The user's config every case ran (nsrig check --config), instead of generated profiles. */
  config?: CheckedConfigName;
  invariants: InvariantResult[];
  summary: { passed: number; failed: number; skipped: number; errors: number };
  syscallProfiles?: SyscallProfile[];
  /** What the target could not carry out, so generated profiles avoided it. */
  targetLimits?: string[];
}
