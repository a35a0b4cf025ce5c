// Which runtime-spec version a runtime says it implements, and which profile fields are newer
// than that. The spec tells runtimes to ignore properties they do not know (config.md
// "Extensibility"), so a runtime of spec 1.0.x that ignores `domainname` follows its spec: the
// field is a limit of the target, listed in the results, not a violated invariant. A claim alone
// excuses nothing: each newer field is tried on the runtime, and only one it really ignores is a
// limit (crun 1.8 claims 1.0.0 yet sets domainname, so crun is still held to it).
import type { OptionalProfileField } from '../../target.js';

export interface SpecVersionClaim {
  version: string;
  /** Where the version was read, in words a reader can check: "runc features, ociVersionMax". */
  source: string;
}

/** One container that shows whether the runtime applies a field: its output is compared. */
export interface FieldTrial {
  /** A profile document (our format) that sets the field. */
  document: Record<string, unknown>;
  /** What the program prints when the field is applied. */
  expected: string;
}

export interface NewerField {
  field: OptionalProfileField;
  since: string;
  /** The runtime-spec change that added it. */
  change: string;
  trial: FieldTrial;
}

const TRIAL_BASE = { name: 'field-trial', user: { setgroups: 'allow' }, process: { timeout: 10 } };

/** Profile fields the runtime-spec gained after 1.0 (runtime-spec ChangeLog, v1.1.0). */
export const NEWER_FIELDS: readonly NewerField[] = [
  {
    field: 'domainname', since: '1.1.0', change: 'domainname (opencontainers/runtime-spec#1156)',
    trial: {
      document: {
        ...TRIAL_BASE, namespaces: ['user', 'pid', 'mnt', 'uts'], hostname: 'field-trial', domainname: 'field-trial.nsrig',
        process: { ...TRIAL_BASE.process, args: ['/bin/cat', '/proc/sys/kernel/domainname'] },
      },
      expected: 'field-trial.nsrig',
    },
  },
  {
    field: 'timeOffsets', since: '1.1.0', change: 'linux.timeOffsets (opencontainers/runtime-spec#1151)',
    trial: {
      document: {
        ...TRIAL_BASE, namespaces: ['user', 'pid', 'mnt', 'time'], timeOffsets: { monotonic: 4242, boottime: 2424 },
        process: { ...TRIAL_BASE.process, args: ['/bin/cat', '/proc/self/timens_offsets'] },
      },
      expected: 'monotonic 4242 0\nboottime 2424 0',
    },
  },
];

/** `RUNTIME features` prints the spec's features document (runc 1.1 and later; crun 1.8 has no such command). */
export function specVersionFromFeatures(stdout: string): string | undefined {
  try {
    const doc = JSON.parse(stdout) as { ociVersionMax?: unknown };
    return typeof doc.ociVersionMax === 'string' ? doc.ociVersionMax : undefined;
  } catch {
    return undefined;
  }
}

/** runc and crun both print a line "spec: 1.0.2-dev" in their --version output. */
export function specVersionFromVersionOutput(stdout: string): string | undefined {
  return /^spec:\s*v?(\d+\.\d+\.\d+\S*)\s*$/m.exec(stdout)?.[1];
}

/** Compares major.minor.patch numerically; a pre-release suffix counts as its release. */
export function versionBefore(version: string, than: string): boolean {
  const parts = (v: string) => (/^(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
  const [a, b] = [parts(version), parts(than)];
  if (a.length < 3 || b.length < 3) return false;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The fields a runtime claiming this version may ignore: only these are tried. */
export function fieldsNewerThan(claim: SpecVersionClaim): NewerField[] {
  return NEWER_FIELDS.filter((f) => versionBefore(claim.version, f.since));
}

/** The limit a report shows for a newer field the runtime was seen to ignore. */
export function ignoredFieldReason(runtime: string, claim: SpecVersionClaim, field: NewerField, seen: string): string {
  return `${runtime} implements runtime-spec ${claim.version} (${claim.source}) and ignores ${field.change}, ` +
    `which came with ${field.since}: a container given it printed ${JSON.stringify(seen)}, not ${JSON.stringify(field.trial.expected)} ` +
    '(a runtime ignores properties it does not know, config.md "Extensibility")';
}
