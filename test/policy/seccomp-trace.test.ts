import test from 'ava';
import {
  checkTrace, compilePolicy, generatePolicy, loadPolicyFile, parsePolicy, resolvePolicy, RUNTIME_AFTER_FILTER,
} from '../../policy/seccomp/index.js';
import type { PolicyContext } from '../../policy/seccomp/index.js';
import { runFilteredChild } from '../fixtures/seccomp/filtered-child.js';
import { DOCKER_DEFAULT_CAPS, DOCKER_PROFILE } from '../fixtures/seccomp/profiles.js';

const docker = loadPolicyFile(DOCKER_PROFILE);
const ctx = (capabilities: string[]): PolicyContext => ({ arch: 'x86_64', capabilities, kernel: '6.18' });

test('checkTrace reports denied and argument-dependent calls, with counts and outcomes', (t) => {
  const trace = [
    { name: 'read', count: 120 }, { name: 'write', count: 40 }, { name: 'mount', count: 2 }, { name: 'clone', count: 5 },
    { name: 'unshare', count: 1 }, { name: 'personality', count: 1 }, { name: 'clone3', count: 3 }, { name: 'nosuchcall', count: 1 },
    { name: 'mount', count: 1 },
  ];
  t.deepEqual(checkTrace(docker, trace, ctx(DOCKER_DEFAULT_CAPS)), [
    { name: 'mount', count: 3, reason: 'denied', outcome: 'ERRNO(EPERM)', known: true },
    { name: 'clone', count: 5, reason: 'conditional', outcome: 'ERRNO(EPERM)', known: true },
    { name: 'unshare', count: 1, reason: 'denied', outcome: 'ERRNO(EPERM)', known: true },
    { name: 'personality', count: 1, reason: 'conditional', outcome: 'ERRNO(EPERM)', known: true },
    { name: 'clone3', count: 3, reason: 'denied', outcome: 'ERRNO(ENOSYS)', known: true },
    { name: 'nosuchcall', count: 1, reason: 'denied', outcome: 'ERRNO(EPERM)', known: false },
  ]);
  const admin = checkTrace(docker, trace, ctx([...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN'])).map((v) => v.name);
  t.deepEqual(admin, ['personality', 'nosuchcall']);
});

test('checkTrace: a stricter conditional rule makes an allowed call conditional; KILL and NOTIFY are refusals', (t) => {
  const policy = parsePolicy({
    defaultAction: 'SCMP_ACT_LOG',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] },
      { names: ['getpid', 'getppid'], action: 'SCMP_ACT_ALLOW' },
      { names: ['ioctl'], action: 'SCMP_ACT_NOTIFY' },
    ],
  }, 'p');
  const resolved = resolvePolicy(policy, ctx([]));
  t.deepEqual(checkTrace(resolved, [{ name: 'getpid', count: 1 }, { name: 'getppid', count: 1 }, { name: 'ioctl', count: 4 }, { name: 'read', count: 9 }], ctx([])), [
    { name: 'getpid', count: 1, reason: 'conditional', outcome: 'KILL_PROCESS', known: true },
    { name: 'ioctl', count: 4, reason: 'denied', outcome: 'USER_NOTIF', known: true },
  ]);
});

test('generatePolicy allows exactly what was seen plus the runtime\'s own calls, sorted', (t) => {
  const observed = [{ name: 'write', count: 3 }, { name: 'read', count: 10 }, { name: 'openat', count: 2 }, { name: 'read', count: 1 }, { name: 'kill', count: 0 }];
  const policy = generatePolicy(observed);
  t.is(policy.defaultAction, 'SCMP_ACT_ERRNO');
  t.is(policy.defaultErrnoRet, 1);
  t.deepEqual(policy.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const names = policy.syscalls?.[0]?.names ?? [];
  t.deepEqual(names, [...new Set(['openat', 'read', 'write', ...RUNTIME_AFTER_FILTER])].sort());
  t.false(names.includes('kill'), 'a name seen zero times is not allowed');
  t.deepEqual(parsePolicy(policy, 'generated'), policy);
  t.deepEqual(checkTrace(policy, observed, ctx([])), []);
  t.deepEqual(checkTrace(policy, [{ name: 'mount', count: 1 }], ctx([])).map((v) => v.reason), ['denied']);
  t.deepEqual(generatePolicy(observed, { withoutRuntime: true }).syscalls?.[0]?.names, ['openat', 'read', 'write']);
  t.true(generatePolicy([], { earlyFilter: true }).syscalls?.[0]?.names?.includes('capset'));
  t.is(generatePolicy([], { errnoRet: 38 }).defaultErrnoRet, 38);
});

// What /bin/echo (glibc, dynamically linked) calls from its first instruction to its exit.
const ECHO_CALLS = ['access', 'arch_prctl', 'brk', 'close', 'exit_group', 'fstat', 'getrandom', 'mmap', 'mprotect', 'munmap',
  'newfstatat', 'openat', 'pread64', 'prlimit64', 'read', 'rseq', 'set_robust_list', 'set_tid_address', 'write'];

test('a generated policy lets the traced program start and run under a real filter', async (t) => {
  const policy = generatePolicy(ECHO_CALLS.map((name) => ({ name, count: 1 })));
  const { program } = compilePolicy(policy, ctx([]));
  const ran = await runFilteredChild(program, [], 'exec', ['/bin/echo', 'hello']);
  t.like(ran, { kind: 'exited', code: 0, stdout: 'hello\n' });
  // The same trace without the runtime's calls: execve itself is refused with the policy's EPERM.
  const bare = compilePolicy(generatePolicy(ECHO_CALLS.map((name) => ({ name, count: 1 })), { withoutRuntime: true }), ctx([]));
  const refused = await runFilteredChild(bare.program, [], 'exec', ['/bin/echo', 'hello']);
  t.like(refused, { kind: 'exited', code: 126, stderr: 'execve failed: errno 1\n' });
});
