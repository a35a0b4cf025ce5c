// A second executor for the same step lists: the interpreter runs here, each call is made by
// another process (core/kernel-process.ts). Real calls: the other process enters a UTS namespace
// of its own and names it, makes and writes files, and a failed call's errno reaches the list's
// fallback; this process's own hostname and namespaces are untouched.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KernelProcess, RemoteCallError } from '../../core/kernel-process.js';
import { runStepsAsync } from '../../core/launch-interpreter.js';
import { recordingKernel } from '../../core/recording-kernel.js';
import { call, type SetupStep } from '../../core/setup-steps.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { childrenOf } from '../../harness/host-leftovers.js';

const root = process.getuid?.() === 0;

test.afterEach.always((t) => {
  t.deepEqual(childrenOf(), [], 'a kernel process was left behind');
});

function list(dir: string): SetupStep[] {
  return [
    { name: 'own-uts-namespace', phase: 'setup', calls: [call('unshare', { flags: CLONE.NEWUTS }), call('sethostname', { name: 'nsrig-remote' })] },
    {
      name: 'files', phase: 'setup', calls: [
        call('mkdir', { path: path.join(dir, 'a'), mode: 0o700 }),
        call('write_file', { path: path.join(dir, 'a', 'f'), data: 'x' }),
        // Made again: EEXIST in the other process, so the fallback is made instead.
        call('mkdir', { path: path.join(dir, 'a'), mode: 0o700 }, {
          orElse: { code: 'EEXIST', fallback: call('write_file', { path: path.join(dir, 'fallback'), data: 'made' }) },
        }),
        call('write_file', { path: path.join(dir, 'when-dir'), data: '' }, { when: { path: path.join(dir, 'a'), is: 'dir' } }),
        call('write_file', { path: path.join(dir, 'when-missing'), data: '' }, { when: { path: path.join(dir, 'nothing'), is: 'present' } }),
        call('resolve_in_root', { root: dir, path: '/a/f' }, { out: 'f' }),
        call('write_file', { path: { ref: 'f' }, data: 'y' }),
      ],
    },
  ];
}

(root ? test.serial : test.skip)('the same list, run here and carried out by another process: its calls act there, with their results and errno', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-kernel-process-'));
  const kernel = KernelProcess.start();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hostname = os.hostname();
  try {
    const steps: string[] = [];
    await runStepsAsync(list(dir), kernel.executor, (name) => steps.push(name));
    t.deepEqual(steps, ['own-uts-namespace', 'files']);
    // The namespace is the other process's: ours and our hostname are as they were.
    t.not(fs.readlinkSync(`/proc/${kernel.pid}/ns/uts`), fs.readlinkSync('/proc/self/ns/uts'));
    t.is(os.hostname(), hostname);
  } finally {
    await kernel.close();
  }
  t.is(fs.readFileSync(path.join(dir, 'a', 'f'), 'utf8'), 'y');
  t.is(fs.readFileSync(path.join(dir, 'fallback'), 'utf8'), 'made');
  t.true(fs.existsSync(path.join(dir, 'when-dir')));
  t.false(fs.existsSync(path.join(dir, 'when-missing')));
  // The recording kernel, given the same list unchanged, is asked the same calls (the conditions'
  // stat included; it refuses nothing, so no fallback is made there).
  const recording = recordingKernel({ files: { [path.join(dir, 'a')]: 'dir' } });
  await runStepsAsync(list(dir), recording);
  t.deepEqual(recording.calls.map((c) => c.call), [
    'unshare', 'sethostname', 'mkdir', 'write_file', 'mkdir', 'stat', 'write_file', 'stat', 'resolve_in_root', 'write_file',
  ]);
});

test('a refused call comes back typed, with its errno name; after close, a call is refused and nothing is left running', async (t) => {
  const kernel = KernelProcess.start();
  try {
    const error = await t.throwsAsync(runStepsAsync([{ name: 'x', phase: 'setup', calls: [call('chdir', { path: '/nonexistent-nsrig-dir' })] }], kernel.executor),
      { instanceOf: RemoteCallError });
    t.is(error?.code, 'ENOENT');
    t.regex(error?.message ?? '', /^chdir in the kernel process: /);
  } finally {
    await kernel.close();
  }
  await t.throwsAsync(runStepsAsync([{ name: 'y', phase: 'setup', calls: [call('umask', { mask: 0o22 })] }], kernel.executor), { message: /has ended/ });
});
