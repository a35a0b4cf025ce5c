// What a launch of a profile will do, for a person to read before it happens (`nsrig plan`): the
// parent's steps, then stage 2's, the very records the launcher runs and sends, each call with
// its arguments and its flags and masks by name. Nothing is created; only the host's root entries
// and bind sources are read, as the launcher reads them.
import type { DeviceNode, Profile } from '../policy/profile/types.js';
import { compilePlan } from './plan.js';
import type { Condition, KernelCall, Ref, SetupStep } from './setup-steps.js';
import { interleave, launchOrder, pausePoints, stage2Part } from './parent-steps.js';
import { compileProfilePolicy } from './seccomp-program.js';
import { STATE_OCI_VERSION } from './container-hooks.js';
import { cloneFlagNames } from '../policy/kernel/clone-flags.js';
import { MNT_DETACH, mountAttrNames, mountFlagNames } from '../policy/kernel/mount-flags.js';
import { capabilityNames, CAPABILITY_NAMES } from '../policy/kernel/capabilities.js';
import { signalName } from '../policy/kernel/signals.js';

/** Descriptor numbers in the view: the launcher's are whatever the kernel hands out at the time. */
const EXAMPLE_FDS = { report: 3, stdin: 4, stdout: 5, stderr: 6, console: 7, control: 8 };

/** Where the launcher's cgroups would be: made only by a launch, under the host's own layout. */
const EXAMPLE_CGROUP = '/sys/fs/cgroup/…/nsrig/ID';

export interface LaunchView {
  profile: string;
  /**
   * What nsrig does from outside, the records the launcher runs: clone, cgroup, id maps, veth,
   * release (PID is the child's), then what it does while stage 2 holds at a pause (its hooks).
   */
  parent: SetupStep[];
  /** The list stage 2 runs inside the new namespaces, ending in execve: exactly what the release sends. */
  child: SetupStep[];
}

export function launchView(profile: Profile, options: { args?: string[] } = {}): LaunchView {
  const program = compileProfilePolicy(profile);
  const hookState = { ociVersion: STATE_OCI_VERSION, id: 'ID', status: 'creating' as const, bundle: 'BUNDLE', annotations: {} };
  const plan = compilePlan(profile, EXAMPLE_FDS, { args: options.args, seccompPrograms: program ? [program] : [], hookState, pauses: pausePoints(profile) });
  const order = launchOrder(profile, plan, { cgroupDirectories: [EXAMPLE_CGROUP], hookState });
  return { profile: profile.source, parent: order.filter((s) => s.phase === 'parent'), child: stage2Part(order) };
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

export function describeCall(c: KernelCall): string {
  const args = c.args as Record<string, unknown>;
  const list = Object.entries(args).map(([k, v]) => `${k}=${describeArg(c.call, k, v, args)}`).join(', ');
  const orElse = 'orElse' in c && c.orElse ? ` (on ${c.orElse.code}: ${describeCall(c.orElse.fallback)})` : '';
  return `${c.call}(${list})${c.out ? ` -> <${c.out}>` : ''}${c.when ? describeCondition(c.when) : ''}${orElse}`;
}

function describeSteps(steps: SetupStep[], first: number): string[] {
  return steps.flatMap((s, i) => [
    // Among stage 2's steps, the parent's are those it makes while stage 2 holds.
    `  ${first + i}. ${first > 1 && s.phase === 'parent' ? '[in nsrig] ' : ''}${s.name}${s.why ? ` — ${s.why}` : ''}`,
    ...(s.calls.length ? s.calls.map((c) => `       ${describeCall(c)}`) : ['       (nothing to do for this profile)']),
  ]);
}

export function formatLaunchView(view: LaunchView): string {
  const order = interleave(view.parent, view.child);
  const release = order.findIndex((s) => s.name === 'release');
  const [before, after] = [order.slice(0, release + 1), order.slice(release + 1)];
  return [
    `launch plan for ${view.profile}`,
    'in nsrig (the parent); PID is the child\'s (clone\'s result), ID the container\'s, descriptor numbers are examples:',
    ...describeSteps(before, 1),
    'in stage 2, inside the new namespaces, in this order (with what nsrig does while stage 2 holds):',
    ...describeSteps(after, before.length + 1),
    '',
  ].join('\n');
}
