// Kernel helper functions by name (enum bpf_func_id in uapi/linux/bpf.h). Only the ones nsrig's
// programs call or a person reading a program is likely to meet; a call to another number
// disassembles as `call 123`.
export const HELPERS = {
  map_lookup_elem: 1,
  map_update_elem: 2,
  map_delete_elem: 3,
  probe_read: 4,
  ktime_get_ns: 5,
  trace_printk: 6,
  get_prandom_u32: 7,
  get_smp_processor_id: 8,
  tail_call: 12,
  get_current_pid_tgid: 14,
  get_current_uid_gid: 15,
  get_current_comm: 16,
  perf_event_output: 25,
  get_current_task: 35,
  probe_read_str: 45,
  get_current_cgroup_id: 80,
  probe_read_user: 112,
  probe_read_kernel: 113,
  probe_read_user_str: 114,
  probe_read_kernel_str: 115,
  ringbuf_output: 130,
  ringbuf_reserve: 131,
  ringbuf_submit: 132,
  ringbuf_discard: 133,
} as const;

export type HelperName = keyof typeof HELPERS;

const NAMES: ReadonlyMap<number, string> = new Map(Object.entries(HELPERS).map(([name, id]) => [id, name]));

export function helperName(id: number): string | undefined {
  return NAMES.get(id);
}

export function helperId(name: string): number | undefined {
  return (HELPERS as Readonly<Record<string, number>>)[name];
}
