import test from 'ava';
import fc from 'fast-check';
import {
  AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, CompileError, compilePolicy, compileResolved, decide, describeAction, disassemble, evaluate,
  loadPolicyFile, parsePolicy, resolvePolicy, syscallNumber, syscallTable, X32_SYSCALL_BIT,
} from '../../policy/seccomp/index.js';
import type { Abi, PolicyContext, ResolvedPolicy, SeccompPolicy } from '../../policy/seccomp/index.js';
import { decode, OP } from '../../policy/seccomp/bpf.js';
import { DOCKER_DEFAULT_CAPS, DOCKER_PROFILE, PODMAN_PROFILE } from '../fixtures/seccomp/profiles.js';
import { callArgs, EDGE_VALUES, policyArbitrary } from '../fixtures/seccomp/policy-arbitrary.js';

const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const ctx = (capabilities: string[]): PolicyContext => ({ arch: 'x86_64', capabilities, kernel: '6.18' });

function auditArchOf(abi: Abi): number {
  return abi === 'i386' ? AUDIT_ARCH_I386 : AUDIT_ARCH_X86_64;
}

/** What the program must answer for `name` on `abi`, from the policy's meaning (semantics.ts). */
function expected(resolved: ResolvedPolicy, abi: Abi, name: string, args: readonly bigint[]): string {
  const abis = resolved.architectures;
  const listed = abi === 'x86_64' || (abi === 'x32' ? abis.includes('SCMP_ARCH_X32') : abis.includes('SCMP_ARCH_X86'));
  if (!listed) return 'KILL_PROCESS';
  return describeAction(decide(resolved, name, args, abi === 'i386' ? 32 : 64).action);
}

/** Argument vectors that sit on and around every value the policy compares with. */
function probeArgs(policy: ResolvedPolicy): bigint[][] {
  const values = new Set<bigint>(EDGE_VALUES);
  for (const r of policy.rules) {
    for (const c of r.conditions) {
      for (const v of [c.value, c.valueTwo, c.value | c.valueTwo]) {
        for (const d of [-1n, 0n, 1n]) values.add(BigInt.asUintN(64, v + d));
      }
    }
  }
  const list = [...values];
  return list.flatMap((v, i) => [[v, v, v, 0n, 0n, 0n], [list[(i + 3) % list.length]!, v, list[(i + 7) % list.length]!, 0n, 0n, 0n]]);
}

const REAL = [
  ['Docker, default capabilities', () => loadPolicyFile(DOCKER_PROFILE), DOCKER_DEFAULT_CAPS],
  ['Docker, CAP_SYS_ADMIN', () => loadPolicyFile(DOCKER_PROFILE), [...DOCKER_DEFAULT_CAPS, 'CAP_SYS_ADMIN']],
  ['Podman, no capabilities', () => loadPolicyFile(PODMAN_PROFILE), []],
] as const;

for (const [label, load, caps] of REAL) {
  test(`${label}: the program answers every call on every ABI as the policy means`, (t) => {
    const resolved = resolvePolicy(load(), ctx([...caps]));
    const started = process.hrtime.bigint();
    const { program, instructions } = compileResolved(resolved);
    const compileMs = Number(process.hrtime.bigint() - started) / 1e6;
    let checked = 0;
    let maxSteps = 0;
    const argSets = probeArgs(resolved);
    for (const abi of ['x86_64', 'x32', 'i386'] as const) {
      for (const [name, nr] of syscallTable(abi).byName) {
        for (const args of argSets) {
          const got = evaluate(program, { nr, arch: auditArchOf(abi), args });
          maxSteps = Math.max(maxSteps, got.steps);
          const want = expected(resolved, abi, name, args);
          if (describeAction(got.action) !== want) t.fail(`${abi} ${name}(${args.join(', ')}): program ${describeAction(got.action)}, policy ${want}`);
          checked++;
        }
      }
    }
    t.log(`${instructions} instructions, compiled in ${compileMs.toFixed(1)} ms; ${checked} calls checked; at most ${maxSteps} instructions run per call`);
    t.true(instructions < 600);
    t.true(maxSteps < 60);
  });
}

test('numbers outside the tables and foreign architectures get the default or KILL_PROCESS', (t) => {
  const docker = compilePolicy(loadPolicyFile(DOCKER_PROFILE), ctx(DOCKER_DEFAULT_CAPS));
  t.is(describeAction(evaluate(docker.program, { nr: 1000 }).action), 'ERRNO(EPERM)');
  t.is(describeAction(evaluate(docker.program, { nr: -1 }).action), 'ERRNO(EPERM)'); // x32 range, x32 listed
  t.is(describeAction(evaluate(docker.program, { nr: syscallNumber('getpid')!, arch: AUDIT_ARCH_AARCH64 }).action), 'KILL_PROCESS');
  const nativeOnly = compilePolicy(parsePolicy({ defaultAction: 'SCMP_ACT_ALLOW' }, 'p'), ctx([]));
  t.is(describeAction(evaluate(nativeOnly.program, { nr: (39 | X32_SYSCALL_BIT) >>> 0 }).action), 'KILL_PROCESS');
  t.is(describeAction(evaluate(nativeOnly.program, { nr: 20, arch: AUDIT_ARCH_I386 }).action), 'KILL_PROCESS');
  t.is(describeAction(evaluate(nativeOnly.program, { nr: 39 }).action), 'ALLOW');
});

test('property: for random policies, ABIs and arguments the program agrees with the policy', (t) => {
  const names = ['getpid', 'getppid', 'dup', 'umask', 'personality', 'socket', 'read', 'execve', 'rt_sigaction', 'chown32', 'ioctl'];
  fc.assert(
    fc.property(policyArbitrary({ names }), fc.array(fc.tuple(fc.constantFrom(...names), fc.constantFrom<Abi>('x86_64', 'x32', 'i386'), callArgs), { minLength: 1, maxLength: 8 }), (policy, calls) => {
      const resolved = resolvePolicy(parsePolicy(policy, 'generated'), ctx([]));
      const { program } = compileResolved(resolved);
      for (const [name, abi, args] of calls) {
        const nr = syscallNumber(name, abi);
        if (nr === undefined) continue;
        const got = describeAction(evaluate(program, { nr, arch: auditArchOf(abi), args }).action);
        if (got !== expected(resolved, abi, name, args)) return false;
      }
      return true;
    }),
    { numRuns: 400 },
  );
  t.pass();
});

test('long jumps: branches farther than 255 instructions go through BPF_JA', (t) => {
  // Many calls with distinct argument rules make blocks long enough that the dispatch reaches
  // past 255 instructions.
  const names = [...syscallTable('x86_64').byName.keys()].slice(0, 200);
  const policy: SeccompPolicy = {
    defaultAction: 'SCMP_ACT_ERRNO',
    syscalls: names.map((name, i) => ({ names: [name], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: i, op: 'SCMP_CMP_GT' }] })),
  };
  const resolved = resolvePolicy(parsePolicy(policy, 'wide'), ctx([]));
  const { program, instructions } = compileResolved(resolved);
  const code = decode(program);
  const far = code.filter((i) => i.code === OP.JA && i.k > 255);
  t.log(`${instructions} instructions, ${far.length} long jumps`);
  t.true(far.length > 0);
  for (const [i, name] of names.entries()) {
    for (const arg of [BigInt(i), BigInt(i) + 1n]) {
      t.is(describeAction(evaluate(program, { nr: syscallNumber(name)!, args: [0n, arg] }).action), arg > BigInt(i) ? 'ALLOW' : 'ERRNO(EPERM)');
    }
  }
});

test('a policy too large for the kernel is a CompileError, not a rejected filter', (t) => {
  const names = [...syscallTable('x86_64').byName.keys()];
  const policy: SeccompPolicy = {
    defaultAction: 'SCMP_ACT_ERRNO',
    // Distinct values per call, so no two calls can share one block of rule checks.
    syscalls: names.flatMap((name, i) => [1, 2, 3, 4].map((v) => ({ names: [name], action: 'SCMP_ACT_ALLOW' as const, args: [{ index: 0, value: i * 8 + v, op: 'SCMP_CMP_EQ' as const }, { index: 1, value: v, op: 'SCMP_CMP_GE' as const }] }))),
  };
  t.throws(() => compilePolicy(parsePolicy(policy, 'huge'), ctx([])), { instanceOf: CompileError, message: /at most 4096/ });
});

test('disassembly: one line per instruction, naming fields, calls and actions', (t) => {
  const policy = parsePolicy({
    defaultAction: 'SCMP_ACT_KILL_PROCESS',
    syscalls: [
      { names: ['getpid'], action: 'SCMP_ACT_ALLOW' },
      { names: ['dup'], action: 'SCMP_ACT_ERRNO', errnoRet: 9, args: [{ index: 0, value: 3, op: 'SCMP_CMP_EQ' }] },
    ],
  }, 'small');
  const { program, instructions } = compilePolicy(policy, ctx([]));
  const text = disassemble(program);
  t.is(text, [
    '0000: 0x20 0x00 0x00 0x00000004  ld   [4]                                ; arch',
    '0001: 0x15 0x00 0x0c 0xc000003e  jeq  #0xc000003e  jt 0002  jf 0014      ; AUDIT_ARCH_X86_64',
    '0002: 0x20 0x00 0x00 0x00000000  ld   [0]                                ; nr',
    '0003: 0x35 0x0a 0x00 0x40000000  jge  #0x40000000  jt 0014  jf 0004      ; x32 system call numbers from here',
    '0004: 0x35 0x01 0x00 0x00000021  jge  #0x21        jt 0006  jf 0005      ; nr >= 33 (dup2)',
    '0005: 0x35 0x02 0x08 0x00000020  jge  #0x20        jt 0008  jf 0014      ; nr >= 32 (dup)',
    '0006: 0x35 0x00 0x07 0x00000027  jge  #0x27        jt 0007  jf 0014      ; nr >= 39 (getpid)',
    '0007: 0x35 0x06 0x04 0x00000028  jge  #0x28        jt 0014  jf 0012      ; nr >= 40 (sendfile)',
    '0008: 0x20 0x00 0x00 0x00000014  ld   [20]                               ; args[0] high half',
    '0009: 0x15 0x00 0x04 0x00000000  jeq  #0x0         jt 0010  jf 0014      ; args[0].high == 0',
    '0010: 0x20 0x00 0x00 0x00000010  ld   [16]                               ; args[0] low half',
    '0011: 0x15 0x01 0x02 0x00000003  jeq  #0x3         jt 0013  jf 0014      ; args[0].low == 3',
    '0012: 0x06 0x00 0x00 0x7fff0000  ret  #0x7fff0000                        ; ALLOW',
    '0013: 0x06 0x00 0x00 0x00050009  ret  #0x00050009                        ; ERRNO(EBADF)',
    '0014: 0x06 0x00 0x00 0x80000000  ret  #0x80000000                        ; KILL_PROCESS',
    '',
  ].join('\n'));
  t.is(text.trimEnd().split('\n').length, instructions);
  const docker = disassemble(compilePolicy(loadPolicyFile(DOCKER_PROFILE), ctx(DOCKER_DEFAULT_CAPS)).program);
  t.regex(docker, /jeq  #0x40000003 .*; AUDIT_ARCH_I386/);
  t.regex(docker, /; nr >= 0x40000000\|\d+ \(\w+\)/); // x32 dispatch names x32 calls
  t.regex(docker, /ja   \d{4}/); // the far jump to the bad-architecture return
});
