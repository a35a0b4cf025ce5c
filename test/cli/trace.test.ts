// nsrig trace on the command line: the backend it picks or is told, policy violations with the
// pid and arguments of the refused calls (eBPF), and a generated policy that round-trips: trace,
// generate, check, enforce, rerun.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nsrig } from './nsrig-cli.js';
import { ebpfAvailability } from '../../core/tracer/index.js';

const EBPF = ebpfAvailability();
if (!EBPF.available) console.log(`eBPF cases skipped: ${EBPF.reason}`);
const withEbpf = EBPF.available ? test.serial : test.serial.skip;

let dir: string;
test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-trace-cli-'));
});
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

// kill is refused outright; socket only for AF_INET (2), so AF_UNIX passes.
const POLICY = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    { names: ['kill'], action: 'SCMP_ACT_ERRNO' },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 2, op: 'SCMP_CMP_EQ' }] },
  ],
};
// Twelve AF_UNIX sockets come first: more than the tracer records of one call, so only a tracer
// that judges the arguments as it records keeps the AF_INET one.
const WORKLOAD = ['sh', '-c', 'kill -0 $$; python3 -S -c "import socket; [socket.socket(socket.AF_UNIX) for _ in range(12)]; socket.socket(socket.AF_INET)"'];

interface TraceJson {
  backend: string;
  processes: { pid: number; command?: string }[];
  violations: { name: string; reason: string; calls?: { pid: number; args: string[] }[] }[];
}

async function traceJson(args: string[]): Promise<{ json: TraceJson; stderr: string }> {
  const policy = path.join(dir, 'policy.json');
  const out = path.join(dir, `out-${args.join('-')}.json`);
  fs.writeFileSync(policy, JSON.stringify(POLICY));
  const r = await nsrig(['trace', ...args, '--policy', policy, '--json', out, '--', ...WORKLOAD]);
  if (r.code !== 0) throw new Error(`nsrig trace exited with ${r.code}: ${r.stderr}`);
  return { json: JSON.parse(fs.readFileSync(out, 'utf8')) as TraceJson, stderr: r.stderr };
}

withEbpf('eBPF: a violation carries the pid and argument registers of each refused call, and only those', async (t) => {
  const { json, stderr } = await traceJson(['--backend', 'ebpf']);
  t.is(json.backend, 'ebpf');
  const [shell] = json.processes;
  const python = json.processes.find((p) => p.command === 'python3')!;
  const kill = json.violations.find((v) => v.name === 'kill')!;
  t.is(kill.reason, 'denied');
  // When a call was counted but not recorded: the violations and processes, on one line.
  if (!kill.calls || !json.violations.find((v) => v.name === 'socket')?.calls) {
    t.log(JSON.stringify({ violations: json.violations, processes: json.processes.map((p) => [p.pid, p.command]) }));
  }
  t.deepEqual(kill.calls?.map((c) => [c.pid, c.args[0], c.args[1]]), [[shell!.pid, String(shell!.pid), '0']]);
  const socket = json.violations.find((v) => v.name === 'socket')!;
  t.is(socket.reason, 'conditional');
  t.deepEqual(socket.calls?.map((c) => [c.pid, c.args[0]]), [[python.pid, '2']], 'the AF_UNIX socket is not a violation');
  t.regex(stderr, new RegExp(`pid ${python.pid}: socket\\(0x2, `));
});

test.serial('ptrace when asked: the same violations, without arguments', async (t) => {
  const { json } = await traceJson(['--backend', 'ptrace']);
  t.is(json.backend, 'ptrace');
  t.deepEqual(json.violations.map((v) => [v.name, v.reason, v.calls]).sort(), [['kill', 'denied', undefined], ['socket', 'conditional', undefined]]);
});

test.serial('without --backend: eBPF where the host allows it, else ptrace with the reason on one line', async (t) => {
  const { json, stderr } = await traceJson([]);
  t.is(json.backend, EBPF.available ? 'ebpf' : 'ptrace');
  if (!EBPF.available) t.regex(stderr, /tracing with ptrace, as eBPF is unavailable: .+/);
  else t.notRegex(stderr, /tracing with ptrace/);
});

test.serial('--backend with another value is a usage error', async (t) => {
  const r = await nsrig(['trace', '--backend', 'dtrace', '--', 'true']);
  t.is(r.code, 2);
  t.regex(r.stderr, /--backend takes ebpf or ptrace; got "dtrace"/);
});

withEbpf('a generated policy round-trips: trace, generate, check (no violations), enforce and rerun', async (t) => {
  const profile = path.join(dir, 'profile.yaml');
  const generated = path.join(dir, 'generated.json');
  const script = 'ls -l /usr/share/doc/bash >/dev/null && echo done';
  fs.writeFileSync(profile, `name: roundtrip\nprocess:\n  args: [/bin/sh, -c, '${script}']\n`);
  const first = await nsrig(['trace', '--backend', 'ebpf', '--profile', profile, '--generate', generated, '--', '/bin/sh', '-c', script]);
  t.is(first.code, 0, first.stderr);
  const check = await nsrig(['trace', '--backend', 'ebpf', '--profile', profile, '--policy', generated, '--', '/bin/sh', '-c', script]);
  t.regex(check.stderr, /no violations of /);
  fs.appendFileSync(profile, `seccomp: ${generated}\n`);
  const enforced = await nsrig(['run', profile]);
  t.deepEqual([enforced.code, enforced.stdout], [0, 'done\n'], enforced.stderr);
});
