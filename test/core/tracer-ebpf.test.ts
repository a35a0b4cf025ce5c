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
import fc from 'fast-check';
import { callsPolicyMayRefuse, decide, resolvePolicy, type SeccompPolicy } from '../../policy/seccomp/index.js';
import { letsThrough } from '../../policy/seccomp/trace-check.js';

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
  const r = await traceCommand(['sh', '-c', 'kill -0 $$; kill -0 $$ 2>/dev/null; sh -c "kill -0 \\$\\$"'], { stdio: 'pipe', env: ENV, backend: 'ebpf', sampleCalls: [{ name: 'kill' }] });
  t.is(r.exit.code, 0);
  const [outer, inner] = r.processes;
  t.deepEqual(r.samples!.map((s) => [s.name, s.pid, s.args[0], s.args[1]]), [
    ['kill', outer!.pid, BigInt(outer!.pid), 0n],
    ['kill', outer!.pid, BigInt(outer!.pid), 0n],
    ['kill', inner!.pid, BigInt(inner!.pid), 0n],
  ]);
});

// sched_yield ignores its registers, and neither Python nor libc calls it on their own: each call
// below carries exactly the six values the case gave it.
const YIELDS = "import ctypes, sys\nsyscall = ctypes.CDLL(None).syscall\nfor call in sys.argv[1:]: syscall(ctypes.c_long(24), *[ctypes.c_ulong(int(v)) for v in call.split(',')])";
const EDGES = [0n, 1n, 2n, 41n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 63n, 2n ** 64n - 1n];
const value = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));
const rule = fc.record({
  action: fc.constantFrom('SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL_PROCESS') as fc.Arbitrary<'SCMP_ACT_ALLOW'>,
  args: fc.array(fc.record({
    index: fc.integer({ min: 0, max: 5 }),
    op: fc.constantFrom('SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ') as fc.Arbitrary<'SCMP_CMP_EQ'>,
    value, valueTwo: value,
  }), { minLength: 1, maxLength: 2 }),
});

runs('a call refused for some arguments is recorded when its registers are refused, as decide() judges them, and only then', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO') as fc.Arbitrary<'SCMP_ACT_ALLOW'>,
    fc.array(rule, { minLength: 1, maxLength: 3 }),
    // Each argument is picked from the values the rules compare it with, one either side of them,
    // and the extremes, so every comparison is tried at its boundary.
    fc.array(fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 14 }),
    async (defaultAction, rules, picks) => {
      const near = (index: number) => rules.flatMap((r) => r.args.filter((a) => a.index === index).flatMap((a) => [a.value, a.valueTwo]))
        .flatMap((v) => [v - 1n, v, v + 1n]).map((v) => BigInt.asUintN(64, v));
      const pools = [0, 1, 2, 3, 4, 5].map((i) => [...near(i), 0n, 2n ** 64n - 1n]);
      const calls = picks.map((call) => call.map((n, i) => pools[i]![n % pools[i]!.length]!));
      const policy: SeccompPolicy = { defaultAction, syscalls: rules.map((r) => ({ names: ['sched_yield'], ...r })) };
      const ctx = { arch: 'x86_64' as const, capabilities: [], kernel: '6.1.0' };
      const toRecord = callsPolicyMayRefuse(policy, ctx).filter((c) => c.name === 'sched_yield');
      const r = await traceCommand(['python3', '-S', '-c', YIELDS, ...calls.map((c) => c.join(','))], { stdio: 'pipe', env: ENV, backend: 'ebpf', sampleCalls: toRecord });
      if (r.exit.code !== 0) throw new Error(`python3 exited ${r.exit.code}: ${r.output?.stderr.toString()}`);
      if (count(r.totals, 'sched_yield') !== calls.length) throw new Error(`sched_yield was called ${count(r.totals, 'sched_yield')} times, not ${calls.length}: the case is not what it says`);
      const resolved = resolvePolicy(policy, ctx);
      const refused = calls.filter((args) => !letsThrough(decide(resolved, 'sched_yield', args).action));
      const expected = toRecord.length === 0 ? [] : refused.slice(0, 8);
      const recorded = r.samples!.map((s) => s.args.map((a) => BigInt.asUintN(64, a)));
      if (JSON.stringify(recorded, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)) !== JSON.stringify(expected, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) {
        throw new Error(`recorded ${recorded.length} calls, expected ${expected.length}`);
      }
      if (r.samples!.some((s) => s.pid !== r.processes[0]!.pid)) throw new Error('a sample carries another pid than python\'s');
    },
  ), { numRuns: process.env.NSRIG_THOROUGH ? 60 : 25 });
  t.pass();
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
