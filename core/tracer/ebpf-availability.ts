// Whether this host can trace with eBPF, and if not, the one reason a person can act on. Asked
// before a trace (nsrig trace falls back to ptrace) and by nsrig doctor.
import { readCgroupLayout } from '../cgroup-layout.js';
import { BpfMap, attachRawTracepoint, loadProgram } from '../native/bpf.js';
import { closeFd } from '../native/process.js';
import { Assembler } from '../../policy/ebpf/assembler.js';
import { encode } from '../../policy/ebpf/isa.js';
import { taskTgidOffset } from './btf.js';

export type EbpfAvailability = { available: true } | { available: false; reason: string };

let cached: EbpfAvailability | undefined;

export function ebpfAvailability(): EbpfAvailability {
  cached ??= probe();
  return cached;
}

/** The smallest program there is (r0 = 0; exit), as a raw tracepoint's. */
function emptyProgram(name: string): number {
  const a = new Assembler();
  a.mov64('r0', 0);
  a.exit();
  return loadProgram({ type: 'raw_tracepoint', name, instructions: encode(a.assemble()) });
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * What nsrig doctor reports of bpf(2), each tried for a moment and closed: a map created (true, or
 * why not), and a program attached to raw_syscalls:sys_enter (true, or why not).
 */
export function tryEbpfFacilities(): { bpf: string | true; rawTracepoint: string | true } {
  try {
    BpfMap.create({ type: 'array', name: 'nsrig_doctor', keySize: 4, valueSize: 8, maxEntries: 1 }).close();
  } catch (e) {
    return { bpf: message(e), rawTracepoint: 'not tried: bpf(2) is not usable' };
  }
  try {
    const program = emptyProgram('nsrig_doctor');
    try {
      closeFd(attachRawTracepoint(program, 'sys_enter'));
    } finally {
      closeFd(program);
    }
  } catch (e) {
    return { bpf: true, rawTracepoint: message(e) };
  }
  return { bpf: true, rawTracepoint: true };
}

function probe(): EbpfAvailability {
  if (readCgroupLayout().unifiedMount === undefined) return { available: false, reason: 'no cgroup v2 mount: the eBPF tracer tells containers apart by their cgroup v2 id' };
  try {
    taskTgidOffset();
  } catch (e) {
    return { available: false, reason: (e as Error).message };
  }
  // Loading a raw-tracepoint program needs what the trace needs: bpf(2), CAP_BPF and CAP_PERFMON
  // (or CAP_SYS_ADMIN), and a kernel with BPF_EVENTS.
  try {
    closeFd(emptyProgram('nsrig_probe'));
  } catch (e) {
    return { available: false, reason: `the kernel refuses a raw-tracepoint program: ${(e as Error).message}` };
  }
  return { available: true };
}
