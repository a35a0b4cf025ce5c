// nsrig check --trace on OCI runtimes: the first case of each invariant comes back with the
// syscall profile of the program alone (eBPF, filtered on a cgroup nsrig made and named in the
// bundle), counted from the program's execve (the trace arms on that path, so a runtime that
// re-executes itself inside the cgroup, as later runc versions may, is not counted either).
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { nsrig, printed } from './nsrig-cli.js';
import { ebpfAvailability } from '../../core/tracer/index.js';
import { readCgroupLayout } from '../../core/cgroup-layout.js';

const EBPF = ebpfAvailability();
const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

let dir: string;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-check-trace-oci-'));
});
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Profiled { syscallProfiles?: { caseId: string; syscalls: { name: string; count: number; errors: number }[] }[] }

/** Traced containers' cgroups (named nsrig-PID-HEX at the top of the cgroup2 mount) whose nsrig is gone. */
function staleTracedCgroups(): string[] {
  const root = readCgroupLayout().unifiedMount;
  if (root === undefined) return [];
  return fs.readdirSync(root).filter((n) => {
    const pid = /^nsrig-(\d+)-[0-9a-f]{12}$/.exec(n)?.[1];
    return pid !== undefined && !fs.existsSync(`/proc/${pid}`);
  });
}

for (const runtime of [['runc'], ['crun', '--prepare-host']]) {
  const [name] = runtime as [string];
  const why = !EBPF.available ? `eBPF unavailable: ${EBPF.reason}` : !onPath(name) ? `${name} not on PATH` : undefined;
  if (why) console.log(`check --trace on ${name}: skipped, ${why}`);
  (why ? test.serial.skip : test.serial)(`${name}: the first case's syscall profile is the probe's own, from its execve on`, async (t) => {
    const out = path.join(dir, `${name}.json`);
    const run = await nsrig(['check', '--runtime', ...runtime, '--trace', '--only', 'pid.host-signal-refused', '--runs', '1', '--seed', '1', '--json', out]);
    t.is(run.code, 0, printed(run));
    const [profile] = (JSON.parse(fs.readFileSync(out, 'utf8')) as Profiled).syscallProfiles ?? [];
    t.is(profile?.caseId, 'pid.host-signal-refused#1', printed(run));
    const call = (n: string) => profile?.syscalls.find((s) => s.name === n);
    t.like(call('execve'), { count: 1, errors: 0 }, 'the program\'s execve alone: not the runtime re-executing itself');
    t.like(call('kill'), { count: 1, errors: 1 }, 'the probe\'s one signal to a host pid, refused');
    t.deepEqual(staleTracedCgroups(), [], 'the traced cgroup is gone with the container');
  });
}
