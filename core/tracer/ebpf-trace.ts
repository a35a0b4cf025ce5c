// One eBPF trace: the maps, the four programs of ebpf-programs.ts loaded and attached to raw
// tracepoints, and, once the cgroup is empty, the counts read back as the ptrace tracer reports
// them. Every fd it opens is closed by close(), also when starting fails half-way; the kernel
// detaches everything when nsrig dies, so a SIGKILL leaves nothing behind either.
import fs from 'node:fs';
import path from 'node:path';
import { encode } from '../../policy/ebpf/isa.js';
import { AUDIT_ARCH_X86_64 } from '../../policy/kernel/syscall-table.js';
import type { RefusalRules } from '../../policy/seccomp/violating-calls.js';
import { BpfMap, attachRawTracepoint, loadProgram, type MapSpec } from '../native/bpf.js';
import { closeFd } from '../native/process.js';
import { readCgroupLayout, readProcessCgroups } from '../cgroup-layout.js';
import { taskTgidOffset } from './btf.js';
import {
  COUNT_KEY_SIZE, COUNT_VALUE, PHASE, PROC_VALUE, SAMPLE_ARG_OFFSETS, SAMPLE_VALUE, SAMPLED_NUMBERS, SAMPLES_PER_CALL, STATE,
  execProgram, forkProgram, sysEnterProgram, sysExitProgram, type ProgramOptions,
} from './ebpf-programs.js';
import { ProcessTally, summarize, syscallKey, type SyscallCount, type TracedProcess } from './syscall-tally.js';
import { UnsupportedHostError } from '../native/syscall-error.js';

/** Room for this many distinct (process, call) pairs; a trace that needs more reports the calls it lost. */
const COUNT_ENTRIES = 1 << 16;
const PROCESS_ENTRIES = 1 << 14;

export interface EbpfTraceOptions {
  /** The cgroup v2 id (its directory's inode number) whose tasks are traced. */
  cgroupId: bigint;
  /**
   * Host pid of the process whose execve starts the count after its close(START_MARKER) (nsrig's
   * stage 2); absent when the first execve in the cgroup starts it (an OCI runtime's init).
   */
  root?: number;
  /** Without a root: only the execve of this path starts the count (see ProgramOptions.execPath). */
  execPath?: string;
  /**
   * x86_64 numbers of calls whose arguments are sampled: the first SAMPLES_PER_CALL of each, or
   * with refusedWhen, the first of those the rules refuse.
   */
  sampleCalls?: readonly { nr: number; refusedWhen?: RefusalRules }[];
}

/** The arguments of one call, as the kernel saw them at entry. */
export interface CallSample {
  pid: number;
  nr: number;
  args: bigint[];
}

export interface EbpfSummary {
  processes: TracedProcess[];
  totals: SyscallCount[];
  started: boolean;
  samples: CallSample[];
  /** Calls that found the counts table full and were not counted (0 in any trace that fits). */
  lost: number;
}

/** The cgroup v2 id of a process: the inode of its directory under the cgroup2 mount. */
export function cgroupIdOf(pid: number): bigint {
  const unified = readProcessCgroups(pid).unified;
  const mount = readCgroupLayout().unifiedMount;
  if (unified === undefined || mount === undefined) throw new UnsupportedHostError(`process ${pid} has no cgroup v2 (no "0::" line in /proc/${pid}/cgroup or no cgroup2 mount)`);
  return fs.statSync(path.join(mount, unified), { bigint: true }).ino;
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

export class EbpfTrace {
  private readonly maps = new Map<string, BpfMap>();
  private readonly programs: number[] = [];
  private readonly links: number[] = [];

  private constructor(private readonly options: EbpfTraceOptions) {}

  /** Creates the maps, loads and attaches the programs; on any failure closes what it opened and throws. */
  static start(options: EbpfTraceOptions): EbpfTrace {
    const trace = new EbpfTrace(options);
    try {
      trace.setUp();
    } catch (e) {
      trace.close();
      throw e;
    }
    return trace;
  }

  private createMap(spec: MapSpec): BpfMap {
    const m = BpfMap.create(spec);
    this.maps.set(spec.name, m);
    return m;
  }

  private setUp(): void {
    const sampling = (this.options.sampleCalls?.length ?? 0) > 0;
    const state = this.createMap({ type: 'array', name: 'state', keySize: 4, valueSize: STATE.size, maxEntries: 1 });
    this.createMap({ type: 'percpu_hash', name: 'counts', keySize: COUNT_KEY_SIZE, valueSize: COUNT_VALUE.size, maxEntries: COUNT_ENTRIES });
    this.createMap({ type: 'hash', name: 'procs', keySize: 4, valueSize: PROC_VALUE.size, maxEntries: PROCESS_ENTRIES });
    this.createMap({ type: 'percpu_array', name: 'lost', keySize: 4, valueSize: 8, maxEntries: 1 });
    if (sampling) {
      const watch = this.createMap({ type: 'array', name: 'watch', keySize: 4, valueSize: 4, maxEntries: SAMPLED_NUMBERS });
      this.createMap({ type: 'array', name: 'samples', keySize: 4, valueSize: SAMPLE_VALUE.size, maxEntries: SAMPLED_NUMBERS * SAMPLES_PER_CALL });
      for (const { nr } of this.options.sampleCalls!) if (nr >= 0 && nr < SAMPLED_NUMBERS) watch.update(u32(nr), u32(SAMPLES_PER_CALL));
    }
    const initial = Buffer.alloc(STATE.size);
    initial.writeUInt32LE(this.options.root === undefined ? PHASE.armed : PHASE.idle, STATE.phase);
    initial.writeUInt32LE(this.options.root ?? 0, STATE.root);
    state.update(u32(0), initial);

    const fds = new Map([...this.maps].map(([name, m]) => [name, m.fd]));
    const o: ProgramOptions = {
      cgroupId: this.options.cgroupId, sampling, taskTgidOffset: taskTgidOffset(),
      sampleWhen: new Map((this.options.sampleCalls ?? []).flatMap((c) => (c.refusedWhen ? [[c.nr, c.refusedWhen] as const] : []))),
      ...(this.options.root === undefined && this.options.execPath !== undefined ? { execPath: this.options.execPath } : {}),
    };
    // Exit, fork and exec first: by the time sys_enter can start the count, they are all listening.
    const programs = [
      ['nsrig_sys_exit', 'sys_exit', sysExitProgram(o)],
      ['nsrig_fork', 'sched_process_fork', forkProgram(o)],
      ['nsrig_exec', 'sched_process_exec', execProgram(o)],
      ['nsrig_sys_enter', 'sys_enter', sysEnterProgram(o)],
    ] as const;
    for (const [name, tracepoint, program] of programs) {
      const fd = loadProgram({ type: 'raw_tracepoint', name, instructions: encode(program, fds) });
      this.programs.push(fd);
      this.links.push(attachRawTracepoint(fd, tracepoint));
    }
  }

  private map(name: string): BpfMap {
    return this.maps.get(name)!;
  }

  /** Reads the counts. Call it once the cgroup is empty: a task still running would keep counting. */
  summary(): EbpfSummary {
    const counts = this.map('counts');
    const tallies = new Map<number, ProcessTally>();
    for (const key of counts.keys()) {
      const value = counts.lookup(key);
      if (value === undefined) continue;
      const tgid = key.readUInt32LE(0);
      const nr = key.readUInt32LE(4);
      let calls = 0;
      let errors = 0;
      for (const cpu of counts.perCpuValues(value)) {
        calls += Number(cpu.readBigUInt64LE(COUNT_VALUE.calls));
        errors += Number(cpu.readBigUInt64LE(COUNT_VALUE.errors));
      }
      let tally = tallies.get(tgid);
      if (tally === undefined) tallies.set(tgid, (tally = new ProcessTally(tgid)));
      const c = tally.counter(syscallKey(AUDIT_ARCH_X86_64, nr));
      c.count += calls;
      c.errors += errors;
    }
    const firstSeen = new Map<number, bigint>();
    const procs = this.map('procs');
    for (const key of procs.keys()) {
      const tgid = key.readUInt32LE(0);
      const value = procs.lookup(key);
      const tally = tallies.get(tgid);
      if (value === undefined || tally === undefined) continue;
      firstSeen.set(tgid, value.readBigUInt64LE(PROC_VALUE.firstSeen));
      const parent = value.readUInt32LE(PROC_VALUE.parent);
      if (parent !== 0 && tallies.has(parent)) tally.parent = parent;
      const comm = value.subarray(PROC_VALUE.comm, PROC_VALUE.comm + 16);
      const end = comm.indexOf(0);
      if (end !== 0) tally.command = comm.toString('utf8', 0, end < 0 ? 16 : end);
    }
    const never = 2n ** 64n;
    const ordered = [...tallies.values()].sort((a, b) => {
      const d = (firstSeen.get(a.pid) ?? never) - (firstSeen.get(b.pid) ?? never);
      return d < 0n ? -1 : d > 0n ? 1 : a.pid - b.pid;
    });
    const state = this.map('state').lookup(u32(0))!;
    const lostMap = this.map('lost');
    const lost = lostMap.perCpuValues(lostMap.lookup(u32(0))!).reduce((n, b) => n + Number(b.readBigUInt64LE(0)), 0);
    return { ...summarize(ordered), started: state.readUInt32LE(STATE.phase) >= PHASE.execing, samples: this.samples(), lost };
  }

  private samples(): CallSample[] {
    const samples = this.maps.get('samples');
    if (samples === undefined) return [];
    const out: CallSample[] = [];
    for (const { nr } of this.options.sampleCalls ?? []) {
      for (let i = 0; i < SAMPLES_PER_CALL && nr < SAMPLED_NUMBERS; i++) {
        const v = samples.lookup(u32(nr * SAMPLES_PER_CALL + i));
        if (v === undefined || v.readUInt32LE(SAMPLE_VALUE.tgid) === 0) break;
        out.push({ pid: v.readUInt32LE(SAMPLE_VALUE.tgid), nr: v.readUInt32LE(SAMPLE_VALUE.nr), args: SAMPLE_ARG_OFFSETS.map((o) => v.readBigUInt64LE(o)) });
      }
    }
    return out;
  }

  /** Detaches the programs and frees the maps. Idempotent. */
  close(): void {
    for (const fd of this.links.splice(0)) closeFd(fd);
    for (const fd of this.programs.splice(0)) closeFd(fd);
    for (const m of this.maps.values()) m.close();
    this.maps.clear();
  }
}
