// The eBPF tracer without a root process, as it traces an OCI runtime's container: nothing in the
// cgroup counts until the execve of the program's path, so a runtime that execs itself (runc init
// from a memfd) or runs helpers first is left out, and the program is counted from its execve on.
import test from 'ava';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import { ContainerCgroup } from '../../core/cgroup.js';
import { EbpfTrace } from '../../core/tracer/ebpf-trace.js';
import { ebpfAvailability } from '../../core/tracer/index.js';
import { EXEC_PATH_MAX } from '../../core/tracer/ebpf-programs.js';

const EBPF = ebpfAvailability();
if (!EBPF.available) console.log(`skipped: ${EBPF.reason}`);
const runs = EBPF.available ? test.serial : test.serial.skip;

/**
 * A shell moved into a fresh cgroup while it waits on stdin; once released it runs `script`.
 * Returns the trace's summary after the shell and its children are gone.
 */
async function traceScript(execPath: string, script: string) {
  const cgroup = ContainerCgroup.create(`nsrig-${process.pid}-${randomBytes(4).toString('hex')}`)!;
  const shell = spawn('/bin/sh', ['-c', `read go; ${script}`], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: '/usr/bin:/bin' } });
  let trace: EbpfTrace | undefined;
  try {
    cgroup.add(shell.pid!);
    trace = EbpfTrace.start({ cgroupId: fs.statSync(cgroup.dir, { bigint: true }).ino, execPath });
    const output: Buffer[] = [];
    shell.stdout!.on('data', (d: Buffer) => output.push(d));
    shell.stdin!.end('go\n');
    await once(shell, 'exit');
    while (!cgroup.isEmpty()) await new Promise((r) => setTimeout(r, 5));
    return { summary: trace.summary(), shellPid: shell.pid!, output: Buffer.concat(output).toString() };
  } finally {
    trace?.close();
    shell.kill('SIGKILL');
    await cgroup.remove();
  }
}

runs('without a root, only the execve of the program\'s path starts the count, and it is counted', async (t) => {
  // ls runs first (another program, as a runtime's own helper would): not counted.
  const { summary, shellPid, output } = await traceScript('/bin/echo', 'ls / >/dev/null; exec /bin/echo traced');
  t.is(output, 'traced\n');
  t.true(summary.started);
  t.deepEqual(summary.processes.map((p) => [p.pid, p.command]), [[shellPid, 'echo']]);
  t.is(summary.totals.find((s) => s.name === 'execve')?.count, 1, 'the program\'s own execve, nothing before it');
  t.true((summary.totals.find((s) => s.name === 'write')?.count ?? 0) >= 1);
});

runs('without a root, an exec of a longer path that starts the same way does not start the count', async (t) => {
  // /bin/echo is a prefix of /bin/echo-not: the whole name and its length must match.
  const { summary } = await traceScript('/bin/ech', 'exec /bin/echo not traced');
  t.false(summary.started);
  t.deepEqual(summary.totals, []);
});

test('the path compared in the kernel is bounded, and a longer one is refused when the program is built', (t) => {
  const error = t.throws(() => EbpfTrace.start({ cgroupId: 1n, execPath: `/${'x'.repeat(EXEC_PATH_MAX)}` }));
  t.regex(error!.message, /1 to 127 bytes/);
});
