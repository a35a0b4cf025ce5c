import test from 'ava';
import { readFileSync } from 'node:fs';
import { formatPolicy, loadPolicyFile, parsePolicy, PolicyError } from '../../policy/seccomp/index.js';
import { DOCKER_PROFILE, FIXTURES, PODMAN_PROFILE } from '../fixtures/seccomp/profiles.js';

function rejects(t: import('ava').ExecutionContext, obj: unknown, fieldPath: string, expectedPart: string): PolicyError {
  const e = t.throws(() => parsePolicy(obj, 'policy.json'), { instanceOf: PolicyError });
  t.is(e.fieldPath, fieldPath);
  t.true(e.expected.includes(expectedPart), e.message);
  t.is(e.file, 'policy.json');
  return e;
}

for (const [name, path] of [['Docker', DOCKER_PROFILE], ['Podman', PODMAN_PROFILE]] as const) {
  test(`${name}'s default profile loads unchanged and writes back identically`, (t) => {
    const policy = loadPolicyFile(path);
    const original: unknown = JSON.parse(readFileSync(path, 'utf8'));
    t.deepEqual(JSON.parse(formatPolicy(policy)), original);
    t.is(policy.defaultAction, 'SCMP_ACT_ERRNO');
    t.true((policy.syscalls ?? []).length > 30);
  });
}

test('an unknown operator is refused with its exact field path', (t) => {
  const e = t.throws(() => loadPolicyFile(`${FIXTURES}bad-op.json`), { instanceOf: PolicyError });
  t.is(e.fieldPath, 'syscalls[3].args[0].op');
  t.is(e.got, '"SCMP_CMP_FOO"');
  t.is(String(e), `PolicyError: ${FIXTURES}bad-op.json: syscalls[3].args[0].op: expected one of SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ, got "SCMP_CMP_FOO"`);
});

test('a file that is not JSON is a PolicyError naming the file', (t) => {
  const e = t.throws(() => loadPolicyFile(`${FIXTURES}broken.json`), { instanceOf: PolicyError });
  t.is(e.file, `${FIXTURES}broken.json`);
  t.regex(e.expected, /valid JSON .*offset \d+/);
});

test('64-bit argument values above 2^53 load exactly and write back exactly', (t) => {
  const path = `${FIXTURES}big-values.json`;
  const policy = loadPolicyFile(path);
  const args = policy.syscalls?.[0]?.args ?? [];
  t.is(args[0]?.value, 18446744073709551615n);
  t.is(policy.syscalls?.[1]?.args?.[0]?.valueTwo, 9223372036854775808n);
  t.true(formatPolicy(policy).includes('"value": 18446744073709551615'));
  t.deepEqual(loadPolicyFile(path), parsePolicy(policy, 'again'));
});

test('unknown fields are errors, documentation fields are not', (t) => {
  rejects(t, { defaultActoin: 'SCMP_ACT_ALLOW' }, 'defaultActoin', 'no such field');
  rejects(t, { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoret: 5 }] },
    'syscalls[0].errnoret', 'no such field');
  rejects(t, { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', includes: { kernel: '5.1' } }] },
    'syscalls[0].includes.kernel', 'no such field');
  t.notThrows(() => parsePolicy({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', comment: 'why' }] }, 'p'));
});

test('a missing default action says it got nothing', (t) => {
  const e = rejects(t, { syscalls: [] }, 'defaultAction', 'SCMP_ACT_ALLOW');
  t.is(e.got, 'nothing');
});

test('field values are checked where they are', (t) => {
  const rule = (extra: object): unknown => ({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', ...extra }] });
  rejects(t, rule({ args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }), 'syscalls[0].args[0].index', 'from 0 to 5');
  rejects(t, rule({ args: [{ index: 0, value: -1, op: 'SCMP_CMP_EQ' }] }), 'syscalls[0].args[0].value', 'unsigned 64-bit');
  rejects(t, rule({ args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }), 'syscalls[0].args[0].value', 'below 2^53');
  rejects(t, rule({ errnoRet: 70000 }), 'syscalls[0].errnoRet', 'from 0 to 65535');
  rejects(t, rule({ errnoRet: 1, errno: 'ENOSYS' }), 'syscalls[0].errno', 'errnoRet (1)');
  rejects(t, rule({ errno: 'EWHATEVER' }), 'syscalls[0].errno', 'known errno name');
  rejects(t, rule({ includes: { minKernel: 'six' } }), 'syscalls[0].includes.minKernel', '<kernel>.<major>');
  rejects(t, rule({ excludes: { caps: ['sys_admin'] } }), 'syscalls[0].excludes.caps[0]', 'capability name');
  rejects(t, rule({ names: [] }), 'syscalls[0].names', 'at least one');
  rejects(t, rule({ names: ['read'], name: 'write' }), 'syscalls[0].name', 'not both');
  rejects(t, { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 }] },
    'syscalls[0].errnoRet', 'only SCMP_ACT_ERRNO and SCMP_ACT_TRACE');
  rejects(t, { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], archMap: [] }, 'archMap', 'not both');
  rejects(t, { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['x86_64'] }, 'architectures[0]', 'SCMP_ARCH_X86_64');
  rejects(t, { defaultAction: 'SCMP_ACT_ERRNO', flags: ['SECCOMP_FILTER_FLAG_NOPE'] }, 'flags[0]', 'SECCOMP_FILTER_FLAG_LOG');
});

test('containers/common errno names agree with errnoRet and moby\'s single name form is read', (t) => {
  const policy = parsePolicy({
    defaultAction: 'SCMP_ACT_ERRNO', defaultErrno: 'ENOSYS', defaultErrnoRet: 38,
    syscalls: [{ name: 'read', action: 'SCMP_ACT_ERRNO', errno: 'EACCES', errnoRet: 13 }],
  }, 'p');
  t.is(policy.syscalls?.[0]?.name, 'read');
});
