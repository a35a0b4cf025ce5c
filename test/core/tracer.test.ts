// The tracer on real process trees, on the host and in containers: it follows grandchildren, an
// exec from a thread other than the leader and a group-stop; it reports a crash and leaves no
// process and no stopped tracee behind; a subset and counts without errors agree with a full
// trace; and a tracer thread that dies takes its tracees with it (PTRACE_O_EXITKILL).
import test from 'ava';
import fs from 'node:fs';
import { launchContainer, LaunchError } from '../../core/container.js';
import {
  Tracer, TracerError, hostProfile, traceCommand, traceContainer, type SyscallCount, type TraceResult,
} from '../../core/tracer/index.js';
import { leftovers } from '../../harness/host-leftovers.js';
import { profileOf } from './container-run.js';

const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };

/** Processes whose tracer is a thread of this process. */
function tracedByUs(): number[] {
  const ours = new Set(fs.readdirSync('/proc/self/task'));
  return fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((pid) => {
    try {
      const m = /^TracerPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m !== null && ours.has(m[1]!);
    } catch {
      return false;
    }
  }).map(Number);
}

test.afterEach.always((t) => {
  t.deepEqual(leftovers(), [], 'a traced process or container was left behind');
  t.deepEqual(tracedByUs(), [], 'a process is still traced by this process');
});

const count = (totals: SyscallCount[], name: string) => totals.find((s) => s.name === name)?.count ?? 0;
const traceSh = (script: string, extra: Partial<Parameters<typeof traceCommand>[1]> = {}): Promise<TraceResult> =>
  traceCommand(['sh', '-c', script], { stdio: 'pipe', env: ENV, cwd: '/', ...extra });

test.serial('children and grandchildren are followed, each counted as its own process under its parent', async (t) => {
  const r = await traceSh('sh -c "/bin/true; /bin/true"; /bin/true');
  t.is(r.exit.code, 0);
  const [root, inner, ...rest] = r.processes;
  t.deepEqual([root!.command, root!.parent], ['sh', undefined]);
  t.deepEqual([inner!.command, inner!.parent], ['sh', root!.pid]);
  t.deepEqual(rest.map((p) => [p.command, p.parent]), [['true', inner!.pid], ['true', inner!.pid], ['true', root!.pid]]);
  t.is(count(r.totals, 'execve'), 5);
  for (const p of r.processes) t.is(count(p.syscalls, 'execve'), 1, `process ${p.pid} (${p.command})`);
  t.is(count(r.totals, 'exit_group'), 5);
});

test.serial('a program killed by SIGSEGV is reported so, and nothing of it remains', async (t) => {
  const r = await traceSh('kill -SEGV $$');
  t.deepEqual([r.exit.code, r.exit.signal], [null, 'SIGSEGV']);
  t.is(count(r.totals, 'kill'), 1);
  t.is(count(r.totals, 'exit_group'), 0, 'it never got to exit by itself');
  for (const p of r.processes) t.false(fs.existsSync(`/proc/${p.pid}`), `process ${p.pid} still exists`);
});

test.serial('in a container: the program and its child are traced from their execve on, stage 2 not at all', async (t) => {
  const profile = profileOf({ process: { args: ['/bin/true'] } });
  t.true(profile.namespaces.includes('pid') && profile.namespaces.includes('user'));
  const r = await traceContainer(profile, { stdio: 'pipe', args: ['/bin/sh', '-c', 'sh -c "kill -SEGV \\$\\$"; echo $?'] });
  t.is(r.exit.code, 0);
  t.is(r.output!.stdout.toString(), '139\n', 'the child died of SIGSEGV');
  t.deepEqual(r.processes.map((p) => p.command), ['sh', 'sh']);
  t.is(r.processes[1]!.parent, r.processes[0]!.pid);
  t.is(count(r.totals, 'execve'), 2);
  // Stage 2 (Node) installs the filter with seccomp(2) and runs on epoll; none of that is counted.
  for (const name of ['seccomp', 'epoll_wait', 'epoll_pwait', 'prctl']) t.is(count(r.totals, name), 0, name);
});

test.serial('a subset counts only the named calls, exactly as a full trace counts them', async (t) => {
  const script = 'for i in 1 2 3; do /bin/true; done';
  const full = await traceSh(script);
  const subset = await traceSh(script, { onlySyscalls: ['execve', 'wait4'] });
  t.deepEqual(subset.totals.map((s) => s.name).sort(), ['execve', 'wait4']);
  for (const s of subset.totals) t.deepEqual(s, full.totals.find((f) => f.name === s.name));
  t.is(count(subset.totals, 'execve'), 4);
});

test.serial('without errors the counts are those of a full trace and no error is reported', async (t) => {
  const args = ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=300'];
  const full = await traceCommand(args, { stdio: 'pipe', env: ENV });
  const plain = await traceCommand(args, { stdio: 'pipe', env: ENV, countErrors: false });
  t.false(plain.errorsCounted);
  t.true(full.totals.some((s) => s.errors > 0), 'dd has failing calls (access of ld.so.preload)');
  t.deepEqual(plain.totals, full.totals.map((s) => ({ ...s, errors: 0 })));
});

test.serial('an exec from a thread other than the leader keeps the process followed under its pid', async (t) => {
  const script = "import os, threading; t = threading.Thread(target=lambda: os.execv('/bin/true', ['true'])); t.start(); t.join()";
  const r = await traceCommand(['python3', '-S', '-c', script], { stdio: 'pipe', env: ENV });
  t.is(r.exit.code, 0);
  t.is(r.processes.length, 1);
  t.is(r.processes[0]!.command, 'true');
  t.is(count(r.totals, 'execve'), 2);
  t.is(count(r.totals, 'exit_group'), 1, 'true ran to its end, traced');
});

function state(pid: number): string {
  try {
    return /^State:\s+(\w)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'gone';
  } catch {
    return 'gone';
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test.serial('a group-stop holds the program until SIGCONT, then the trace goes on', async (t) => {
  const tracer = await Tracer.start({ countErrors: true });
  const container = await launchContainer(hostProfile(['sh', '-c', 'read x; echo "got $x"'], { env: ENV, timeoutMs: 60_000 }), {
    stdio: 'pipe', stdin: 'pipe', seccompPrograms: [tracer.filter], beforeSetup: (pid) => tracer.attach(pid),
  });
  const stdout: Buffer[] = [];
  container.stdout!.on('data', (c: Buffer) => stdout.push(c));
  let ended = false;
  const exit = container.wait().finally(() => (ended = true));
  const pid = container.pid;
  const inRead = () => state(pid) === 'S' && fs.readFileSync(`/proc/${pid}/syscall`, 'utf8').startsWith('0 0x0 ');
  // Idle in read(0, ...): from here on, only our signals make it stop.
  while (!ended && !inRead()) await pause(10);
  process.kill(pid, 'SIGSTOP');
  // A signal-delivery-stop lasts microseconds; stopped at two looks in a row is the group-stop.
  // (Were the group-stop not held, it would be back in read(): the engine's timeout ends that.)
  while (!ended && !(state(pid) === 't' && (await pause(25), state(pid) === 't'))) await pause(10);
  container.stdin!.write('hello\n');
  await pause(100);
  t.is(state(pid), 't', 'input arrived, yet it stays stopped');
  t.is(stdout.length, 0);
  process.kill(pid, 'SIGCONT');
  t.deepEqual([(await exit).code, (await exit).timedOut], [0, false]);
  t.is(Buffer.concat(stdout).toString(), 'got hello\n');
  const summary = await tracer.finished();
  t.is(count(summary.totals, 'write'), 1);
});

test.serial('when the tracer thread dies, the kernel kills its tracees (PTRACE_O_EXITKILL)', async (t) => {
  const tracer = await Tracer.start({ countErrors: false });
  // Endless, and busy with system calls, so the tracer thread runs JavaScript often and can be ended.
  const container = await launchContainer(hostProfile(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1'], { env: ENV, timeoutMs: 60_000 }), {
    stdio: 'pipe', stdin: 'null', seccompPrograms: [tracer.filter], beforeSetup: (pid) => tracer.attach(pid),
  });
  await tracer.abandon();
  const exit = await container.wait();
  // Not the engine's timeout, and not a parent-death signal: the main thread lives on.
  t.deepEqual([exit.signal, exit.timedOut], ['SIGKILL', false]);
  await t.throwsAsync(tracer.finished(), { instanceOf: TracerError });
});

test.serial('a program that cannot start fails the launch, and the tracer thread ends with it', async (t) => {
  await t.throwsAsync(traceCommand(['/nonexistent/program'], { stdio: 'pipe', env: ENV }), { instanceOf: LaunchError });
});
