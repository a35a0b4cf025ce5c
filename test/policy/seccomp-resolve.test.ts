import test from 'ava';
import { decide, describeAction, findOverlaps, loadPolicyFile, parsePolicy, resolvePolicy, PolicyError } from '../../policy/seccomp/index.js';
import type { PolicyContext, SeccompPolicy } from '../../policy/seccomp/index.js';
import { DOCKER_DEFAULT_CAPS, DOCKER_PROFILE, PODMAN_PROFILE } from '../fixtures/seccomp/profiles.js';

const docker = loadPolicyFile(DOCKER_PROFILE);
const podman = loadPolicyFile(PODMAN_PROFILE);
const ctx = (capabilities: string[], kernel = '6.18', arch = 'x86_64'): PolicyContext => ({ arch, capabilities, kernel });
const outcome = (policy: SeccompPolicy, c: PolicyContext, name: string, args?: (number | bigint)[]): string =>
  describeAction(decide(resolvePolicy(policy, c), name, args).action);

test('archMap gives the native architecture and its sub-architectures, as moby reads it', (t) => {
  t.deepEqual(resolvePolicy(docker, ctx([])).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  t.deepEqual(resolvePolicy(docker, ctx([], '6.18', 'aarch64')).architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  const plain = parsePolicy({ defaultAction: 'SCMP_ACT_ALLOW' }, 'p');
  t.deepEqual(resolvePolicy(plain, ctx([])).architectures, ['SCMP_ARCH_X86_64']);
  const listed = parsePolicy({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X86_64'] }, 'p');
  t.deepEqual(resolvePolicy(listed, ctx([])).architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
});

test('capability includes and excludes decide Docker\'s clone, clone3, mount and bpf', (t) => {
  const plain = ctx(DOCKER_DEFAULT_CAPS);
  const admin = ctx([...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN']);
  t.is(outcome(docker, plain, 'clone', [0x11]), 'ALLOW'); // plain fork-style flags
  t.is(outcome(docker, plain, 'clone', [0x10000000]), 'ERRNO(EPERM)'); // CLONE_NEWUSER
  t.is(outcome(docker, admin, 'clone', [0x10000000]), 'ALLOW');
  t.is(outcome(docker, plain, 'clone3'), 'ERRNO(ENOSYS)');
  t.is(outcome(docker, admin, 'clone3'), 'ALLOW');
  t.is(outcome(docker, plain, 'mount'), 'ERRNO(EPERM)');
  t.is(outcome(docker, admin, 'mount'), 'ALLOW');
  t.is(outcome(docker, plain, 'bpf'), 'ERRNO(EPERM)');
  t.is(outcome(docker, ctx(['CAP_BPF']), 'bpf'), 'ALLOW'); // any one include rule suffices
});

test('includes need every listed capability; excludes drop a rule on any one', (t) => {
  const policy = parsePolicy({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_A_ONE', 'CAP_B_TWO'] } },
      { names: ['getppid'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_A_ONE', 'CAP_B_TWO'] } },
    ],
  }, 'p');
  t.is(outcome(policy, ctx(['CAP_A_ONE']), 'getpid'), 'ERRNO(EPERM)');
  t.is(outcome(policy, ctx(['CAP_A_ONE', 'CAP_B_TWO']), 'getpid'), 'ALLOW');
  t.is(outcome(policy, ctx([]), 'getppid'), 'ALLOW');
  t.is(outcome(policy, ctx(['CAP_B_TWO']), 'getppid'), 'ERRNO(EPERM)');
});

test('minKernel compares kernel.major only, as moby does', (t) => {
  // Docker allows ptrace from 4.8 on.
  t.is(outcome(docker, ctx([], '4.7'), 'ptrace'), 'ERRNO(EPERM)');
  t.is(outcome(docker, ctx([], '4.8'), 'ptrace'), 'ALLOW');
  t.is(outcome(docker, ctx([], '4.8.0-1-amd64'), 'ptrace'), 'ALLOW');
  t.is(outcome(docker, ctx([], '6.18.44-fc-v657'), 'ptrace'), 'ALLOW');
  t.is(outcome(docker, ctx([], '10.1'), 'ptrace'), 'ALLOW');
  const policy = parsePolicy({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_KILL', excludes: { minKernel: '6.18' } }] }, 'p');
  t.is(outcome(policy, ctx([], '6.17.9'), 'getpid'), 'KILL_THREAD');
  t.is(outcome(policy, ctx([], '6.18.0'), 'getpid'), 'ALLOW');
  t.throws(() => resolvePolicy(docker, ctx([], 'linux')), { instanceOf: PolicyError, message: /context: kernel/ });
});

test('arches are Go names: amd64 matches an x86_64 host, x32 and x86 do not', (t) => {
  const policy = parsePolicy({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['x32'] } },
      { names: ['getppid'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
      { names: ['getuid'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['amd64'] } },
    ],
  }, 'p');
  t.is(outcome(policy, ctx([]), 'getpid'), 'ERRNO(EPERM)');
  t.is(outcome(policy, ctx([]), 'getppid'), 'ALLOW');
  t.is(outcome(policy, ctx([]), 'getuid'), 'ERRNO(EPERM)');
  t.is(outcome(docker, ctx([]), 'arch_prctl'), 'ALLOW');
  t.is(outcome(docker, ctx([]), 'riscv_flush_icache'), 'ERRNO(EPERM)');
});

test('defaults: errnoRet falls back to EPERM, Podman\'s default says ENOSYS', (t) => {
  t.is(describeAction(resolvePolicy(docker, ctx([])).defaultAction), 'ERRNO(EPERM)');
  t.is(describeAction(resolvePolicy(podman, ctx([])).defaultAction), 'ERRNO(ENOSYS)');
  const policy = parsePolicy({ defaultAction: 'SCMP_ACT_TRACE', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] }, 'p');
  t.is(outcome(policy, ctx([]), 'read'), 'ERRNO(EPERM)');
  t.is(outcome(policy, ctx([]), 'write'), 'TRACE(1)');
});

test('a rule naming one argument twice becomes alternatives, as runc splits it', (t) => {
  const policy = parsePolicy({
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [
      { index: 0, value: 0, op: 'SCMP_CMP_EQ' }, { index: 0, value: 8, op: 'SCMP_CMP_EQ' },
    ] }],
  }, 'p');
  t.is(resolvePolicy(policy, ctx([])).rules.length, 2);
  t.is(outcome(policy, ctx([]), 'personality', [0]), 'ALLOW');
  t.is(outcome(policy, ctx([]), 'personality', [8]), 'ALLOW');
  t.is(outcome(policy, ctx([]), 'personality', [4]), 'ERRNO(EPERM)');
});

test('overlapping rules: the strictest action wins and calls with mixed actions are reported', (t) => {
  const plain = resolvePolicy(podman, ctx([]));
  // socket's EINVAL and ALLOW rules have disjoint conditions; setns's two rules truly overlap.
  t.deepEqual(findOverlaps(plain).map((o) => o.name), ['setns', 'socket']);
  t.is(describeAction(decide(plain, 'socket', [16, 3, 9]).action), 'ERRNO(EINVAL)');
  t.is(describeAction(decide(plain, 'socket', [16, 3, 0]).action), 'ALLOW');
  t.is(describeAction(decide(plain, 'setns').action), 'ERRNO(EPERM)');
  t.is(describeAction(decide(resolvePolicy(podman, ctx(['CAP_SYS_ADMIN'])), 'setns').action), 'ALLOW');
  t.deepEqual(findOverlaps(resolvePolicy(docker, ctx(DOCKER_DEFAULT_CAPS))), []);
  const reversed = parsePolicy({
    defaultAction: 'SCMP_ACT_ALLOW',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
      { names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 0, value: 5, op: 'SCMP_CMP_EQ' }] },
    ],
  }, 'p');
  t.is(outcome(reversed, ctx([]), 'getpid', [5]), 'ERRNO(EACCES)');
  t.is(outcome(reversed, ctx([]), 'getpid', [6]), 'ALLOW');
});
