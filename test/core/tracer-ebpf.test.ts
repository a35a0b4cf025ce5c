// The eBPF backend where it differs from ptrace in how it works: a container's count starts at
// its program's execve (stage 2, Node, shares the cgroup), an exec from a non-leader thread, two
// traces side by side see only their own cgroup, recorded calls carry their pid and arguments,
// and a failed launch or a finished trace leaves no fd (program, map, link) open.
import test from 'ava';
import fs from 'node:fs';
import { LaunchError } from '../../core/container.js';
import { ebpfAvailability, traceCommand, traceContainer, type SyscallCount } from '../../core/tracer/index.js';
import { leftovers } from '../../harness/host-leftovers.js';
import { profileOf } from './container-run.js';
import { BtfError, VMLINUX_BTF, fieldOffset, parseComposites } from '../../core/tracer/btf.js';

const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };
const EBPF = ebpfAvailability();
if (!EBPF.available) console.log(`skipped: ${EBPF.reason}`);
const runs = EBPF.available ? test.serial : test.serial.skip;

const count = (totals: SyscallCount[], name: string) => totals.find((s) => s.name === name)?.count ?? 0;
const openFds = () => fs.readdirSync('/proc/self/fd').length;

test.afterEach.always((t) => {
  t.deepEqual(leftovers(), [], 'a traced process or container was left behind');
});

runs('in a container: the same counts as the ptrace backend, stage 2 not at all', async (t) => {
  const profile = profileOf({ process: { args: ['/bin/true'] } });
  t.true(profile.namespaces.includes('pid') && profile.namespaces.includes('user'));
  const args = ['/bin/sh', '-c', 'sh -c "kill -SEGV \\$\\$"; echo $?; /bin/true'];
  const ebpf = await traceContainer(profile, { stdio: 'pipe', args, backend: 'ebpf' });
  const ptrace = await traceContainer(profile, { stdio: 'pipe', args, backend: 'ptrace' });
  t.is(ebpf.output!.stdout.toString(), '139\n', 'the child died of SIGSEGV');
  t.deepEqual(ebpf.processes.map((p) => p.command), ['sh', 'sh', 'true']);
  t.deepEqual(ebpf.processes.slice(1).map((p) => p.parent), [ebpf.processes[0]!.pid, ebpf.processes[0]!.pid]);
  t.deepEqual(ebpf.totals, ptrace.totals);
  t.is(count(ebpf.totals, 'execve'), 3);
  for (const name of ['seccomp', 'epoll_wait', 'epoll_pwait', 'prctl']) t.is(count(ebpf.totals, name), 0, name);
});

runs('an exec from a thread other than the leader: one process, the exec\'ing thread counted through it', async (t) => {
  const script = "import os, threading; t = threading.Thread(target=lambda: os.execv('/bin/true', ['true'])); t.start(); t.join()";
  const r = await traceCommand(['python3', '-S', '-c', script], { stdio: 'pipe', env: ENV, backend: 'ebpf' });
  t.is(r.exit.code, 0);
  t.deepEqual(r.processes.map((p) => p.command), ['true']);
  t.is(count(r.totals, 'execve'), 2);
  t.is(count(r.totals, 'exit_group'), 1);
});

runs('two traces at once each count only their own cgroup', async (t) => {
  const dd = (n: number) => traceCommand(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${n}`], { stdio: 'pipe', env: ENV, backend: 'ebpf' });
  const [small, large] = await Promise.all([dd(1000), dd(3000)]);
  const plain = await traceCommand(['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=1000'], { stdio: 'pipe', env: ENV, backend: 'ebpf' });
  t.deepEqual(small.totals, plain.totals);
  t.is(count(large.totals, 'read') - count(small.totals, 'read'), 2000);
});

runs('sampled calls carry the caller\'s pid and its argument registers', async (t) => {
  const r = await traceCommand(['sh', '-c', 'kill -0 $$; kill -0 $$ 2>/dev/null; sh -c "kill -0 \\$\\$"'], { stdio: 'pipe', env: ENV, backend: 'ebpf', sampleCalls: ['kill'] });
  t.is(r.exit.code, 0);
  const [outer, inner] = r.processes;
  t.deepEqual(r.samples!.map((s) => [s.name, s.pid, s.args[0], s.args[1]]), [
    ['kill', outer!.pid, BigInt(outer!.pid), 0n],
    ['kill', outer!.pid, BigInt(outer!.pid), 0n],
    ['kill', inner!.pid, BigInt(inner!.pid), 0n],
  ]);
});

runs('a launch that fails, and a trace that ends, leave no eBPF fd open', async (t) => {
  const before = openFds();
  await t.throwsAsync(traceCommand(['/no/such/program'], { stdio: 'pipe', env: ENV, backend: 'ebpf' }), { instanceOf: LaunchError });
  await traceCommand(['/bin/true'], { stdio: 'pipe', env: ENV, backend: 'ebpf' });
  t.is(openFds(), before);
});

runs('a subset and a count without errors are the full count, filtered', async (t) => {
  const script = 'for i in 1 2 3; do /bin/true; done';
  const full = await traceCommand(['sh', '-c', script], { stdio: 'pipe', env: ENV, backend: 'ebpf' });
  const subset = await traceCommand(['sh', '-c', script], { stdio: 'pipe', env: ENV, backend: 'ebpf', onlySyscalls: ['execve', 'wait4'], countErrors: false });
  t.deepEqual(subset.totals, full.totals.filter((s) => s.name === 'execve' || s.name === 'wait4').map((s) => ({ ...s, errors: 0 })));
});

(fs.existsSync(VMLINUX_BTF) ? test : test.skip)('the kernel\'s BTF places task_struct.tgid right after pid; a missing field is an error naming it', (t) => {
  const composites = parseComposites(fs.readFileSync(VMLINUX_BTF));
  t.is(fieldOffset(composites, 'task_struct', 'tgid'), fieldOffset(composites, 'task_struct', 'pid') + 4);
  t.throws(() => fieldOffset(composites, 'task_struct', 'no_such_field'), { instanceOf: BtfError, message: /task_struct\.no_such_field/ });
  t.throws(() => parseComposites(Buffer.alloc(64)), { instanceOf: BtfError });
});
