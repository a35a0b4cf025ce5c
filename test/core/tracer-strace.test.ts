// The tracer's counts, with each backend (ptrace and eBPF), against strace's on the same workloads, run the same way (same argv,
// environment, working directory, stdin /dev/null, stdout and stderr pipes). Two separate runs
// are compared, so only deterministic counts can be equal; every difference that remains is
// named below with its reason and asserted exactly where it can be:
//   - exit_group and exit: strace -c counts a call when it returns, and these never return; the
//     tracer counts at entry. One exit_group per process that ends by itself, one exit per thread
//     that ends by itself.
//   - the execve that starts the program: both count it once (strace attaches before its child's
//     execve; nsrig's count starts at stage 2's execve), and stage 2's own calls before it are
//     not counted at all.
//   - a multithreaded program's futex calls, and which of its threads still reach exit before the
//     main thread's exit_group, depend on scheduling: they differ from run to run under the same
//     tracer, so they are bounded, not compared.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ebpfAvailability, traceCommand, type SyscallCount, type TraceBackend, type TraceResult } from '../../core/tracer/index.js';
import { leftovers } from '../../harness/host-leftovers.js';

/** Runs a command with stdin /dev/null (as the tracer gives it) and stdout/stderr pipes, drained. */
function run(argv: string[], env: Record<string, string>, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited with ${code}: ${stderr}`))));
  });
}
const ENV = { PATH: '/usr/bin:/bin', LC_ALL: 'C' };

test.afterEach.always((t) => {
  t.deepEqual(leftovers(), [], 'a traced process or container was left behind');
});

interface Counts {
  count: number;
  errors: number;
}

/** `strace -f -c`'s table (calls and errors per name) for one run of `args`. */
async function straceCounts(args: string[], env: Record<string, string>, cwd: string): Promise<Map<string, Counts>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-strace-'));
  try {
    const out = path.join(dir, 'summary');
    await run(['strace', '-f', '-qq', '-c', '-U', 'name,calls,errors', '-o', out, ...args], env, cwd);
    const counts = new Map<string, Counts>();
    for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
      const m = /^(\w+)\s+(\d+)\s*(\d*)$/.exec(line.trim());
      if (m && m[1] !== 'total' && m[1] !== 'syscall') counts.set(m[1]!, { count: Number(m[2]), errors: Number(m[3] || 0) });
    }
    if (counts.size === 0) throw new Error(`strace wrote no summary for ${args.join(' ')}`);
    return counts;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function tracerCounts(totals: SyscallCount[]): Map<string, Counts> {
  return new Map(totals.map((s) => [s.name, { count: s.count, errors: s.errors }]));
}

interface Differences {
  /** Calls only the tracer counts, with their exact number. */
  onlyTracer?: Record<string, number>;
  /** Calls only the tracer counts, in a number within [min, max]. */
  tracerBetween?: Record<string, [number, number]>;
  /** Calls whose counts may differ by at most this much (a race both runs share); errors equal. */
  withinEachOther?: Record<string, number>;
  /** Calls both must make, in numbers that vary from run to run. */
  bothNonzero?: string[];
}

/** Every call name whose counts differ other than as `expected` says, in words. */
function mismatches(ours: Map<string, Counts>, theirs: Map<string, Counts>, expected: Differences): string[] {
  const out: string[] = [];
  const zero = { count: 0, errors: 0 };
  for (const name of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(name) ?? zero;
    const b = theirs.get(name) ?? zero;
    const only = expected.onlyTracer?.[name];
    const between = expected.tracerBetween?.[name];
    if (only !== undefined) {
      if (a.count !== only || b.count !== 0) out.push(`${name}: nsrig ${a.count} (expected ${only}), strace ${b.count} (expected 0)`);
    } else if (between !== undefined) {
      if (a.count < between[0] || a.count > between[1] || b.count !== 0) out.push(`${name}: nsrig ${a.count} (expected ${between[0]}..${between[1]}), strace ${b.count} (expected 0)`);
    } else if (expected.withinEachOther?.[name] !== undefined) {
      const limit = expected.withinEachOther[name]!;
      if (Math.abs(a.count - b.count) > limit || a.errors !== b.errors) out.push(`${name}: nsrig ${a.count} calls/${a.errors} errors, strace ${b.count}/${b.errors} (expected within ${limit} calls, equal errors)`);
    } else if (expected.bothNonzero?.includes(name)) {
      if (a.count === 0 || b.count === 0) out.push(`${name}: nsrig ${a.count}, strace ${b.count} (both expected > 0)`);
    } else if (a.count !== b.count || a.errors !== b.errors) {
      out.push(`${name}: nsrig ${a.count} calls/${a.errors} errors, strace ${b.count}/${b.errors}`);
    }
  }
  return out;
}

async function compare(backend: TraceBackend, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ ours: TraceResult; theirs: Map<string, Counts> }> {
  const env = options.env ?? ENV;
  const cwd = options.cwd ?? '/';
  const ours = await traceCommand(args, { stdio: 'pipe', env, cwd, backend });
  if (ours.backend !== backend) throw new Error(`asked for ${backend}, traced with ${ours.backend}`);
  const theirs = await straceCounts(args, env, cwd);
  return { ours, theirs };
}

const THREADS = 4;
const CALLS_PER_THREAD = 50;
const THREADED = `
import os, threading
# No thread ends before the last has started, so each gets a fresh stack (mmap, mprotect) rather
# than one a finished thread left in glibc's stack cache, which would depend on timing.
started = threading.Barrier(${THREADS})
def work():
    started.wait()
    for _ in range(${CALLS_PER_THREAD}):
        os.getppid()
threads = [threading.Thread(target=work) for _ in range(${THREADS})]
for t in threads: t.start()
for t in threads: t.join()
`;

const EBPF = ebpfAvailability();
if (!EBPF.available) console.log(`eBPF backend skipped: ${EBPF.reason}`);

for (const backend of ['ptrace', 'ebpf'] as const) {
  const runs = backend === 'ebpf' && !EBPF.available ? test.serial.skip : test.serial;

  runs(`[${backend}] dd bs=1: every count and error count equals strace's, exit_group aside`, async (t) => {
    const { ours, theirs } = await compare(backend, ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=2000']);
    t.is(ours.exit.code, 0);
    t.deepEqual(mismatches(tracerCounts(ours.totals), theirs, { onlyTracer: { exit_group: 1 } }), []);
    t.true(theirs.get('read')!.count >= 2000 && theirs.get('write')!.count >= 2000, 'the workload did run');
    t.deepEqual(ours.processes.map((p) => p.command), ['dd']);
  });

  runs(`[${backend}] a shell loop: six processes, counts equal to strace's, one exit_group each`, async (t) => {
    const { ours, theirs } = await compare(backend, ['sh', '-c', 'for i in 1 2 3 4 5; do /bin/true; done']);
    t.is(ours.exit.code, 0);
    t.deepEqual(mismatches(tracerCounts(ours.totals), theirs, { onlyTracer: { exit_group: 6 } }), []);
    t.is(theirs.get('execve')!.count, 6);
    const [shell, ...children] = ours.processes;
    t.is(shell!.command, 'sh');
    t.deepEqual(children.map((p) => [p.command, p.parent]), Array(5).fill(['true', shell!.pid]));
  });

  runs(`[${backend}] ls -lR of a small tree: counts and errors equal to strace's, exit_group aside`, async (t) => {
    const { ours, theirs } = await compare(backend, ['ls', '-lR', '/usr/share/doc/bash']);
    t.is(ours.exit.code, 0);
    t.true(ours.output!.stdout.length > 0);
    t.deepEqual(mismatches(tracerCounts(ours.totals), theirs, { onlyTracer: { exit_group: 1 } }), []);
    t.true((theirs.get('getdents64')?.count ?? 0) > 0, 'ls listed directories');
  });

  runs(`[${backend}] a multithreaded Python: every thread followed, counts equal to strace's but for futex and thread exits`, async (t) => {
    // Its own empty directory: Python lists the script's directory, whose size must not change between the runs.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-threads-'));
    try {
      fs.writeFileSync(path.join(dir, 'threads.py'), THREADED);
      // One malloc arena: otherwise threads create arenas (mmap, mprotect, munmap) as they happen to contend.
      const env = { ...ENV, MALLOC_ARENA_MAX: '1' };
      const { ours, theirs } = await compare(backend, ['python3', '-S', 'threads.py'], { env, cwd: dir });
      t.is(ours.exit.code, 0);
      t.deepEqual(mismatches(tracerCounts(ours.totals), theirs, {
        onlyTracer: { exit_group: 1 },
        // A finished thread is joined before its exit syscall, so main's exit_group may kill it first.
        tracerBetween: { exit: [0, THREADS] },
        // The same window holds the thread's tail before exit: glibc's madvise of its stack and its
        // rt_sigprocmask; each thread killed there makes one fewer of each, in either run.
        withinEachOther: { madvise: THREADS, rt_sigprocmask: THREADS },
        bothNonzero: ['futex'],
      }), []);
      const counts = tracerCounts(ours.totals);
      t.is(counts.get('getppid')!.count, THREADS * CALLS_PER_THREAD, 'the calls of every thread were counted');
      t.is(counts.get('clone3')!.count, THREADS);
      t.is(ours.processes.length, 1, 'threads are counted with their process');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
