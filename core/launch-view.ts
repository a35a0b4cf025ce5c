// What a launch of a profile will do, for a person to read before it happens (`nsrig plan`): the
// parent's calls, then stage 2's step list exactly as the launcher would send it, each call with
// its arguments and its flags and masks by name. Nothing is created; only the host's root entries
// and bind sources are read, as the launcher reads them.
import type { DeviceNode, Profile } from '../policy/profile/types.js';
import { compilePlan, cloneFlagsFor, createdNamespaces, idMapWrites } from './plan.js';
import { launchSteps, type Condition, type KernelCall, type Ref, type SetupStep } from './setup-steps.js';
import { compileProfilePolicy } from './seccomp-program.js';
import { STATE_OCI_VERSION } from './container-hooks.js';
import { CLONE, cloneFlagNames } from '../policy/kernel/clone-flags.js';
import { MNT_DETACH, mountAttrNames, mountFlagNames } from '../policy/kernel/mount-flags.js';
import { capabilityNames, CAPABILITY_NAMES } from '../policy/kernel/capabilities.js';
import { signalName, SIGNALS } from '../policy/kernel/signals.js';

/** Descriptor numbers in the view: the launcher's are whatever the kernel hands out at the time. */
const EXAMPLE_FDS = { report: 3, stdin: 4, stdout: 5, stderr: 6, console: 7 };

/** A call as the view shows it: the parent's include calls stage 2 never makes (clone, the cgroup write). */
export interface ViewCall {
  call: string;
  args: Record<string, unknown>;
  out?: string;
  when?: Condition;
}

export interface ViewStep {
  name: string;
  why?: string;
  calls: ViewCall[];
}

export interface LaunchView {
  profile: string;
  /** What nsrig does from outside: clone, cgroup, id maps, veth, release (PID is the child's). */
  parent: ViewStep[];
  /** The list stage 2 runs inside the new namespaces, ending in execve: exactly what the launcher sends. */
  child: SetupStep[];
}

function parentSteps(profile: Profile, hasVeth: boolean): ViewStep[] {
  const step = (name: string, why: string, calls: ViewCall[]): ViewStep => ({ name, why, calls });
  const raw = (call: string, args: Record<string, unknown>): ViewCall => ({ call, args });
  const steps = [
    step('clone', 'stage 2 starts in the new namespaces; cgroup and time are entered from inside',
      [raw('clone', { flags: cloneFlagsFor(createdNamespaces(profile)) | CLONE.PIDFD | SIGNALS.SIGCHLD! })]),
    step('place-in-cgroup', 'before setup, so stage 2 enters its cgroup namespace there and nothing escapes teardown',
      [raw('write_file', { path: '/sys/fs/cgroup/…/nsrig/ID/cgroup.procs', data: 'PID' })]),
  ];
  const maps = idMapWrites(profile);
  if (maps.length) {
    steps.push(step('write-id-maps', 'before the release: stage 2 acts only once it has ids to act with',
      maps.map((m) => raw('write_file', { path: `/proc/PID/${m.file}`, data: m.data }))));
  }
  if (hasVeth) {
    steps.push(step('attach-veth', 'eth0 is in the container\'s namespace before the list that tells stage 2 to configure it',
      [raw('veth_pair', { hostAddress: profile.network.veth!.hostAddress, peer: 'eth0', into: 'PID' })]));
  }
  const hookCalls = (kind: 'prestart' | 'createRuntime') => (profile.hooks?.[kind] ?? []).map((h, i) => raw('run_hook', {
    what: `hooks.${kind}[${i}]`, path: h.path, argv: h.args.length > 0 ? h.args : [h.path], env: h.env, timeoutSeconds: h.timeoutSeconds ?? null,
    stdin: 'the state, status "creating", pid PID',
  }));
  const early = [...hookCalls('prestart'), ...hookCalls('createRuntime')];
  if (early.length) {
    steps.push(step('run-create-runtime-hooks', 'in nsrig\'s own namespaces once the container\'s exist, before stage 2 starts; a failure stops the start', early));
  }
  steps.push(step('release', 'the first byte lets the child become namespace root and exec stage 2; the step list follows',
    [raw('write', { fd: 'control pipe', data: 'G + the stage 2 list below' })]));
  return steps;
}

export function launchView(profile: Profile, options: { args?: string[] } = {}): LaunchView {
  const program = compileProfilePolicy(profile);
  const hookState = { ociVersion: STATE_OCI_VERSION, id: 'ID', status: 'creating' as const, bundle: 'BUNDLE', annotations: {} };
  const plan = compilePlan(profile, EXAMPLE_FDS, { args: options.args, seccompPrograms: program ? [program] : [], hookState });
  return { profile: profile.source, parent: parentSteps(profile, plan.veth !== undefined), child: launchSteps(plan) };
}

const quote = (v: unknown) => JSON.stringify(v);

function named(names: string[]): string {
  return names.length ? names.join('|') : '0';
}

const isRef = (value: unknown): value is Ref => typeof value === 'object' && value !== null && 'ref' in value;
const describeRef = (value: unknown) => (isRef(value) ? `<${value.ref}>` : String(value));

/** A linux.devices entry as ls -l shows a node: type, numbers, path, then mode and owner. */
function describeDevice(d: DeviceNode): string {
  return `${d.type} ${d.major}:${d.minor} ${d.path} mode 0${d.fileMode.toString(8)} owner ${d.uid}:${d.gid}`;
}

/** One argument as an auditor wants to read it: flags and masks by name, programs by size. */
function describeArg(callName: string, key: string, value: unknown, args: Record<string, unknown>): string {
  if (isRef(value)) return describeRef(value);
  if (Array.isArray(value) && value.some(isRef)) return `[${value.map(describeRef).join(', ')}]`;
  if (callName === 'create_device' && key === 'device') return describeDevice(value as DeviceNode);
  if (callName === 'mount' && key === 'flags') return named(mountFlagNames(value as number));
  if (callName === 'mount_setattr' && key === 'attrSet') return named(mountAttrNames(value as number));
  if ((callName === 'unshare' || callName === 'clone') && key === 'flags') {
    const exitSignal = callName === 'clone' ? (value as number) & 0xff : 0;
    return named([...cloneFlagNames((value as number) & ~exitSignal), ...(exitSignal ? [signalName(exitSignal)] : [])]);
  }
  if (callName === 'umount2' && key === 'flags') return (value as number) === MNT_DETACH ? 'MNT_DETACH' : quote(value);
  if (callName === 'capset') return `[${capabilityNames(BigInt(value as string)).join(', ')}]`;
  if (callName === 'seccomp') return `${Buffer.from(value as string, 'base64').length / 8} BPF instructions`;
  if (callName === 'prctl' && key === 'value') {
    if (args.option === 'PR_CAPBSET_DROP' || args.option === 'PR_CAP_AMBIENT_RAISE') return CAPABILITY_NAMES[value as number] ?? String(value);
    if (args.option === 'PR_SET_PDEATHSIG') return signalName(value as number);
  }
  if (key === 'mode' && typeof value === 'number') return `0${value.toString(8)}`;
  if (key === 'option') return String(value);
  return quote(value);
}

function describeCondition(when: Condition): string {
  const is = when.is === 'dir' ? 'is a directory' : when.is === 'non-dir' ? 'exists and is not a directory' : 'exists';
  return ` (only if ${describeRef(when.path)} ${is})`;
}

export function describeCall(c: ViewCall | KernelCall): string {
  const args = c.args as Record<string, unknown>;
  const list = Object.entries(args).map(([k, v]) => `${k}=${describeArg(c.call, k, v, args)}`).join(', ');
  const orElse = 'orElse' in c && c.orElse ? ` (on ${c.orElse.code}: ${describeCall(c.orElse.fallback)})` : '';
  return `${c.call}(${list})${c.out ? ` -> <${c.out}>` : ''}${c.when ? describeCondition(c.when) : ''}${orElse}`;
}

function describeSteps(steps: (ViewStep | SetupStep)[], first: number): string[] {
  return steps.flatMap((s, i) => [
    `  ${first + i}. ${s.name}${s.why ? ` — ${s.why}` : ''}`,
    ...(s.calls.length ? s.calls.map((c) => `       ${describeCall(c)}`) : ['       (nothing to do for this profile)']),
  ]);
}

export function formatLaunchView(view: LaunchView): string {
  return [
    `launch plan for ${view.profile}`,
    'in nsrig (the parent); PID is the child\'s, descriptor numbers are examples:',
    ...describeSteps(view.parent, 1),
    'in stage 2, inside the new namespaces, in this order:',
    ...describeSteps(view.child, view.parent.length + 1),
    '',
  ].join('\n');
}
