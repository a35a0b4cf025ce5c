// Whether an invariant says anything about one fixed profile (`nsrig check --config`): the
// profile must already be what the invariant's `generate` asks generated profiles to be. Read
// from the same data, so a new invariant needs no second description of what it needs.
import path from 'node:path';
import type { Profile } from '../policy/profile/types.js';
import type { Invariant } from './invariant.js';
import type { GenerationOptions } from './generators/profile-document.js';
import { ARGUMENT_FILTERED_CALL } from './generators/seccomp-policy.js';
import { FLAGGED_TMPFS } from './generators/mount-set.js';
import { HOST_HARMLESS_SYSCTLS } from './generators/sysctl.js';
import { kernelCapabilities } from './generators/capability-set.js';
import { deniedCalls } from './invariants/seccomp/denied-syscalls.js';
import { fixtureDestination, type HostFacts } from './host-facts.js';

/** Options that describe a target's limits, not what an invariant needs from a profile. */
type TargetLimitOption = 'excludeNamespaces' | 'excludeFields' | 'undeniableSyscalls' | 'setgroups';
type Requirement = Exclude<keyof GenerationOptions, TargetLimitOption>;

/**
 * For each requirement a generated profile may be given, why a fixed profile falls short of it
 * (undefined when it meets it). Typed over every option, so adding one to GenerationOptions
 * without saying here what it means for a fixed profile does not compile.
 */
const SHORT_OF: Record<Requirement, (profile: Profile, host: Pick<HostFacts, 'fixtureDir' | 'userNamespaceFiles'>, generate: GenerationOptions) => string | undefined> = {
  requireNamespaces: () => undefined, // needs the list itself; see namespacesMissing
  names: (p) => (!p.namespaces.includes('uts') ? 'it declares no UTS namespace'
    : p.hostname === undefined ? 'it declares a UTS namespace but no hostname' : undefined),
  rwBind: (p, host) => (fixtureDestination(p, host) ? undefined
    : "it needs a read-write bind of the harness's own fixture directory (made for each run), which only generated profiles declare"),
  rwBindPropagation: () => undefined, // rwBind says why a fixed config falls short
  mountCapability: (p) => (p.process.capabilities.effective.includes('CAP_SYS_ADMIN') ? undefined : 'its process does not hold CAP_SYS_ADMIN, which the probe\'s mounts need'),
  recursiveReadonlyBind: (p, host) => (p.mounts.some((m) => m.type === 'bind' && m.readonly && m.recursive && path.resolve(m.source) === path.dirname(path.resolve(host.fixtureDir)))
    ? undefined : "it needs a recursive read-only bind of the directory holding the harness's own fixture directory (made for each run), which only generated profiles declare"),
  root: (p) => (p.process.uid === 0 && p.process.gid === 0 ? undefined : `its process runs as ${p.process.uid}:${p.process.gid}, not as the namespace root 0:0`),
  seccomp: (p) => (!p.seccomp ? 'it declares no seccomp policy'
    : deniedCalls(p).length === 0 ? 'its seccomp policy denies, unconditionally with SCMP_ACT_ERRNO, none of the calls the probe may make harmlessly' : undefined),
  seccompArgumentFilter: (p) => (hasArgumentRule(p) ? undefined
    : `its seccomp policy has no rule denying ${ARGUMENT_FILTERED_CALL} for one argument value`),
  // seccomp.actions-as-declared says why through its own appliesTo.
  seccompActions: (p) => (p.seccomp ? undefined : 'it declares no seccomp policy'),
  timeOffsets: (p) => (p.timeOffsets ? undefined : 'it declares no time offsets'),
  joinNamespaces: (p) => (Object.keys(p.namespacePaths ?? {}).length > 0 ? undefined : 'it declares no namespace to join by path'),
  pidsLimit: (p) => {
    const limit = p.resources?.pids?.limit;
    if (limit === undefined) return 'it declares no pids limit';
    if (limit > MOST_PROCESSES_STARTED) {
      return `its pids limit ${limit} is above ${MOST_PROCESSES_STARTED}: reaching it would start that many processes on this host`;
    }
    return hasCgroupMount(p) ? undefined : 'it mounts no cgroup filesystem at /sys/fs/cgroup, where the probe reads pids.max';
  },
  memoryLimit: (p) => {
    const m = p.resources?.memory;
    if (m?.limit === undefined || m.limit <= 0) return 'it declares no memory limit';
    if (m.limit > MOST_BYTES_ALLOCATED) return `its memory limit ${m.limit} is above ${MOST_BYTES_ALLOCATED} bytes: passing it would take that much of this host's memory`;
    if (m.swap !== m.limit) return 'its memory+swap limit is not the memory limit, so passing the limit may swap rather than OOM-kill';
    return hasCgroupMount(p) ? undefined : 'it mounts no cgroup filesystem at /sys/fs/cgroup, where the probe reads the limit';
  },
  cpuResources: (p) => (p.resources?.cpu === undefined ? 'it declares no cpu resources'
    : hasCgroupMount(p) ? undefined : 'it mounts no cgroup filesystem at /sys/fs/cgroup, where the probe reads them'),
  blockIOWeight: (p) => (p.resources?.blockIO?.weight === undefined ? 'it declares no blockIO weight'
    : hasCgroupMount(p) ? undefined : 'it mounts no cgroup filesystem at /sys/fs/cgroup, where the probe reads it'),
  flaggedTmpfs: (p) => (p.mounts.some((m) => m.type === 'tmpfs' && !m.readonly && m.destination === FLAGGED_TMPFS) ? undefined
    : `it mounts no writable tmpfs at ${FLAGGED_TMPFS}, where the probe copies a program to run`),
  // Whatever rlimits, umask and cwd a fixed profile declares (none included) are what it must start with.
  processLimits: () => undefined,
  sysctl: (p) => (p.sysctl && Object.keys(p.sysctl).length > 0 ? undefined : 'it declares no kernel parameters'),
  hostHarmlessSysctl: (p) => {
    const keys = Object.keys(p.sysctl ?? {});
    if (keys.length === 0) return 'it declares no kernel parameters';
    const other = keys.filter((k) => !HOST_HARMLESS_SYSCTLS.includes(k));
    return other.length === 0 ? undefined
      : `it declares ${other.join(', ')}, which a target that fails to refuse it would write into the host's namespace (only ${HOST_HARMLESS_SYSCTLS.join(', ')} are tried)`;
  },
  cgroupMount: (p) => (hasCgroupMount(p) ? undefined : 'it mounts no cgroup filesystem at /sys/fs/cgroup'),
  // A process without them is a weaker attacker of the same property, not another property.
  withCapabilities: () => undefined,
  maskPathsWithContent: (p) => (p.maskedPaths.length > 0 ? undefined : 'it masks no paths'),
  userNamespace: (p, _host, g) => (g.userNamespace === 'absent' && p.namespaces.includes('user')
    ? 'it declares a user namespace, in which the kernel refuses to make the device node the probe would try' : undefined),
  hostRootCapabilities: (p, _host, g) => {
    const missing = p.namespaces.includes('user') ? [] : (g.hostRootCapabilities ?? []).filter((c) => !p.process.capabilities.effective.includes(c));
    return missing.length ? `its process does not hold ${missing.join(', ')}` : undefined;
  },
  flaggedTmpfsExec: (p) => (p.mounts.some((m) => m.destination === FLAGGED_TMPFS && m.options.includes('noexec'))
    ? `its tmpfs at ${FLAGGED_TMPFS} is noexec, so the probe cannot run the program it copies there` : undefined),
  userNamespaceFiles: (p, host) => {
    const files = host.userNamespaceFiles;
    if ('unavailable' in files) return files.unavailable;
    return p.mounts.some((m) => m.type === 'bind' && m.recursive && path.resolve(m.source) === path.dirname(path.resolve(files.dir)))
      ? undefined : "it needs a recursive bind of the directory holding the harness's own user namespace files (made for each run), which only generated profiles declare";
  },
  allCapabilities: (p) => {
    const missing = !p.namespaces.includes('user') ? [] : kernelCapabilities().filter((c) => !p.process.capabilities.effective.includes(c));
    return missing.length ? `its process does not hold every capability in its user namespace (${missing.length} missing, ${missing.slice(0, 3).join(', ')}...)` : undefined;
  },
  ownUserMappings: (p) => (p.namespacePaths?.user !== undefined
    ? 'it joins a user namespace, whose mappings and setgroups are its creator\'s, not the ones the config declares' : undefined),
  setuidTrial: (p) => (p.process.noNewPrivileges ? 'it sets no_new_privs, under which no set-user-ID program raises privilege whatever the mount says'
    : ['CAP_SETUID', 'CAP_SETGID'].every((c) => p.process.capabilities.effective.includes(c)) ? undefined
      : 'its process does not hold CAP_SETUID and CAP_SETGID, needed to run the set-user-ID copy as another uid'),
};

/**
 * resources.pids-limit-holds starts processes until the limit refuses one: generated limits stay
 * below 40 (generators/pids-limit.ts); a real config's 2048 would be that many on a shared host.
 */
const MOST_PROCESSES_STARTED = 64;

/** resources.memory-limit-oom-kills allocates past the limit: a real config's gigabytes would be taken from a shared host. */
const MOST_BYTES_ALLOCATED = 256 * 1024 * 1024;

function hasCgroupMount(profile: Profile): boolean {
  return profile.mounts.some((m) => (m.type === 'cgroup' || m.type === 'cgroup2') && m.destination === '/sys/fs/cgroup');
}

function namespacesMissing(needed: readonly string[], profile: Profile): string | undefined {
  const missing = needed.filter((ns) => !profile.namespaces.includes(ns as never));
  return missing.length ? `it declares no ${missing.join(', ')} namespace${missing.length > 1 ? 's' : ''}` : undefined;
}

function hasArgumentRule(profile: Profile): boolean {
  const rules = (profile.seccomp?.policy as { syscalls?: { names?: unknown; args?: unknown }[] } | undefined)?.syscalls ?? [];
  return rules.some((r) => Array.isArray(r.names) && r.names.includes(ARGUMENT_FILTERED_CALL) && Array.isArray(r.args) && r.args.length === 1);
}

/** Why the invariant does not apply to this fixed profile as declared, or undefined when it does. */
export function notApplicable(invariant: Invariant, profile: Profile, host: Pick<HostFacts, 'fixtureDir' | 'userNamespaceFiles'>): string | undefined {
  if (invariant.appliesTo) return invariant.appliesTo(profile);
  const generate = invariant.generate ?? {};
  const reasons: string[] = [];
  const ns = namespacesMissing(generate.requireNamespaces ?? [], profile);
  if (ns) reasons.push(ns);
  for (const key of Object.keys(SHORT_OF) as Requirement[]) {
    if (key === 'requireNamespaces' || !generate[key]) continue;
    const why = SHORT_OF[key](profile, host, generate);
    if (why) reasons.push(why);
  }
  return reasons.length ? `not applicable to this config: ${reasons.join('; ')}` : undefined;
}
