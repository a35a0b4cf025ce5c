// nsrig doctor, run for real on this host: each line agrees with what this test reads from the
// host by other means (getconf, /proc, mountinfo, the runtimes' own --version), the exit status
// follows the required lines, and a prerequisite made to fail (no runc on PATH) shows its fix.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { DoctorReport } from '../../bin/commands/doctor.js';
import type { Prerequisite } from '../../harness/targets/host-prerequisites.js';
import { nsrig, printed } from './nsrig-cli.js';
import { ebpfAvailability } from '../../core/tracer/index.js';

const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-doctor-test-'));
test.after.always(() => fs.rmSync(emptyDir, { recursive: true, force: true }));

function line(report: DoctorReport, id: string): Prerequisite {
  const found = report.prerequisites.find((p) => p.id === id);
  if (found === undefined) throw new Error(`doctor printed no ${id} line: ${report.prerequisites.map((p) => p.id).join(', ')}`);
  return found;
}

function mountinfoTypes(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' - ')[1]!.split(' ')[0]!);
}

/** The host's CLOCK_BOOTTIME, from /proc/uptime with this process's own time-namespace offset taken off. */
function hostBoottime(): number {
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const offset = /^boottime\s+(-?\d+)\s+(\d+)/m.exec(fs.readFileSync('/proc/self/timens_offsets', 'utf8'));
  return uptime - (offset ? Number(offset[1]) + Number(offset[2]) / 1e9 : 0);
}

function runtimeVersion(name: string): string | undefined {
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? /version\s+(\S+)/.exec(r.stdout)?.[1] : undefined;
}

test.serial('doctor --json on this host agrees with the host as read independently', async (t) => {
  const before = hostBoottime();
  const run = await nsrig(['doctor', '--json']);
  const after = hostBoottime();
  t.true(run.code === 0 || run.code === 3, printed(run));
  const report = JSON.parse(run.stdout) as DoctorReport;
  const required = report.prerequisites.filter((p) => p.required);
  t.is(report.ready, required.every((p) => p.state === 'ok'));
  t.is(run.code, report.ready ? 0 : 3, printed(run));

  t.is(line(report, 'root').state, process.getuid?.() === 0 ? 'ok' : 'missing');
  const glibc = spawnSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }).stdout.trim().replace(/^glibc /, '');
  t.is(line(report, 'platform').facts?.glibc, glibc);

  const types = mountinfoTypes();
  const cgroup = line(report, 'cgroup-v2');
  const cgroup2Mount = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => / - cgroup2 /.test(l))?.split(' ')[4];
  t.is(cgroup.facts?.mode, cgroup2Mount === undefined ? (types.includes('cgroup') ? 'v1' : 'unknown') : cgroup2Mount === '/sys/fs/cgroup' ? 'v2' : 'hybrid');
  t.is(cgroup.state, cgroup2Mount === undefined ? 'missing' : 'ok', cgroup.detail);
  if (cgroup.state === 'ok') t.false(fs.existsSync(cgroup.facts!.probe as string), 'the cgroup doctor created is gone');

  const userns = line(report, 'user-namespaces');
  t.is(userns.facts?.maxUserNamespaces, Number(fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8')));
  t.is(userns.state, 'ok', 'this host runs the whole test suite in user namespaces');

  const time = line(report, 'time-namespaces');
  t.is(time.state, fs.existsSync('/proc/self/ns/time') ? 'ok' : 'missing');
  const boottime = time.facts?.boottime as number;
  t.true(boottime >= before - 1 && boottime <= after + 1, `doctor's CLOCK_BOOTTIME ${boottime} s, /proc/uptime ${before}..${after} s`);
  t.regex(time.detail, new RegExp(`down to -${Math.floor(Math.min(boottime, time.facts?.monotonic as number))} s`));

  const actions = fs.readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8').trim().split(/\s+/);
  const nsrigActions = ['kill_process', 'kill_thread', 'trap', 'errno', 'user_notif', 'trace', 'log', 'allow'];
  t.is(line(report, 'seccomp').state, nsrigActions.every((a) => actions.includes(a)) ? 'ok' : 'missing');

  t.is(line(report, 'engine').state, report.ready ? 'ok' : 'missing');

  const ebpf = line(report, 'tracing-ebpf').facts as { btf: boolean; tracefs: { mountedAt: string | null } };
  t.is(ebpf.btf, fs.existsSync('/sys/kernel/btf/vmlinux'));
  t.is(ebpf.tracefs.mountedAt !== null, types.includes('tracefs'));
  const ebpfBackend = ebpfAvailability();
  t.is(line(report, 'tracing-backend').facts?.backend, ebpfBackend.available ? 'ebpf' : line(report, 'tracing-ptrace').state === 'ok' ? 'ptrace' : null);
  if (!ebpfBackend.available) t.true(line(report, 'tracing-backend').detail.includes(ebpfBackend.reason), 'the line says why not eBPF');

  for (const name of ['runc', 'crun']) {
    const runtime = line(report, `runtime:${name}`);
    t.false(runtime.required, `${name} was not asked for`);
    t.not(runtime.state, 'missing', 'a runtime nobody asked for only warns');
    t.is(runtime.facts?.version, runtimeVersion(name) ?? undefined, name);
  }
  const runc = line(report, 'runtime:runc');
  if (runc.facts?.found) {
    // Debian 12's runc 1.1.5 has runc#3911; a runc from 1.1.8 on has not.
    const [major, minor, patch] = (runc.facts.version as string).split(/[.+-]/).map(Number);
    const before118 = major! < 1 || (major === 1 && (minor! < 1 || (minor === 1 && patch! < 8)));
    t.is((runc.facts.knownDefects as { reference: string }[]).some((d) => d.reference === 'opencontainers/runc#3911'), before118);
    if (before118) t.is(runc.state, 'warn');
  }
});

test.serial('without runc on PATH, doctor --runtime runc is not ready (exit 3) and says how to get it', async (t) => {
  const run = await nsrig(['doctor', '--runtime', 'runc'], { env: { ...process.env, PATH: emptyDir } });
  t.is(run.code, 3, printed(run));
  const lines = run.stdout.split('\n');
  const at = lines.findIndex((l) => /^MISSING +runc +runtime "runc" not found on PATH/.test(l));
  t.true(at >= 0, run.stdout);
  t.regex(lines[at + 1]!, /^ +fix: install runc \(.*apt-get install runc.*\) or give its path with --runtime PATH$/);
  t.regex(run.stdout, /^warn +crun +runtime "crun" not found on PATH/m, 'crun, not asked for, only warns');
  t.regex(run.stdout, /^ok +running as root +uid 0$/m);
  t.regex(run.stdout, /nsrig \S+: not ready: runc \(see the MISSING lines and their fixes\)\n$/);
});

test('doctor takes no positional arguments (exit 2)', async (t) => {
  const run = await nsrig(['doctor', 'now']);
  t.is(run.code, 2, printed(run));
  t.regex(run.stderr, /nsrig doctor takes no positional arguments, got now/);
});
