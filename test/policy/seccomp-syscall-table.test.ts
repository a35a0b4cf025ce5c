import test from 'ava';
import { execFileSync } from 'node:child_process';
import { rawSyscall } from '../../core/native/seccomp.js';
import { compilePolicy, parsePolicy, syscallName, syscallNumber, syscallTable, X32_SYSCALL_BIT } from '../../policy/seccomp/index.js';
import type { Abi } from '../../policy/seccomp/index.js';

const ENOSYS = 38;
const RESOLVER_ARCH: Readonly<Record<Abi, string>> = { x86_64: 'x86_64', i386: 'x86', x32: 'x32' };

/** libseccomp's own table: -1 (or a negative pseudo number) when it does not know the name. */
function resolve(abi: Abi, name: string): number {
  return Number(execFileSync('scmp_sys_resolver', ['-a', RESOLVER_ARCH[abi], name], { encoding: 'utf8' }).trim());
}

/** Every seventh name of each table plus the recent ones: a spread sample, the same every run. */
function sample(abi: Abi): string[] {
  const names = [...syscallTable(abi).byName.keys()];
  const recent = ['cachestat', 'fchmodat2', 'futex_wake', 'statmount', 'lsm_list_modules', 'mseal', 'file_getattr', 'file_setattr'];
  return [...new Set([...names.filter((_, i) => i % 7 === 0), ...recent.filter((n) => names.includes(n))])];
}

for (const abi of ['x86_64', 'i386', 'x32'] as const) {
  test(`${abi} numbers agree with libseccomp's scmp_sys_resolver wherever it knows the name`, (t) => {
    let compared = 0;
    const unknownToLibseccomp: string[] = [];
    for (const name of sample(abi)) {
      const theirs = resolve(abi, name);
      if (theirs < 0) {
        unknownToLibseccomp.push(name);
        continue;
      }
      t.is(syscallNumber(name, abi), theirs, `${abi} ${name}`);
      compared++;
    }
    t.log(`${compared} names compared; no plain number in this libseccomp (newer, or multiplexed through socketcall/ipc): ${unknownToLibseccomp.join(', ') || 'none'}`);
    t.true(compared >= 50);
  });
}

test('numbers map back to names, x32 numbers carrying the x32 bit', (t) => {
  t.is(syscallName(39), 'getpid');
  t.is(syscallName(469), 'file_setattr');
  t.is(syscallName(470), undefined);
  t.is(syscallNumber('getpid', 'x32'), (39 | X32_SYSCALL_BIT) >>> 0);
  t.is(syscallNumber('execve', 'x32'), (520 | X32_SYSCALL_BIT) >>> 0);
  t.is(syscallName((520 | X32_SYSCALL_BIT) >>> 0, 'x32'), 'execve');
  t.is(syscallNumber('getpid', 'i386'), 20);
  t.is(syscallNumber('_llseek'), undefined);
  t.is(syscallNumber('uretprobe'), 335);
  t.is(syscallNumber('uretprobe', 'i386'), undefined);
});

test('the running kernel has the newest numbers in the table and nothing past them', (t) => {
  // Harmless calls: a bad descriptor or empty range fails in the call itself, never with ENOSYS.
  for (const name of ['cachestat', 'statmount', 'lsm_list_modules', 'getxattrat', 'open_tree_attr', 'file_getattr', 'file_setattr']) {
    const nr = syscallNumber(name)!;
    const { errno } = rawSyscall(nr, -1, 0, 0, 0, 0);
    t.not(errno, ENOSYS, `${name} (${nr}) should exist on this ${process.platform} kernel`);
  }
  t.is(rawSyscall(470, -1, 0, 0, 0).errno, ENOSYS, '470 (listns) arrives in 6.19; the table stops at 6.18');
});

test('names an ABI lacks are skipped and listed, as libseccomp skips them', (t) => {
  const policy = parsePolicy({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86'], syscalls: [{ names: ['getpid', '_llseek', 'no_such_call', 'socketcall'], action: 'SCMP_ACT_ALLOW' }] }, 'p');
  const r = compilePolicy(policy, { arch: 'x86_64', capabilities: [], kernel: '6.18' });
  t.deepEqual(r.skippedNames, ['_llseek', 'no_such_call', 'socketcall']);
  t.deepEqual(r.skippedByAbi.i386, ['no_such_call']);
});
