// cloneExec, the one launch primitive that runs no JavaScript in the child: argv and envp reach
// the program exactly, a failed execve is exit 127, a missing program is refused before any
// process exists, the wait-then-become-root link works in a new user namespace, and the
// hard-coded ucontext_t layout agrees with glibc's own header and with getcontext().
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  cloneExec, waitForExit, makePipe, closeFd, readSome, writeAll, assertCloneExecSupported, EXEC_FAILED_EXIT_CODE, descriptorGaps,
} from '../../core/native/process.js';
import { raw } from '../../core/native/libc.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { SyscallError } from '../../core/native/syscall-error.js';
import { CStructLayouts } from './c-struct-layout.js';
import { childrenOf } from '../../harness/host-leftovers.js';

test.afterEach.always((t) => {
  t.deepEqual(childrenOf(), [], 'a cloned child was left behind');
});

function readAll(fd: number): string {
  let text = '';
  for (let chunk = readSome(fd); chunk.length > 0; chunk = readSome(fd)) text += chunk.toString('utf8');
  return text;
}

test.serial('the program gets exactly the argv and envp given, and only the listed descriptors', async (t) => {
  const [r, w] = makePipe();
  const [unlistedR, unlistedW] = makePipe();
  try {
    // dash redirects only descriptors 0-9, so the pipe is reopened through /proc.
    const to = `>/proc/self/fd/${w}`;
    const script = `printf '%s|%s|%s|%s\\n' "$0" "$1" "$X" "$#" ${to}; ls /proc/self/fd ${to}`;
    const child = cloneExec({
      path: '/bin/sh', argv: ['sh', '-c', script, 'zero', 'one two'], envp: ['X=ex', 'PATH=/usr/bin:/bin'], namespaceFlags: 0, inheritFds: [w],
    });
    closeFd(w);
    const exit = await waitForExit(child.pidfd);
    closeFd(child.pidfd);
    t.deepEqual(exit, { code: 0, signal: null });
    const [first, ...fds] = readAll(r).trim().split('\n');
    t.is(first, 'zero|one two|ex|1');
    // 0-2 and the listed pipe end are inherited; ls's own directory fd is the one more.
    t.true(fds.map(Number).includes(w));
    t.false(fds.map(Number).includes(unlistedW), 'a descriptor not listed in inheritFds leaked into the child');
    t.true(fds.length <= 5, `unexpected descriptors in the child: ${fds.join(' ')}`);
  } finally {
    closeFd(r);
    closeFd(unlistedR);
    closeFd(unlistedW);
  }
});

test.serial('the parent gets its descriptors back close-on-exec after the clone', (t) => {
  const [r, w] = makePipe();
  try {
    const child = cloneExec({ path: '/bin/true', argv: ['true'], envp: [], namespaceFlags: 0, inheritFds: [r, w] });
    const flags = [r, w].map((fd) => parseInt(/flags:\s*([0-7]+)/.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8));
    t.true(flags.every((f) => (f & 0o2000000) !== 0), 'inheritFds were left without O_CLOEXEC in the parent');
    return waitForExit(child.pidfd).then((exit) => {
      closeFd(child.pidfd);
      t.is(exit.code, 0);
    });
  } finally {
    closeFd(r);
    closeFd(w);
  }
});

test.serial(`an execve that fails in the child ends it with exit ${EXEC_FAILED_EXIT_CODE}`, async (t) => {
  // A directory passes access(X_OK) for root but execve refuses it (EACCES); a file with the
  // execute bit and no known format fails with ENOEXEC. Both fail after the clone.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-exec-'));
  const junk = path.join(dir, 'not-a-program');
  fs.writeFileSync(junk, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7]), { mode: 0o755 });
  try {
    for (const target of [dir, junk]) {
      const child = cloneExec({ path: target, argv: [target], envp: [], namespaceFlags: 0, inheritFds: [] });
      const exit = await waitForExit(child.pidfd);
      closeFd(child.pidfd);
      t.deepEqual(exit, { code: EXEC_FAILED_EXIT_CODE, signal: null }, target);
    }
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test.serial('a missing or non-executable program is a SyscallError naming it, thrown before any process exists', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-test-exec-'));
  const plain = path.join(dir, 'no-execute-bit');
  fs.writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
  try {
    for (const [program, code] of [['/nonexistent/nsrig-no-such-program', 'ENOENT'], [plain, 'EACCES']] as const) {
      const before = childrenOf();
      let error: unknown;
      try {
        const child = cloneExec({ path: program, argv: [program], envp: [], namespaceFlags: CLONE.NEWUSER | CLONE.NEWPID, inheritFds: [] });
        await waitForExit(child.pidfd);
        closeFd(child.pidfd);
      } catch (e) {
        error = e;
      }
      t.true(error instanceof SyscallError, `${program}: expected a SyscallError, got ${String(error)}`);
      const e = error as SyscallError;
      t.is(e.call, 'execve');
      t.is(e.object, program);
      t.is(e.code, code);
      t.true(e.message.includes(program), e.message);
      t.deepEqual(childrenOf(), before, 'a process was created for a program that cannot run');
    }
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test.serial('with waitFd the child waits, then becomes root of its new user namespace once the maps are written', async (t) => {
  const [controlR, controlW] = makePipe();
  const [outR, outW] = makePipe();
  try {
    const child = cloneExec({
      // bash, not dash: it redirects descriptors above 9, and the pipe cannot be reopened through
      // /proc by a uid of the new namespace.
      path: '/bin/bash', argv: ['bash', '-c', `exec >&${outW}; id -u; id -g; cat /proc/self/uid_map`],
      envp: ['PATH=/usr/bin:/bin'], namespaceFlags: CLONE.NEWUSER, inheritFds: [outW], waitFd: controlR,
    });
    closeFd(outW);
    // Still the cloned copy of this Node process, blocked in read(2) before execve.
    t.is(fs.readlinkSync(`/proc/${child.pid}/exe`), fs.readlinkSync('/proc/self/exe'));
    t.not(fs.readlinkSync(`/proc/${child.pid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
    fs.writeFileSync(`/proc/${child.pid}/setgroups`, 'deny');
    fs.writeFileSync(`/proc/${child.pid}/uid_map`, '0 100000 1\n');
    fs.writeFileSync(`/proc/${child.pid}/gid_map`, '0 100000 1\n');
    writeAll(controlW, Buffer.from('G'));
    const exit = await waitForExit(child.pidfd);
    closeFd(child.pidfd);
    t.deepEqual(exit, { code: 0, signal: null });
    const [uid, gid, map] = readAll(outR).split('\n').map((l) => l.trim());
    t.is(uid, '0');
    t.is(gid, '0');
    t.deepEqual(map!.split(/\s+/).map(Number), [0, 100000, 1]);
  } finally {
    closeFd(controlR);
    closeFd(controlW);
    closeFd(outR);
  }
});

test.serial('the launcher refuses an architecture other than x86_64 and a glibc older than 2.28', (t) => {
  t.notThrows(() => assertCloneExecSupported(), 'this host (x86_64, glibc 2.36) is one the launcher supports');
  const arch = Object.getOwnPropertyDescriptor(process, 'arch')!;
  try {
    Object.defineProperty(process, 'arch', { value: 'arm64', configurable: true });
    t.throws(() => assertCloneExecSupported(), { message: /x86_64 only \(this is arm64\)/ });
  } finally {
    Object.defineProperty(process, 'arch', arch);
  }
  const version = raw.gnuGetLibcVersion;
  try {
    raw.gnuGetLibcVersion = (() => '2.27') as unknown as typeof version;
    t.throws(() => assertCloneExecSupported(), { message: /glibc >= 2\.28, found 2\.27/ });
  } finally {
    raw.gnuGetLibcVersion = version;
  }
});

test.serial('the glibc the launcher sees is the system glibc, and new enough', (t) => {
  const seen = raw.gnuGetLibcVersion() as string;
  const system = execFileSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }).trim();
  t.is(`glibc ${seen}`, system);
  const [major, minor] = seen.split('.').map(Number);
  t.true(major === 2 && minor! >= 28, seen);
});

const INCLUDE = '/usr/include/x86_64-linux-gnu';
const UCONTEXT_HEADERS = ['bits/types/__sigset_t.h', 'bits/types/sigset_t.h', 'bits/types/stack_t.h', 'sys/ucontext.h'];
const haveHeaders = UCONTEXT_HEADERS.every((h) => fs.existsSync(path.join(INCLUDE, h)));

/** The layout constants as core/native/process.ts declares them (they are module-private). */
function engineConstants(): Record<string, number> {
  const source = fs.readFileSync(fileURLToPath(new URL('../../../core/native/process.ts', import.meta.url)), 'utf8');
  const names = ['UCONTEXT_SIZE', 'UC_LINK_OFFSET', 'UC_STACK_SP_OFFSET', 'UC_STACK_SIZE_OFFSET', 'SIGMASK_OFFSET'];
  return Object.fromEntries(names.map((name) => {
    const m = new RegExp(`const ${name} = (\\d+);`).exec(source);
    if (!m) throw new Error(`core/native/process.ts no longer declares ${name} as a number`);
    return [name, Number(m[1])];
  }));
}

function headerLayouts(): CStructLayouts {
  const texts = UCONTEXT_HEADERS.map((h) => fs.readFileSync(path.join(INCLUDE, h), 'utf8'));
  // Only the x86_64 branch of sys/ucontext.h applies here.
  const ucontext = texts[3]!;
  const start = ucontext.indexOf('#ifdef __x86_64__');
  const end = ucontext.indexOf('#else /* !__x86_64__ */');
  if (start < 0 || end < start) throw new Error('sys/ucontext.h has no recognisable x86_64 branch');
  texts[3] = ucontext.slice(start, end);
  return new CStructLayouts(texts);
}

(haveHeaders ? test : test.skip)('the ucontext_t offsets cloneExec hard-codes are those of glibc\'s sys/ucontext.h', (t) => {
  const h = headerLayouts();
  const stack = h.field('ucontext_t', 'uc_stack').offset;
  const sigmask = h.field('ucontext_t', 'uc_sigmask');
  t.deepEqual(engineConstants(), {
    UCONTEXT_SIZE: h.sizeOf('ucontext_t'),
    UC_LINK_OFFSET: h.field('ucontext_t', 'uc_link').offset,
    UC_STACK_SP_OFFSET: stack + h.field('stack_t', 'ss_sp').offset,
    UC_STACK_SIZE_OFFSET: stack + h.field('stack_t', 'ss_size').offset,
    SIGMASK_OFFSET: sigmask.offset,
  });
  // buildChain fills 128 bytes of mask: all of sigset_t, no more.
  t.is(sigmask.size, 128);
  // The numbers themselves, so a header parse that went wrong cannot agree with a wrong constant silently.
  t.is(h.sizeOf('mcontext_t'), 256);
  t.is(h.sizeOf('stack_t'), 24);
});

test.serial('getcontext() stores the signal mask where SIGMASK_OFFSET says', (t) => {
  const { SIGMASK_OFFSET, UCONTEXT_SIZE } = engineConstants();
  const SIG_BLOCK = 0;
  const SIG_SETMASK = 2;
  const old = Buffer.alloc(128);
  const block = Buffer.alloc(128);
  const signo = SIGNALS.SIGUSR2!;
  block[(signo - 1) >> 3] = 1 << ((signo - 1) & 7);
  const context = Buffer.alloc(UCONTEXT_SIZE! + 64, 0xa5);
  t.is(raw.sigprocmask(SIG_BLOCK, block, old) as number, 0);
  try {
    t.is(raw.getcontext(context) as number, 0);
  } finally {
    raw.sigprocmask(SIG_SETMASK, old, null);
  }
  const stored = context.subarray(SIGMASK_OFFSET!, SIGMASK_OFFSET! + 128);
  const expected = Buffer.from(old);
  expected[(signo - 1) >> 3]! |= 1 << ((signo - 1) & 7);
  t.deepEqual(stored.subarray(0, 8), expected.subarray(0, 8));
  // getcontext writes nothing past sizeof(ucontext_t).
  t.true(context.subarray(UCONTEXT_SIZE!).every((b) => b === 0xa5));
});

test('the child closes every descriptor from 3 up but those it inherits: the ranges between them', (t) => {
  t.deepEqual(descriptorGaps([]), [[3, 0xffffffff]]);
  t.deepEqual(descriptorGaps([0, 1, 2, 3, 4]), [[5, 0xffffffff]]);
  t.deepEqual(descriptorGaps([9, 5, 5, 6]), [[3, 4], [7, 8], [10, 0xffffffff]]);
});

test('closeFd releases a descriptor; a second close of the same number is a SyscallError with EBADF', (t) => {
  const [r, w] = makePipe();
  closeFd(w);
  closeFd(r);
  t.false(fs.existsSync(`/proc/self/fd/${r}`));
  // Only when nothing reopened the number in between: the one thread here opens nothing.
  const error = t.throws(() => closeFd(r), { instanceOf: SyscallError });
  t.is(error?.code, 'EBADF');
  t.regex(error?.message ?? '', new RegExp(`fd ${r}`));
});
