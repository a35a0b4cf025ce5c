// What syscall tracing needs on this host, each tried: the ptrace tracer (seccomp RET_TRACE stops read
// with ptrace) tracing one real command, and what the eBPF tracer needs (bpf(2), a program on
// the raw_syscalls:sys_enter tracepoint, tracefs, the kernel's BTF). Tracing serves nsrig trace and
// check --trace; without it everything else still works, so these are never required.
import fs from 'node:fs';
import { readMountinfo } from '../../core/cgroup-layout.js';
import type { Prerequisite } from './host-prerequisites.js';
import type { EbpfAvailability } from '../../core/tracer/index.js';

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const TRACEFS_HOME = '/sys/kernel/tracing';
const BTF = '/sys/kernel/btf/vmlinux';

async function ptraceTracer(): Promise<Prerequisite> {
  const id = 'tracing-ptrace';
  const title = 'tracing: ptrace';
  const scope = readText('/proc/sys/kernel/yama/ptrace_scope').trim();
  const facts = { yamaPtraceScope: scope === '' ? null : Number(scope) };
  const fix = scope === '3'
    ? 'Yama forbids ptrace until reboot (kernel.yama.ptrace_scope=3): boot with ptrace_scope 2 or lower'
    : 'see the message: nsrig trace and check --trace need ptrace and seccomp RET_TRACE';
  try {
    const { traceCommand } = await import('../../core/tracer/index.js');
    const result = await traceCommand(['true'], { stdio: 'pipe', timeoutMs: 20_000 });
    const calls = result.totals.reduce((n, c) => n + c.count, 0);
    if (result.exit.code !== 0 || calls === 0) return { id, title, state: 'warn', required: false, detail: `nsrig's tracer saw ${calls} calls of true, which ended with ${JSON.stringify(result.exit)}`, fix, facts };
    return { id, title, state: 'ok', required: false, detail: `nsrig's tracer counted ${calls} system calls of true on the host`, facts: { ...facts, calls } };
  } catch (e) {
    return { id, title, state: 'warn', required: false, detail: `nsrig's tracer could not trace true: ${message(e)}`, fix, facts };
  }
}

interface EbpfFacts {
  bpf: string | true;
  rawTracepoint: string | true;
  tracefs: { mountedAt: string | null; supported: boolean; rawSyscallsEvents: boolean | null };
  btf: boolean;
}

/** bpf(2) and a raw tracepoint program on sys_enter; loaded only here, so a host without koffi still gets the rest. */
async function tryBpf(): Promise<Pick<EbpfFacts, 'bpf' | 'rawTracepoint'>> {
  try {
    const { tryEbpfFacilities } = await import('../../core/tracer/index.js');
    return tryEbpfFacilities();
  } catch (e) {
    return { bpf: message(e), rawTracepoint: 'not tried: bpf(2) is not usable' };
  }
}

function tracefsState(): EbpfFacts['tracefs'] {
  const mount = readMountinfo().find((m) => m.fsType === 'tracefs');
  const supported = /\btracefs$/m.test(readText('/proc/filesystems'));
  if (mount === undefined) return { mountedAt: null, supported, rawSyscallsEvents: null };
  return { mountedAt: mount.mountPoint, supported, rawSyscallsEvents: fs.existsSync(`${mount.mountPoint}/events/raw_syscalls/sys_enter/id`) };
}

async function ebpfPrerequisites(): Promise<Prerequisite> {
  const facts: EbpfFacts = { ...(await tryBpf()), tracefs: tracefsState(), btf: fs.existsSync(BTF) };
  const { tracefs } = facts;
  const parts = [
    facts.bpf === true ? 'bpf(2) creates maps' : `bpf(2) failed: ${facts.bpf}`,
    facts.rawTracepoint === true ? 'a program attaches to raw_syscalls:sys_enter' : `no program on raw_syscalls:sys_enter: ${facts.rawTracepoint}`,
    tracefs.mountedAt !== null
      ? `tracefs at ${tracefs.mountedAt}${tracefs.rawSyscallsEvents ? ' with raw_syscalls events' : ' without raw_syscalls events'}`
      : tracefs.supported ? `tracefs not mounted (not needed: the tracer attaches raw tracepoints by name; mount -t tracefs nodev ${TRACEFS_HOME} for perf tracepoint events)` : 'the kernel has no tracefs (not needed: the tracer attaches raw tracepoints by name)',
    facts.btf ? `BTF at ${BTF}` : `no BTF at ${BTF}`,
  ];
  const fixes = [
    facts.bpf !== true ? 'a kernel with CONFIG_BPF_SYSCALL, run as root' : undefined,
    facts.bpf === true && facts.rawTracepoint !== true ? 'a kernel with CONFIG_BPF_EVENTS and CONFIG_FTRACE_SYSCALLS' : undefined,
    facts.btf ? undefined : 'a kernel built with CONFIG_DEBUG_INFO_BTF',
  ].filter((f): f is string => f !== undefined);
  return {
    id: 'tracing-ebpf', title: 'tracing: eBPF', state: fixes.length === 0 ? 'ok' : 'warn', required: false, detail: parts.join('; '),
    ...(fixes.length ? { fix: fixes.join('; ') } : {}), facts: facts as unknown as Record<string, unknown>,
  };
}

/** Which backend nsrig trace picks on this host (the same test it makes), and why. */
function backend(ptrace: Prerequisite, ebpf: EbpfAvailability): Prerequisite {
  const id = 'tracing-backend';
  const title = 'tracing backend';
  if (ebpf.available) {
    return { id, title, state: 'ok', required: false, detail: 'ebpf: nsrig trace counts in the kernel (raw_syscalls tracepoints, filtered by the container\'s cgroup); --backend ptrace still works', facts: { backend: 'ebpf' } };
  }
  return ptrace.state === 'ok'
    ? { id, title, state: 'ok', required: false, detail: `ptrace, as eBPF is unavailable: ${ebpf.reason}`, facts: { backend: 'ptrace', ebpfUnavailable: ebpf.reason } }
    : { id, title, state: 'warn', required: false, detail: `none: ptrace failed and eBPF is unavailable: ${ebpf.reason}`, fix: ptrace.fix, facts: { backend: null, ebpfUnavailable: ebpf.reason } };
}

export async function examineTracing(): Promise<Prerequisite[]> {
  const ptrace = await ptraceTracer();
  const ebpf = await ebpfPrerequisites();
  const { ebpfAvailability } = await import('../../core/tracer/index.js');
  return [ptrace, ebpf, backend(ptrace, ebpfAvailability())];
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
