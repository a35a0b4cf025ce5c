// nsrig trace: count a workload's system calls (in a container from a profile, or on the host),
// check them against a policy, and write a least-privilege policy from them.
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ebpfAvailability, traceCommand, traceContainer, type TraceBackend, type TraceResult } from '../../core/tracer/index.js';
import { LaunchError } from '../../core/container.js';
import { SIGNALS } from '../../policy/kernel/signals.js';
import { loadProfile } from '../../policy/load-profile.js';
import {
  callsPolicyMayRefuse, checkTrace, formatPolicy, generatePolicy, loadPolicyFile, withViolatingCalls, type ViolationWithCalls,
} from '../../policy/seccomp/index.js';
import { EXIT, UsageError } from '../usage.js';
import { exitCodeForLaunchError } from './run.js';
import { warnOnStderr } from '../warnings.js';

function summaryTable(result: TraceResult): string {
  const rows = [...result.totals].sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
  const total = rows.reduce((n, r) => n + r.count, 0);
  const errors = rows.reduce((n, r) => n + r.errors, 0);
  const line = (calls: string, errs: string, name: string) => `${calls.padStart(9)} ${errs.padStart(9)} ${name}`;
  return [
    line('calls', 'errors', 'syscall'),
    line('---------', '---------', '----------------'),
    ...rows.map((r) => line(String(r.count), r.errors ? String(r.errors) : '', r.name)),
    line('---------', '---------', '----------------'),
    line(String(total), String(errors), `total (${result.processes.length} processes)`),
  ].join('\n');
}

const hex = (decimal: string) => `0x${BigInt(decimal).toString(16)}`;

function describeViolations(violations: ViolationWithCalls[], result: TraceResult): string {
  return violations.map((v) => {
    const pids = result.processes
      .map((p) => ({ pid: p.pid, command: p.command, count: p.syscalls.find((s) => s.name === v.name)?.count ?? 0 }))
      .filter((p) => p.count > 0)
      .map((p) => `${p.pid}${p.command ? ` (${p.command})` : ''} ×${p.count}`);
    const calls = (v.calls ?? []).map((c) => `\n  pid ${c.pid}: ${v.name}(${c.args.map(hex).join(', ')})`).join('');
    return `violation: ${v.name} ×${v.count} — ${v.reason === 'denied' ? `the policy answers ${v.outcome}` : `allowed only for some arguments, else ${v.outcome}`}; by ${pids.join(', ')}${calls}`;
  }).join('\n');
}

const USAGE = 'usage: nsrig trace [--backend ebpf|ptrace] [--profile P] [--policy POL] [--json F] [--generate OUT.json] -- CMD ARGS...';

/** The backend asked for, or eBPF where this host allows it and ptrace (saying why) where not. */
function chooseBackend(asked: string | undefined): TraceBackend | { refused: string } {
  if (asked !== undefined && asked !== 'ebpf' && asked !== 'ptrace') throw new UsageError(`--backend takes ebpf or ptrace; got ${JSON.stringify(asked)}\n${USAGE}`);
  if (asked === 'ptrace') return 'ptrace';
  const ebpf = ebpfAvailability();
  if (ebpf.available) return 'ebpf';
  if (asked === 'ebpf') return { refused: `nsrig trace: this host cannot trace with eBPF: ${ebpf.reason}` };
  process.stderr.write(`nsrig trace: tracing with ptrace, as eBPF is unavailable: ${ebpf.reason}\n`);
  return 'ptrace';
}

export async function trace(args: string[]): Promise<number> {
  const dash = args.indexOf('--');
  if (dash < 0 || dash === args.length - 1) throw new UsageError(USAGE);
  const { values } = parseArgs({
    args: args.slice(0, dash), strict: true,
    options: { backend: { type: 'string' }, profile: { type: 'string' }, policy: { type: 'string' }, json: { type: 'string' }, generate: { type: 'string' } },
  });
  const backend = chooseBackend(values.backend);
  if (typeof backend !== 'string') {
    process.stderr.write(`${backend.refused}\n`);
    return EXIT.HOST;
  }
  const command = args.slice(dash + 1);
  const policy = values.policy ? loadPolicyFile(values.policy) : undefined;
  const profile = values.profile ? loadProfile(values.profile, warnOnStderr) : undefined;

  const capabilities = profile?.process.capabilities.bounding ?? [];
  const ctx = { arch: 'x86_64' as const, capabilities, kernel: os.release() };
  // With eBPF, the calls the policy may refuse are recorded (pid, arguments) as they happen.
  const sampleCalls = policy && backend === 'ebpf' ? callsPolicyMayRefuse(policy, ctx) : undefined;
  let result: TraceResult;
  try {
    // The policy is checked against the trace, not enforced: the workload runs to its end.
    result = profile
      ? await traceContainer(profile, { args: command, stdio: 'inherit', stdin: 'null', backend, sampleCalls })
      : await traceCommand(command, { stdio: 'inherit', backend, sampleCalls });
  } catch (e) {
    if (!(e instanceof LaunchError)) throw e;
    process.stderr.write(`nsrig trace: ${e.message}\n`);
    return exitCodeForLaunchError(e);
  }
  process.stderr.write(`${summaryTable(result)}\n`);
  const violations = policy ? withViolatingCalls(checkTrace(policy, result.totals, ctx), result.samples ?? [], policy, ctx) : [];
  if (policy) process.stderr.write(violations.length ? `${describeViolations(violations, result)}\n` : `no violations of ${values.policy}\n`);
  if (values.generate) {
    fs.writeFileSync(values.generate, formatPolicy(generatePolicy(result.totals)));
    process.stderr.write(`policy: ${values.generate}\n`);
  }
  if (values.json) {
    const json = { command, profile: values.profile ?? null, backend: result.backend, exit: result.exit, totals: result.totals, processes: result.processes, violations };
    fs.writeFileSync(values.json, `${JSON.stringify(json, null, 2)}\n`);
  }
  const exit = result.exit;
  return exit.code ?? 128 + (SIGNALS[exit.signal ?? 'SIGKILL'] ?? 9);
}
