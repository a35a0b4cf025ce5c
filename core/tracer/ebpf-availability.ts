// Whether this host can trace with eBPF, and if not, the one reason a person can act on. Asked
// before a trace (nsrig trace falls back to ptrace) and by nsrig doctor.
import { readCgroupLayout } from '../cgroup-layout.js';
import { closeFd, loadProgram } from '../native/bpf.js';
import { Assembler } from '../../policy/ebpf/assembler.js';
import { encode } from '../../policy/ebpf/isa.js';
import { taskTgidOffset } from './btf.js';

export type EbpfAvailability = { available: true } | { available: false; reason: string };

let cached: EbpfAvailability | undefined;

export function ebpfAvailability(): EbpfAvailability {
  cached ??= probe();
  return cached;
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
  const a = new Assembler();
  a.mov64('r0', 0);
  a.exit();
  try {
    closeFd(loadProgram({ type: 'raw_tracepoint', name: 'nsrig_probe', instructions: encode(a.assemble()) }));
  } catch (e) {
    return { available: false, reason: `the kernel refuses a raw-tracepoint program: ${(e as Error).message}` };
  }
  return { available: true };
}
