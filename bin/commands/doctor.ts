// nsrig doctor: every prerequisite of this host, found by trying it, with its state and its fix.
// The built-in engine's prerequisites are the ones nsrig check's preflight refuses to start
// without; tracing and the runtimes on PATH are reported, and required only when asked for.
import { parseArgs } from 'node:util';
import { examineHost, type Prerequisite } from '../../harness/targets/host-prerequisites.js';
import { examineTracing } from '../../harness/targets/tracing-prerequisites.js';
import { examineRuntime } from '../../harness/targets/oci/runtime-prerequisites.js';
import { TOOL_VERSION } from '../../harness/tool-version.js';
import { killLiveContainersOnExit } from '../../core/live-containers.js';
import { EXIT, exitOnInterrupt, UsageError } from '../usage.js';

const DEFAULT_RUNTIMES = ['runc', 'crun'];
const MARK: Record<Prerequisite['state'], string> = { ok: 'ok', warn: 'warn', missing: 'MISSING' };

export interface DoctorReport {
  tool: string;
  /** Every required prerequisite holds: nsrig check can run (on each --runtime asked for). */
  ready: boolean;
  prerequisites: Prerequisite[];
}

export async function examine(requiredRuntimes: string[]): Promise<DoctorReport> {
  const prerequisites = [...(await examineHost()), ...(await examineTracing())];
  const runtimes = [...new Set([...DEFAULT_RUNTIMES, ...requiredRuntimes])];
  for (const runtime of runtimes) prerequisites.push(await examineRuntime(runtime, requiredRuntimes.includes(runtime)));
  return { tool: `nsrig ${TOOL_VERSION}`, ready: !prerequisites.some((p) => p.required && p.state === 'missing'), prerequisites };
}

export function formatReport(report: DoctorReport): string {
  const width = Math.max(...report.prerequisites.map((p) => p.title.length));
  const lines = report.prerequisites.flatMap((p) => [
    `${MARK[p.state].padEnd(7)} ${p.title.padEnd(width)}  ${p.detail}`,
    ...(p.state !== 'ok' && p.fix !== undefined ? [`${' '.repeat(8 + width)}  fix: ${p.fix}`] : []),
  ]);
  const missing = report.prerequisites.filter((p) => p.required && p.state === 'missing');
  const verdict = report.ready
    ? 'ready: nsrig check can run here'
    : `not ready: ${missing.map((p) => p.title).join(', ')} (see the MISSING lines and their fixes)`;
  return `${lines.join('\n')}\n\n${report.tool}: ${verdict}\n`;
}

export async function doctor(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: { json: { type: 'boolean' }, runtime: { type: 'string', multiple: true } },
  });
  if (positionals.length) throw new UsageError(`nsrig doctor takes no positional arguments, got ${positionals.join(' ')}`);
  // Doctor starts containers of its own (the engine, the tracer, each runtime).
  killLiveContainersOnExit();
  exitOnInterrupt();
  const report = await examine(values.runtime ?? []);
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.ready ? EXIT.OK : EXIT.HOST;
}
