// Real kernel, real processes: each check starts a fresh node child that installs the compiled
// filter on itself and then makes the system call; the test compares what the kernel did with what
// the policy means (semantics.ts) and with what evaluate() says the program returns.
import test from 'ava';
import fc from 'fast-check';
import { seccompActionAvailable, rawSyscall, installSeccompFilter } from '../../core/native/seccomp.js';
import { SyscallError } from '../../core/native/syscall-error.js';
import {
  compileResolved, decide, describeAction, evaluate, loadPolicyFile, parsePolicy, resolvePolicy, syscallNumber, RUNTIME_AFTER_FILTER, SECCOMP_RET,
} from '../../policy/seccomp/index.js';
import type { Action, PolicyContext, SeccompPolicy, SeccompSyscall } from '../../policy/seccomp/index.js';
import { runFilteredChild, type CallResult, type ChildOutcome } from '../fixtures/seccomp/filtered-child.js';
import { DOCKER_DEFAULT_CAPS, DOCKER_PROFILE, PODMAN_PROFILE } from '../fixtures/seccomp/profiles.js';
import { callArgs, policyArbitrary } from '../fixtures/seccomp/policy-arbitrary.js';

const EPERM = 1;
const ENOSYS = 38;
const MAX_ERRNO = 4095;
const CTX: PolicyContext = { arch: 'x86_64', capabilities: DOCKER_DEFAULT_CAPS, kernel: '6.18' };
/** What the filter child's own main thread needs after the filter: always allowed in random policies. */
const CHILD_RUNTIME = [...RUNTIME_AFTER_FILTER.filter((n) => n !== 'execve'), 'exit'];
/** Calls that are harmless whatever their arguments, so random arguments can be passed for real. */
const PROBES = ['getpid', 'getppid', 'getuid', 'getgid', 'geteuid', 'getegid', 'gettid', 'getpgrp', 'sched_yield',
  'umask', 'dup', 'getpgid', 'getsid', 'getpriority', 'sched_getscheduler'];

type Seen = { kind: 'returned'; result: bigint; errno: number } | { kind: 'signal'; signal: string } | { kind: 'thread-killed' };

/** What the kernel must do for a call the filter answers with `action`; `baseline` is the unfiltered call. */
function kernelOutcome(action: Action, baseline: CallResult): Seen {
  switch (action.kind) {
    case 'ALLOW':
    case 'LOG':
      return { kind: 'returned', result: baseline.errno === 0 ? -2n : -1n, errno: baseline.errno };
    case 'ERRNO': {
      const errno = Math.min(action.data, MAX_ERRNO);
      // ERRNO(0) skips the call and returns 0: "success" that never happened.
      return { kind: 'returned', result: errno === 0 ? 0n : -1n, errno };
    }
    case 'TRACE': // no tracer attached
    case 'USER_NOTIF': // no listener
      return { kind: 'returned', result: -1n, errno: ENOSYS };
    case 'TRAP':
    case 'KILL_PROCESS':
      return { kind: 'signal', signal: 'SIGSYS' };
    case 'KILL_THREAD':
      return { kind: 'thread-killed' };
  }
}

/** The first probe's observed fate; a returned -2n result in the expectation means "any success". */
function observed(outcome: ChildOutcome): Seen & { baseline?: CallResult } {
  if (outcome.kind === 'signaled') return { kind: 'signal', signal: outcome.signal };
  if (outcome.kind === 'thread-killed') return { kind: 'thread-killed' };
  const r = outcome.filtered[0]!;
  return { kind: 'returned', result: r.result, errno: r.errno, baseline: outcome.baseline[0] };
}

function matches(want: Seen, got: Seen): boolean {
  if (want.kind !== got.kind) return false;
  if (want.kind === 'signal' && got.kind === 'signal') return want.signal === got.signal;
  if (want.kind === 'returned' && got.kind === 'returned') {
    if (want.errno !== got.errno) return false;
    return want.result === -2n ? got.result !== -1n : want.result === got.result;
  }
  return true;
}

async function enforce(policy: SeccompPolicy, name: string, args: readonly bigint[] = []): Promise<{ action: Action; got: Seen; want: Seen; evaluated: string }> {
  const resolved = resolvePolicy(parsePolicy(policy, 'generated'), CTX);
  const { program } = compileResolved(resolved);
  const nr = syscallNumber(name)!;
  const action = decide(resolved, name, args).action;
  const evaluated = describeAction(evaluate(program, { nr, args }).action);
  const outcome = await runFilteredChild(program, [{ nr, args }]);
  const got = observed(outcome);
  const baseline = 'baseline' in got && got.baseline !== undefined ? got.baseline : { result: 0n, errno: 0 };
  return { action, got, want: kernelOutcome(action, baseline), evaluated };
}

const ACTION_CASES: [string, Omit<SeccompSyscall, 'names'>, string][] = [
  ['SCMP_ACT_ALLOW', { action: 'SCMP_ACT_ALLOW' }, 'the call runs'],
  ['SCMP_ACT_LOG', { action: 'SCMP_ACT_LOG' }, 'the call runs (and is logged)'],
  ['SCMP_ACT_ERRNO(EACCES)', { action: 'SCMP_ACT_ERRNO', errnoRet: 13 }, 'EACCES'],
  ['SCMP_ACT_ERRNO(0)', { action: 'SCMP_ACT_ERRNO', errnoRet: 0 }, 'returns 0 without running'],
  ['SCMP_ACT_ERRNO(5000)', { action: 'SCMP_ACT_ERRNO', errnoRet: 5000 }, 'errno capped at 4095'],
  ['SCMP_ACT_TRACE', { action: 'SCMP_ACT_TRACE', errnoRet: 7 }, 'ENOSYS without a tracer'],
  ['SCMP_ACT_NOTIFY', { action: 'SCMP_ACT_NOTIFY' }, 'ENOSYS without a listener'],
  ['SCMP_ACT_TRAP', { action: 'SCMP_ACT_TRAP' }, 'SIGSYS'],
  ['SCMP_ACT_KILL_PROCESS', { action: 'SCMP_ACT_KILL_PROCESS' }, 'the process dies of SIGSYS'],
  ['SCMP_ACT_KILL_THREAD', { action: 'SCMP_ACT_KILL_THREAD' }, 'only the calling thread dies'],
  ['SCMP_ACT_KILL', { action: 'SCMP_ACT_KILL' }, 'only the calling thread dies'],
];

for (const [label, rule, meaning] of ACTION_CASES) {
  test(`${label} on getppid: ${meaning}`, async (t) => {
    const policy: SeccompPolicy = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getppid'], ...rule }] };
    const r = await enforce(policy, 'getppid');
    t.true(matches(r.want, r.got), `${describeAction(r.action)}: kernel did ${JSON.stringify(r.got, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
    t.is(r.evaluated, describeAction(r.action));
  });
}

test('64-bit argument comparisons hold in the kernel, high half included', async (t) => {
  const policy: SeccompPolicy = {
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['getpgid'], action: 'SCMP_ACT_ERRNO', errnoRet: 11, args: [{ index: 0, value: 0x100000005n, op: 'SCMP_CMP_EQ' }] },
      { names: ['getsid'], action: 'SCMP_ACT_ERRNO', errnoRet: 12, args: [{ index: 0, value: 0xffffffff00000000n, valueTwo: 0x8000000000000000n, op: 'SCMP_CMP_MASKED_EQ' }] },
      { names: ['umask'], action: 'SCMP_ACT_ERRNO', errnoRet: 14, args: [{ index: 0, value: 0xffffffffn, op: 'SCMP_CMP_GT' }] },
    ],
  };
  const cases: [string, bigint, number | 'ran'][] = [
    ['getpgid', 0x100000005n, 11], ['getpgid', 5n, 'ran'], ['getpgid', 0x200000005n, 'ran'],
    ['getsid', 0x8000000000000001n, 12], ['getsid', 0x0000000080000000n, 'ran'], ['getsid', 0xc000000000000000n, 'ran'],
    ['umask', 0x100000000n, 14], ['umask', 0xffffffffn, 'ran'], ['umask', 0o22n, 'ran'],
  ];
  for (const [name, arg, want] of cases) {
    const r = await enforce(policy, name, [arg]);
    t.true(matches(r.want, r.got), `${name}(${arg.toString(16)})`);
    t.is(r.want.kind === 'returned' && r.action.kind === 'ERRNO' ? r.action.data : 'ran', want, `${name}(0x${arg.toString(16)})`);
  }
});

test('property: random policies and calls do in the kernel what the policy and evaluate() say', async (t) => {
  const failures: string[] = [];
  const byKind = new Map<string, number>();
  await fc.assert(
    fc.asyncProperty(policyArbitrary({ names: PROBES, alwaysAllow: CHILD_RUNTIME, maxRules: 5 }), fc.constantFrom(...PROBES), callArgs, async (policy, name, args) => {
      const r = await enforce(policy, name, args);
      byKind.set(r.action.kind, (byKind.get(r.action.kind) ?? 0) + 1);
      const ok = matches(r.want, r.got) && r.evaluated === describeAction(r.action);
      if (!ok) failures.push(`${name}: policy ${describeAction(r.action)}, evaluate ${r.evaluated}, kernel ${JSON.stringify(r.got, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
      return ok;
    }),
    { numRuns: 48 },
  ).catch((e: unknown) => t.fail(`${(e as Error).message}\n${String((e as Error).cause ?? '')}\n${failures.join('\n')}`));
  t.log(`outcomes exercised: ${[...byKind].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  t.pass();
});

for (const [label, path, caps] of [['Docker', DOCKER_PROFILE, DOCKER_DEFAULT_CAPS], ['Podman', PODMAN_PROFILE, []]] as const) {
  test(`${label}'s default profile in the kernel: refusals as the profile says, ordinary work goes on`, async (t) => {
    const resolved = resolvePolicy(loadPolicyFile(path), { ...CTX, capabilities: [...caps] });
    const { program } = compileResolved(resolved);
    const KEYCTL_GET_KEYRING_ID = 0;
    const KEY_SPEC_SESSION_KEYRING = -3;
    // Arguments chosen so the unfiltered baseline call fails before acting (kexec_load with zero
    // segments would unload the host's kexec image; 1000 segments is refused first).
    const calls: [string, (number | bigint)[]][] = [
      ['getpid', []], ['unshare', [0]], ['mount', [0, 0, 0, 0, 0]], ['keyctl', [KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0]],
      ['add_key', [0, 0, 0, 0, 0]], ['kexec_load', [0, 1000, 0, 0]], ['userfaultfd', [0]], ['setns', [-1, 0]], ['clone3', [0, 0]], ['bpf', [-1, 0, 0]],
    ];
    const outcome = await runFilteredChild(program, calls.map(([n, args]) => ({ nr: syscallNumber(n)!, args })), 'workload');
    if (outcome.kind !== 'exited') return t.fail(`the filtered process did not finish: ${JSON.stringify(outcome)}`);
    const summary: string[] = [];
    calls.forEach(([name, args], i) => {
      const action = decide(resolved, name, args.map((a) => BigInt(a))).action;
      const got = outcome.filtered[i]!;
      t.true(matches(kernelOutcome(action, outcome.baseline[i]!), { kind: 'returned', ...got }), `${name}: policy ${describeAction(action)}, kernel errno ${got.errno}`);
      summary.push(`${name} ${describeAction(action)}`);
    });
    t.log(summary.join(', '));
    t.deepEqual(outcome.workload, { lsStatus: 0, lsError: null, lsListedUsr: true, readFile: true });
    if (label === 'Docker') {
      for (const [i, name] of [[1, 'unshare'], [2, 'mount'], [3, 'keyctl'], [4, 'add_key']] as const) {
        t.is(outcome.filtered[i]!.errno, EPERM, `${name} refused with EPERM`);
      }
      t.is(outcome.baseline[1]!.errno, 0, 'unshare(0) works without the filter');
      t.is(outcome.filtered[8]!.errno, ENOSYS, 'clone3 refused with ENOSYS so glibc falls back to clone');
    } else {
      // Podman leaves unshare, mount and keyctl to capabilities; it refuses what it lists, and
      // everything it does not name with ENOSYS.
      t.is(outcome.filtered[5]!.errno, EPERM, 'kexec_load');
      t.is(outcome.filtered[6]!.errno, EPERM, 'userfaultfd');
      t.is(outcome.filtered[4]!.errno, ENOSYS, 'add_key is not in Podman\'s profile: its default');
      t.is(outcome.filtered[7]!.errno, EPERM, 'setns without CAP_SYS_ADMIN');
    }
  });
}

test('the running kernel supports every action the compiler emits', (t) => {
  for (const [kind, ret] of Object.entries(SECCOMP_RET)) t.true(seccompActionAvailable(ret), kind);
});

test('installSeccompFilter reports a bad program as a SyscallError and installs nothing', (t) => {
  const empty = t.throws(() => installSeccompFilter(Buffer.alloc(0)), { instanceOf: SyscallError });
  t.is(empty.errno, 22);
  // One load and no return: the kernel's checker refuses it (EINVAL) before anything is attached.
  const noReturn = Buffer.from([0x20, 0, 0, 0, 4, 0, 0, 0]);
  const e = t.throws(() => installSeccompFilter(noReturn), { instanceOf: SyscallError });
  t.is(e.code, 'EINVAL');
  t.is(rawSyscall(syscallNumber('getpid')!).result, BigInt(process.pid));
});

test('rawSyscall passes numbers, negative numbers and buffers, and returns errno as data', (t) => {
  t.deepEqual(rawSyscall(syscallNumber('close')!, -1), { result: -1n, errno: 9 });
  const uts = Buffer.alloc(6 * 65);
  t.deepEqual(rawSyscall(syscallNumber('uname')!, uts), { result: 0n, errno: 0 });
  t.is(uts.subarray(0, 5).toString(), 'Linux');
});
