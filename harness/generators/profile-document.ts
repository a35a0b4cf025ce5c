// Whole profile documents (our YAML/JSON format), always valid: they go through the real loader,
// and a shrunk counterexample is a file a person can run with `nsrig run`.
import path from 'node:path';
import fc from 'fast-check';
import { DEFAULT_MASKED_PATHS, type NamespaceType } from '../../policy/profile/types.js';
import type { OptionalProfileField } from '../target.js';
import { namespaceSet } from './namespace-set.js';
import { HELD_USER_MAPPINGS, joinedNamespacePaths } from './namespace-paths.js';
import { hostname, domainname } from './hostname.js';
import { idMappings, mappedId } from './id-mappings.js';
import { mountSet } from './mount-set.js';
import { environment } from './environment.js';
import { capabilitySets, fixedCapabilities, kernelCapabilities, withCapabilities } from './capability-set.js';
import { actionPolicy, argumentFilterPolicy, denyingPolicy } from './seccomp-policy.js';
import { pidsLimit } from './pids-limit.js';
import { memoryLimit } from './memory-limit.js';
import { blockIOWeight, cpuResources } from './cpu-resources.js';
import { rlimits } from './rlimits.js';
import { hostHarmlessSysctl, sysctl } from './sysctl.js';
import { offsetRange, readHostClocks, type HostClocks } from '../../core/time-offsets.js';

export interface GenerationOptions {
  requireNamespaces?: NamespaceType[];
  /** Always set hostname and domainname (needs uts; domainname unless excluded). */
  names?: boolean;
  /** Bind the host fixture directory read-write at /mnt. */
  rwBind?: boolean;
  /** That bind declares a propagation option (mount-set.ts); needs rwBind. */
  rwBindPropagation?: boolean;
  /** The process keeps CAP_SYS_ADMIN (in its user namespace, or hostRootCapabilities without one), so the probe can mount. */
  mountCapability?: boolean;
  /**
   * Bind the directory holding the host fixture directory recursively read-only (rbind, ro, rro) at /srv
   * (mount-set.ts RECURSIVE_READONLY_BIND): the fixture directory is a mount point below it, and the
   * parent outlives the run, so a counterexample still names an existing source.
   */
  recursiveReadonlyBind?: boolean;
  /** The process runs as container root. */
  root?: boolean;
  /** Attach a seccomp policy (OCI JSON) that denies a few harmless calls. */
  seccomp?: boolean;
  /** Attach a seccomp policy whose one rule denies a call for one argument value only (seccomp-policy.ts). */
  seccompArgumentFilter?: boolean;
  /**
   * Attach a seccomp policy giving harmless calls one action each, KILL, TRAP, LOG or ERRNO
   * (seccomp-policy.ts actionPolicy), with noNewPrivileges: a runtime then installs the filter as its
   * last step, so no call of its own meets a kill.
   */
  seccompActions?: boolean;
  /** Calls the target cannot start a container without (from Target.constraints): never denied. */
  undeniableSyscalls?: string[];
  timeOffsets?: boolean;
  /** Declare a pids limit (resources.pids.limit); also mounts the cgroup filesystem, so the probe can read it. */
  pidsLimit?: boolean;
  /** Declare a memory limit with swap equal to it (memory-limit.ts); also mounts the cgroup filesystem. */
  memoryLimit?: boolean;
  /** Declare cpu shares, and maybe a CFS quota and period, cpus and mems (cpu-resources.ts); also mounts the cgroup filesystem. */
  cpuResources?: boolean;
  /** Declare a blockIO weight; also mounts the cgroup filesystem. */
  blockIOWeight?: boolean;
  /** A tmpfs at /opt with a generated subset of nosuid, nodev and noexec (mount-set.ts FLAGGED_TMPFS). */
  flaggedTmpfs?: boolean;
  /** Declare kernel parameters (sysctl.ts); the invariant requires the net and ipc namespaces they belong to. */
  sysctl?: boolean;
  /** Declare kernel parameters a broken target could write into the host's namespaces harmlessly (sysctl.ts HOST_HARMLESS_SYSCTLS). */
  hostHarmlessSysctl?: boolean;
  /** Declare rlimits (rlimits.ts) and a umask. */
  processLimits?: boolean;
  /** Mount the cgroup filesystem (type cgroup, read-only) at /sys/fs/cgroup. */
  cgroupMount?: boolean;
  /**
   * Generate profiles without a user namespace too ('optional') or only without one ('absent').
   * Without one the process is the host's root, so it keeps only `hostRootCapabilities`: only for
   * invariants whose probe changes nothing on the host.
   */
  userNamespace?: 'optional' | 'absent';
  /** The capabilities a process without a user namespace keeps (none when absent). */
  hostRootCapabilities?: string[];
  /** The tmpfs of flaggedTmpfs is never noexec. */
  flaggedTmpfsExec?: boolean;
  /** No no_new_privs, and CAP_SETUID and CAP_SETGID kept, so the probe can run a set-user-ID copy as another uid. */
  setuidTrial?: boolean;
  /**
   * The profile's uid and gid mappings and setgroups are its user namespace's: one it creates, never
   * one it joins (whose mappings are its creator's). Generated profiles meet it unless joinNamespaces.
   */
  ownUserMappings?: boolean;
  /** With a user namespace, the process also holds these capabilities (bounding, permitted, effective). */
  withCapabilities?: string[];
  /** Mask, besides the defaults, procfs files that always have content (see MASKABLE_WITH_CONTENT). */
  maskPathsWithContent?: boolean;
  /** Namespaces the target cannot create (from Target.constraints). */
  excludeNamespaces?: NamespaceType[];
  /** Fields the target does not implement (from Target.constraints): never generated. */
  excludeFields?: OptionalProfileField[];
  /** A setgroups value the target imposes (OCI config.json cannot say "deny"). */
  setgroups?: 'allow' | 'deny';
  /**
   * Bind the directory holding the harness's user namespace files (user-namespace-files.ts)
   * recursively read-only at USER_NAMESPACE_FILES (mount-set.ts), so the probe can open them: the
   * parent outlives the run, so a counterexample still names an existing source.
   */
  userNamespaceFiles?: boolean;
  /** In a user namespace, the process holds every capability the kernel has (bounding, permitted, effective). */
  allCapabilities?: boolean;
  /**
   * Join some of the declared namespaces at the run's namespace holder (GenerationContext.heldNamespaces)
   * instead of creating them; with a user namespace, always the holder's (generators/namespace-paths.ts).
   */
  joinNamespaces?: boolean;
}

export interface GenerationContext {
  fixtureDir: string;
  /** The directory of the harness's user namespace files; needed with userNamespaceFiles. */
  userNamespaceDir?: string;
  /** The host's clocks, which bound negative time offsets; read when the arbitrary is built if absent. */
  clocks?: HostClocks;
  /** The files of the run's namespace holder by type (HostFacts.namespaceHolder), for joinNamespaces. */
  heldNamespaces?: Partial<Record<NamespaceType, string>>;
}

export type ProfileDocument = Record<string, unknown>;

// Each default masked path may be absent or empty on a given host (/proc/keys reads 0 bytes until
// some key is viewable), so a target that ignores maskedPaths could pass by luck, and a
// counterexample built on /proc/keys may not replay. These files always have content, and
// neither the probe nor node reads them (the probe reads /proc/uptime, so it is not here).
const MASKABLE_WITH_CONTENT = ['/proc/version', '/proc/loadavg', '/proc/cmdline'];

/** The most negative monotonic offset generated on a host that has been up long enough. */
const MOST_NEGATIVE_OFFSET = 1000;
/**
 * Seconds kept between a generated offset and the lowest the clock takes: the clocks only move
 * on, but a counterexample may be replayed on a host booted a little more recently than this one.
 */
const OFFSET_MARGIN_SECONDS = 30;

/** How far below zero an offset for a clock reading `seconds` may go: never past what the kernel takes. */
export function negativeOffsetRoom(seconds: number): number {
  return Math.min(MOST_NEGATIVE_OFFSET, Math.max(0, -offsetRange(seconds).lowest - OFFSET_MARGIN_SECONDS));
}

function userNamespaceDirOf(ctx: GenerationContext): string {
  if (ctx.userNamespaceDir === undefined) throw new Error('userNamespaceFiles needs the directory of the user namespace files in the generation context');
  return ctx.userNamespaceDir;
}

/** Whether the mappings give the namespace an id besides 0, for a process that is not root. */
function mapsBeyondRoot(mappings: { size: number }[]): boolean {
  return mappings.reduce((n, m) => n + m.size, 0) > 1;
}

export function profileDocument(options: GenerationOptions, ctx: GenerationContext): fc.Arbitrary<ProfileDocument> {
  const required = [...(options.requireNamespaces ?? []), ...(options.names ? ['uts' as const] : []), ...(options.timeOffsets ? ['time' as const] : [])];
  const allowed = (field: OptionalProfileField) => !(options.excludeFields ?? []).includes(field);
  const clocks = ctx.clocks ?? readHostClocks();
  const userChoice = options.userNamespace === 'absent' ? fc.constant(false) : options.userNamespace === 'optional' ? fc.boolean() : fc.constant(true);
  const namespaces = fc.tuple(namespaceSet(required, options.excludeNamespaces ?? []), userChoice)
    // Without a user namespace, no time namespace either: crun 1.8.1 fails to start that pair here ("write to sync socket"),
    // unrelated to what such invariants judge (notes/cgroupfs-mountflags.md).
    .map(([set, user]) => (user ? set : set.filter((ns) => ns !== 'user' && (required.includes('time') || ns !== 'time'))));
  return namespaces.chain((namespaces) => {
    const has = (ns: NamespaceType) => namespaces.includes(ns);
    // joinedNamespacePaths joins the holder's user namespace whenever the profile has one.
    const joinsHeldUser = options.joinNamespaces === true && has('user') && ctx.heldNamespaces?.user !== undefined;
    const domain = !allowed('domainname') ? fc.constant(undefined) : options.names ? domainname : fc.option(domainname, { nil: undefined });
    return fc.record({
      uidMappings: joinsHeldUser ? fc.constant(HELD_USER_MAPPINGS.map((m) => ({ ...m }))) : options.setuidTrial ? idMappings.filter(mapsBeyondRoot) : idMappings,
      gidMappings: joinsHeldUser ? fc.constant(HELD_USER_MAPPINGS.map((m) => ({ ...m }))) : options.setuidTrial ? idMappings.filter(mapsBeyondRoot) : idMappings,
      setgroups: options.setgroups ? fc.constant(options.setgroups) : fc.constantFrom('deny', 'allow'),
      names: has('uts') ? fc.record({ hostname: options.names ? hostname : fc.option(hostname, { nil: undefined }), domainname: domain }) : fc.constant({}),
      mounts: mountSet({ namespaces, rwBindSource: options.rwBind ? ctx.fixtureDir : undefined, rwBindPropagation: options.rwBindPropagation, recursiveReadonlySource: options.recursiveReadonlyBind ? path.dirname(ctx.fixtureDir) : undefined,
        cgroup: options.cgroupMount || options.pidsLimit || options.memoryLimit || options.cpuResources || options.blockIOWeight, flaggedTmpfs: options.flaggedTmpfs, flaggedTmpfsExec: options.flaggedTmpfsExec,
        userNamespaceSource: options.userNamespaceFiles ? path.dirname(userNamespaceDirOf(ctx)) : undefined }),
      pidsLimit: options.pidsLimit ? pidsLimit : fc.constant(undefined),
      memory: options.memoryLimit ? memoryLimit : fc.constant(undefined),
      cpu: options.cpuResources ? cpuResources : fc.constant(undefined),
      blockIOWeight: options.blockIOWeight ? blockIOWeight : fc.constant(undefined),
      sysctl: options.sysctl ? sysctl : options.hostHarmlessSysctl ? hostHarmlessSysctl : fc.constant(undefined),
      limits: options.processLimits ? fc.record({ rlimits: rlimits(), umask: fc.integer({ min: 0, max: 0o777 }) }) : fc.constant(undefined),
      env: environment,
      cwd: fc.constantFrom('/', '/tmp', '/usr'),
      capabilities: !has('user') ? fc.constant(fixedCapabilities(options.hostRootCapabilities ?? []))
        : options.allCapabilities ? fc.constant(fixedCapabilities(kernelCapabilities()))
          : options.setuidTrial ? capabilitySets.map((c) => withCapabilities(c, ['CAP_SETUID', 'CAP_SETGID', ...(options.withCapabilities ?? [])]))
            : options.mountCapability ? capabilitySets.map((c) => withCapabilities(c, ['CAP_SYS_ADMIN', ...(options.withCapabilities ?? [])]))
              : options.withCapabilities ? capabilitySets.map((c) => withCapabilities(c, options.withCapabilities!)) : capabilitySets,
      noNewPrivileges: options.setuidTrial ? fc.constant(false) : options.seccompActions ? fc.constant(true) : fc.boolean(),
      seccomp: options.seccomp ? denyingPolicy(options.undeniableSyscalls)
        : options.seccompArgumentFilter ? argumentFilterPolicy()
          : options.seccompActions ? actionPolicy(options.undeniableSyscalls) : fc.constant(undefined),
      maskedPaths: options.maskPathsWithContent
        ? fc.subarray(MASKABLE_WITH_CONTENT, { minLength: 1 }).map((extra) => [...DEFAULT_MASKED_PATHS, ...extra])
        : fc.constant(undefined),
      namespacePaths: options.joinNamespaces ? joinedNamespacePaths(namespaces, ctx.heldNamespaces ?? {}) : fc.constant({}),
      timeOffsets: allowed('timeOffsets') && (options.timeOffsets || has('time'))
        ? fc.record({ monotonic: fc.integer({ min: -negativeOffsetRoom(clocks.monotonic), max: 100000 }), boottime: fc.integer({ min: 0, max: 100000 }) })
        : fc.constant(undefined),
    }).chain((p) => fc.record({
      uid: options.root || !has('user') ? fc.constant(0) : mappedId(p.uidMappings),
      gid: options.root || !has('user') ? fc.constant(0) : mappedId(p.gidMappings),
      additionalGids: p.setgroups === 'allow' && has('user') ? fc.array(mappedId(p.gidMappings), { maxLength: 2 }).map((g) => [...new Set(g)]) : fc.constant([]),
    }).map((user): ProfileDocument => ({
      name: 'generated',
      namespaces,
      ...(Object.keys(p.namespacePaths).length > 0 ? { namespacePaths: p.namespacePaths } : {}),
      ...p.names,
      ...(has('user') ? { user: { uidMappings: p.uidMappings, gidMappings: p.gidMappings, setgroups: p.setgroups } } : {}),
      mounts: p.mounts,
      ...(p.maskedPaths ? { maskedPaths: p.maskedPaths } : {}),
      ...(has('net') ? { network: { loopback: true } } : {}),
      process: {
        args: ['true'],
        env: p.env,
        cwd: p.cwd,
        user,
        capabilities: p.capabilities,
        noNewPrivileges: p.noNewPrivileges,
        timeout: 20,
        ...p.limits,
      },
      ...(p.timeOffsets ? { timeOffsets: p.timeOffsets } : {}),
      ...(p.sysctl ? { sysctl: p.sysctl } : {}),
      ...(p.pidsLimit !== undefined || p.memory || p.cpu || p.blockIOWeight !== undefined ? {
        resources: {
          ...(p.pidsLimit !== undefined ? { pids: { limit: p.pidsLimit } } : {}),
          ...(p.memory ? { memory: p.memory } : {}),
          ...(p.cpu ? { cpu: p.cpu } : {}),
          ...(p.blockIOWeight !== undefined ? { blockIO: { weight: p.blockIOWeight } } : {}),
        },
      } : {}),
      ...(p.seccomp ? { seccomp: p.seccomp } : {}),
    })));
  });
}
