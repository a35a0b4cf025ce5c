// The eBPF tracer's four programs, on raw tracepoints. Each first drops every task outside the
// traced cgroup; what is left is counted in per-CPU maps, so a traced call never waits for nsrig.
//
// When the count starts (the `state` map, phase by phase), so that it covers what strace -f -c
// covers, from the program's execve on:
//   0 idle     stage 2 (Node, in the container's cgroup) sets up; nothing counts. Its main thread
//              ends this phase with a marker call, close(START_MARKER), right before its execve.
//   1 armed    the first execve/execveat of the root process (of any task when no root is known:
//              an OCI runtime's init, and then only the execve of the program's path, so that
//              a runtime re-executing itself does not start it) starts the count, and is counted.
//   2 exec'ing the other threads of the exec'ing process (Node's, a Go runtime's) are being killed
//              by that execve: their calls and failures are not the program's.
//   3 running  everything in the cgroup counts; sched_process_exec of the root moved it here.
//
// Maps: counts {tgid, nr} → {calls, errors} (per-CPU hash); procs tgid → {first seen, parent,
// comm}; lost (per-CPU array) counts calls that found the counts table full; watch nr → how many
// more calls of nr to sample, and samples (nr * SAMPLES_PER_CALL + i) → {tgid, nr, registers},
// for the calls a checked policy refuses: a call the policy refuses only for some arguments is
// judged in the program, by the policy's own conditions on its argument registers, so the calls it
// lets through (socket(AF_UNIX) in every shell before the one socket(AF_INET)) spend no sample.
import { Assembler, type Label } from '../../policy/ebpf/assembler.js';
import type { Instruction } from '../../policy/ebpf/isa.js';
import type { RefusalRules } from '../../policy/seccomp/violating-calls.js';
import type { ResolvedCondition } from '../../policy/seccomp/resolve.js';
import { syscallNumber } from '../../policy/kernel/syscall-table.js';

export const PHASE = { idle: 0, armed: 1, execing: 2, running: 3 } as const;
/** close(2) of this fd number (EBADF) is stage 2's sign that its next execve is the program's. */
export const START_MARKER = 0x6e737267;
export const SAMPLES_PER_CALL = 8;
/** x86_64 numbers below this can be sampled (the table ends in the 400s). */
export const SAMPLED_NUMBERS = 512;

export const STATE = { phase: 0, root: 4, execTid: 8, size: 16 } as const;
export const COUNT_KEY_SIZE = 8;
export const COUNT_VALUE = { calls: 0, errors: 8, size: 16 } as const;
export const PROC_VALUE = { firstSeen: 0, parent: 8, comm: 16, size: 32 } as const;
/** A sample: tgid, nr, then pt_regs from r10 to di (the six argument registers among them). */
export const SAMPLE_VALUE = { tgid: 0, nr: 4, regs: 8, size: 8 + 72 } as const;
/** Byte offsets in struct pt_regs (x86_64) and where the argument registers land in a sample. */
const PT_REGS = { r10: 56, si: 104, di: 112, origAx: 120 } as const;
const ARG_REGISTERS = [112, 104, 96, 56, 72, 64].map((o) => o - PT_REGS.r10);
export const SAMPLE_ARG_OFFSETS = ARG_REGISTERS.map((o) => SAMPLE_VALUE.regs + o);
/** Where sys_enter reads a watched call's registers (r10 to di) to judge them, then copies them. */
const REGS_BUFFER = -112;
const REGS_SIZE = SAMPLE_VALUE.size - SAMPLE_VALUE.regs;

const EXECVE = syscallNumber('execve', 'x86_64')!;
const EXECVEAT = syscallNumber('execveat', 'x86_64')!;
const CLOSE = syscallNumber('close', 'x86_64')!;
const BPF_NOEXIST = 1;

export interface ProgramOptions {
  cgroupId: bigint;
  /**
   * Without a root: the path whose execve (or execveat) starts the count, as the caller gave it
   * to the kernel (an OCI config's process.args[0], absolute). Other execs in the cgroup do not.
   */
  execPath?: string;
  /** Sample the arguments of watched calls (the watch and samples maps exist). */
  sampling: boolean;
  /** Per x86_64 number, which of its calls are sampled; a watched number not here: every call. */
  sampleWhen?: ReadonlyMap<number, RefusalRules>;
  /** offsetof(struct task_struct, tgid), for the fork program. */
  taskTgidOffset: number;
}

/** The longest execPath the sys_enter program compares (bytes, without the NUL). */
export const EXEC_PATH_MAX = 127;
const PATH_BUFFER = -176;
const PATH_POINTER = -184;

/**
 * Out unless this execve/execveat (r9) names `path`: the user string read into a zeroed stack
 * buffer, then compared 8 bytes at a time with the path, NUL-padded, as immediates. An execveat
 * by descriptor (a runtime re-executing itself from a memfd) names "" and never matches.
 * Needs r6 ctx, r9 nr; clobbers r0-r5.
 */
function onlyExecOf(a: Assembler, path: string, out: Label): void {
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length === 0 || bytes.length > EXEC_PATH_MAX || bytes.includes(0)) {
    throw new RangeError(`the traced program's path must be 1 to ${EXEC_PATH_MAX} bytes without NUL; got ${JSON.stringify(path)}`);
  }
  const padded = Buffer.alloc(EXEC_PATH_MAX + 1);
  bytes.copy(padded);
  const chunks = Math.ceil((bytes.length + 1) / 8);
  for (let i = 0; i < (EXEC_PATH_MAX + 1) / 8; i++) a.st('DW', 'r10', PATH_BUFFER + 8 * i, 0);
  const pointerRead = a.label('path_pointer');
  // execve(filename, ...) has it in di, execveat(dirfd, pathname, ...) in si.
  a.ldx('DW', 'r3', 'r6', 0);
  a.add64('r3', PT_REGS.di);
  a.jump('jne', 'r9', EXECVEAT, pointerRead);
  a.add64('r3', PT_REGS.si - PT_REGS.di);
  a.place(pointerRead);
  a.mov64('r1', 'r10');
  a.add64('r1', PATH_POINTER);
  a.mov64('r2', 8);
  a.call('probe_read_kernel');
  a.jump('jne', 'r0', 0, out);
  a.mov64('r1', 'r10');
  a.add64('r1', PATH_BUFFER);
  a.mov64('r2', EXEC_PATH_MAX + 1);
  a.ldx('DW', 'r3', 'r10', PATH_POINTER);
  a.call('probe_read_user_str');
  // The string's length with its NUL: a longer or shorter name is another program.
  a.jump('jne', 'r0', bytes.length + 1, out);
  for (let i = 0; i < chunks; i++) {
    a.ldx('DW', 'r1', 'r10', PATH_BUFFER + 8 * i);
    a.ldImm64('r2', padded.readBigUInt64LE(8 * i));
    a.jump('jne', 'r1', 'r2', out);
  }
}

/**
 * On to `take` when the call (r9) is one the policy refuses with the arguments in the registers at
 * REGS_BUFFER, else `out`: the rules of each conditional number in their order, as seccomp's
 * filter takes them, comparing 64-bit registers unsigned. Numbers without rules go to `take`.
 */
function onlyRefused(a: Assembler, sampleWhen: ReadonlyMap<number, RefusalRules> | undefined, take: Label, out: Label): void {
  const judged = [...(sampleWhen ?? [])].map(([nr, rules]) => ({ nr, rules, at: a.label(`refused_${nr}`) }));
  for (const { nr, at } of judged) a.jump('jeq', 'r9', nr, at);
  a.ja(take);
  for (const { rules, at } of judged) {
    a.place(at);
    for (const rule of rules.rules) {
      const next = a.label();
      for (const c of rule.conditions) unlessHolds(a, c, next);
      a.ja(rule.refuses ? take : out);
      a.place(next);
    }
    a.ja(rules.otherwise ? take : out);
  }
}

/** Jumps to `fails` unless condition `c` holds for the argument at REGS_BUFFER. Clobbers r1, r2. */
function unlessHolds(a: Assembler, c: ResolvedCondition, fails: Label): void {
  const register = ARG_REGISTERS[c.index];
  if (register === undefined) throw new RangeError(`a seccomp condition names argument ${c.index}; system calls have 6 (0 to 5)`);
  a.ldx('DW', 'r1', 'r10', REGS_BUFFER + register);
  a.ldImm64('r2', c.value);
  switch (c.op) {
    case 'SCMP_CMP_EQ': return a.jump('jne', 'r1', 'r2', fails);
    case 'SCMP_CMP_NE': return a.jump('jeq', 'r1', 'r2', fails);
    case 'SCMP_CMP_LT': return a.jump('jge', 'r1', 'r2', fails);
    case 'SCMP_CMP_LE': return a.jump('jgt', 'r1', 'r2', fails);
    case 'SCMP_CMP_GE': return a.jump('jlt', 'r1', 'r2', fails);
    case 'SCMP_CMP_GT': return a.jump('jle', 'r1', 'r2', fails);
    case 'SCMP_CMP_MASKED_EQ':
      a.alu64('and', 'r1', 'r2');
      a.ldImm64('r2', c.valueTwo);
      return a.jump('jne', 'r1', 'r2', fails);
  }
}

/** r0 = cgroup id; out unless it is the traced one. Clobbers r1-r5. */
function onlyTracedCgroup(a: Assembler, cgroupId: bigint, out: Label): void {
  a.call('get_current_cgroup_id');
  a.ldImm64('r1', cgroupId);
  a.jump('jne', 'r0', 'r1', out);
}

/** r8 = &state; out when missing (never: an array). */
function loadState(a: Assembler, out: Label): void {
  a.st('W', 'r10', -4, 0);
  a.lookup('state', -4);
  a.jump('jeq', 'r0', 0, out);
  a.mov64('r8', 'r0');
}

function finish(a: Assembler, out: Label): void {
  a.place(out);
  a.mov64('r0', 0);
  a.exit();
}

/** lost[0] += 1 */
function countLost(a: Assembler, out: Label): void {
  a.st('W', 'r10', -4, 0);
  a.lookup('lost', -4);
  a.jump('jeq', 'r0', 0, out);
  a.mov64('r1', 1);
  a.atomic('add', 'DW', 'r0', 0, 'r1');
}

/** procs[key at r10-4] = value at r10-40, unless the process is already there. */
function insertProcess(a: Assembler): void {
  a.ldMap('r1', 'procs');
  a.mov64('r2', 'r10');
  a.add64('r2', -4);
  a.mov64('r3', 'r10');
  a.add64('r3', -40);
  a.mov64('r4', BPF_NOEXIST);
  a.call('map_update_elem');
}

/** raw_syscalls:sys_enter (ctx: struct pt_regs *regs, long id). r6 ctx, r7 pid_tgid, r8 state, r9 nr. */
export function sysEnterProgram(o: ProgramOptions): Instruction[] {
  const a = new Assembler();
  const out = a.label('out');
  const count = a.label('count');
  const armed = a.label('armed');
  const execing = a.label('execing');
  const exec = a.label('exec');
  const claimRoot = a.label('claim_root');
  const sameRoot = a.label('same_root');
  const startExec = a.label('start_exec');
  const insert = a.label('insert');
  const sample = a.label('sample');
  const lost = a.label('lost');

  a.mov64('r6', 'r1');
  a.ldx('DW', 'r9', 'r6', 8);
  onlyTracedCgroup(a, o.cgroupId, out);
  a.call('get_current_pid_tgid');
  a.mov64('r7', 'r0');
  loadState(a, out);
  a.ldx('W', 'r1', 'r8', STATE.phase);
  a.jump('jeq', 'r1', PHASE.running, count);
  // r2 root tgid, r3 this tgid, r4 this tid
  a.ldx('W', 'r2', 'r8', STATE.root);
  a.mov64('r3', 'r7');
  a.alu64('rsh', 'r3', 32);
  a.alu32('mov', 'r4', 'r7');
  a.jump('jeq', 'r1', PHASE.execing, execing);
  a.jump('jeq', 'r1', PHASE.armed, armed);

  // idle: only the root's main thread, calling close(START_MARKER), moves on
  a.jump('jne', 'r3', 'r2', out);
  a.jump('jne', 'r4', 'r2', out);
  a.jump('jne', 'r9', CLOSE, out);
  a.ldx('DW', 'r3', 'r6', 0);
  a.add64('r3', PT_REGS.di);
  a.mov64('r1', 'r10');
  a.add64('r1', -16);
  a.mov64('r2', 8);
  a.call('probe_read_kernel');
  a.jump('jne', 'r0', 0, out);
  a.ldx('DW', 'r1', 'r10', -16);
  a.jump('jne', 'r1', START_MARKER, out);
  a.st('W', 'r8', STATE.phase, PHASE.armed);
  a.ja(out);

  a.place(armed);
  a.jump('jeq', 'r9', EXECVE, exec);
  a.jump('jeq', 'r9', EXECVEAT, exec);
  a.ja(out);
  a.place(exec);
  if (o.execPath !== undefined) {
    a.jump('jne', 'r2', 0, sameRoot);
    onlyExecOf(a, o.execPath, out);
    // The helpers took r1-r5: this task's tgid and tid again.
    a.mov64('r3', 'r7');
    a.alu64('rsh', 'r3', 32);
    a.alu32('mov', 'r4', 'r7');
    a.ja(claimRoot);
  }
  a.place(sameRoot);
  a.jump('jeq', 'r2', 0, claimRoot);
  a.jump('jne', 'r3', 'r2', out);
  a.ja(startExec);
  a.place(claimRoot);
  a.stx('W', 'r8', STATE.root, 'r3');
  a.place(startExec);
  a.stx('W', 'r8', STATE.execTid, 'r4');
  a.st('W', 'r8', STATE.phase, PHASE.execing);
  a.ja(count);

  a.place(execing);
  a.jump('jne', 'r3', 'r2', count);
  a.ldx('W', 'r5', 'r8', STATE.execTid);
  a.jump('jne', 'r4', 'r5', out);

  // counts[{tgid, nr}].calls += 1, creating the entry on the process's first call of nr
  a.place(count);
  a.mov64('r1', 'r7');
  a.alu64('rsh', 'r1', 32);
  a.stx('W', 'r10', -16, 'r1');
  a.stx('W', 'r10', -12, 'r9');
  a.lookup('counts', -16);
  a.jump('jeq', 'r0', 0, insert);
  a.mov64('r1', 1);
  a.atomic('add', 'DW', 'r0', COUNT_VALUE.calls, 'r1');
  a.ja(sample);
  a.place(insert);
  a.st('DW', 'r10', -32, 1);
  a.st('DW', 'r10', -24, 0);
  a.ldMap('r1', 'counts');
  a.mov64('r2', 'r10');
  a.add64('r2', -16);
  a.mov64('r3', 'r10');
  a.add64('r3', -32);
  a.mov64('r4', BPF_NOEXIST);
  a.call('map_update_elem');
  a.jump('jeq', 'r0', 0, sample);
  // Another task on this CPU inserted the same key in between (preempted): add to its entry.
  a.lookup('counts', -16);
  a.jump('jeq', 'r0', 0, lost);
  a.mov64('r1', 1);
  a.atomic('add', 'DW', 'r0', COUNT_VALUE.calls, 'r1');
  a.ja(sample);
  a.place(lost);
  countLost(a, out);
  a.ja(out);

  a.place(sample);
  if (o.sampling) {
    const take = a.label('take');
    // watch[nr] is how many more calls of nr to sample; most calls read 0 here and stop.
    a.jump('jge', 'r9', SAMPLED_NUMBERS, out);
    a.stx('W', 'r10', -4, 'r9');
    a.lookup('watch', -4);
    a.jump('jeq', 'r0', 0, out);
    a.ldx('W', 'r1', 'r0', 0);
    a.jump32('jsle', 'r1', 0, out);
    // The registers, read once: judged first, then kept as the sample.
    a.mov64('r1', 'r10');
    a.add64('r1', REGS_BUFFER);
    a.mov64('r2', REGS_SIZE);
    a.ldx('DW', 'r3', 'r6', 0);
    a.add64('r3', PT_REGS.r10);
    a.call('probe_read_kernel');
    a.jump('jne', 'r0', 0, out);
    onlyRefused(a, o.sampleWhen, take, out);
    a.place(take);
    a.stx('W', 'r10', -4, 'r9');
    a.lookup('watch', -4);
    a.jump('jeq', 'r0', 0, out);
    a.mov64('r1', -1);
    a.atomic('fetch_add', 'W', 'r0', 0, 'r1');
    a.jump32('jsle', 'r1', 0, out);
    // slot = nr * SAMPLES_PER_CALL + (SAMPLES_PER_CALL - budget before this call)
    a.mov64('r2', SAMPLES_PER_CALL);
    a.alu32('sub', 'r2', 'r1');
    a.mov64('r3', 'r9');
    a.alu32('mul', 'r3', SAMPLES_PER_CALL);
    a.alu32('add', 'r3', 'r2');
    a.stx('W', 'r10', -4, 'r3');
    a.lookup('samples', -4);
    a.jump('jeq', 'r0', 0, out);
    a.mov64('r1', 'r7');
    a.alu64('rsh', 'r1', 32);
    a.stx('W', 'r0', SAMPLE_VALUE.tgid, 'r1');
    a.stx('W', 'r0', SAMPLE_VALUE.nr, 'r9');
    for (let off = 0; off < REGS_SIZE; off += 8) {
      a.ldx('DW', 'r1', 'r10', REGS_BUFFER + off);
      a.stx('DW', 'r0', SAMPLE_VALUE.regs + off, 'r1');
    }
  }
  finish(a, out);
  return a.assemble();
}

/** raw_syscalls:sys_exit (ctx: struct pt_regs *regs, long ret): a failed return adds an error. */
export function sysExitProgram(o: ProgramOptions): Instruction[] {
  const a = new Assembler();
  const out = a.label('out');
  const counted = a.label('counted');
  a.mov64('r6', 'r1');
  a.ldx('DW', 'r9', 'r6', 8);
  // Failures are -4095..-1; everything else returns here, before any helper call.
  a.jump('jsgt', 'r9', -1, out);
  a.jump('jslt', 'r9', -4095, out);
  onlyTracedCgroup(a, o.cgroupId, out);
  a.call('get_current_pid_tgid');
  a.mov64('r7', 'r0');
  loadState(a, out);
  a.ldx('W', 'r1', 'r8', STATE.phase);
  a.jump('jeq', 'r1', PHASE.running, counted);
  a.jump('jne', 'r1', PHASE.execing, out);
  // While the execve runs, only the exec'ing thread of the root process is the program.
  a.mov64('r3', 'r7');
  a.alu64('rsh', 'r3', 32);
  a.ldx('W', 'r2', 'r8', STATE.root);
  a.jump('jne', 'r3', 'r2', counted);
  a.alu32('mov', 'r4', 'r7');
  a.ldx('W', 'r5', 'r8', STATE.execTid);
  a.jump('jne', 'r4', 'r5', out);
  a.place(counted);
  // The call number is regs->orig_ax.
  a.ldx('DW', 'r3', 'r6', 0);
  a.add64('r3', PT_REGS.origAx);
  a.mov64('r1', 'r10');
  a.add64('r1', -8);
  a.mov64('r2', 8);
  a.call('probe_read_kernel');
  a.jump('jne', 'r0', 0, out);
  a.mov64('r1', 'r7');
  a.alu64('rsh', 'r1', 32);
  a.stx('W', 'r10', -16, 'r1');
  a.ldx('W', 'r1', 'r10', -8);
  a.stx('W', 'r10', -12, 'r1');
  a.lookup('counts', -16);
  // No entry: the call began before the count did.
  a.jump('jeq', 'r0', 0, out);
  a.mov64('r1', 1);
  a.atomic('add', 'DW', 'r0', COUNT_VALUE.errors, 'r1');
  finish(a, out);
  return a.assemble();
}

/** sched:sched_process_fork (ctx: parent task, child task): a new process is recorded with its parent. */
export function forkProgram(o: ProgramOptions): Instruction[] {
  const a = new Assembler();
  const out = a.label('out');
  a.mov64('r6', 'r1');
  onlyTracedCgroup(a, o.cgroupId, out);
  loadState(a, out);
  a.ldx('W', 'r1', 'r8', STATE.phase);
  a.jump('jlt', 'r1', PHASE.execing, out);
  a.ldx('DW', 'r3', 'r6', 8);
  a.add64('r3', o.taskTgidOffset);
  a.mov64('r1', 'r10');
  a.add64('r1', -4);
  a.mov64('r2', 4);
  a.call('probe_read_kernel');
  a.jump('jne', 'r0', 0, out);
  a.call('get_current_pid_tgid');
  a.alu64('rsh', 'r0', 32);
  a.ldx('W', 'r1', 'r10', -4);
  // A new thread of the same process is not a new process.
  a.jump('jeq', 'r1', 'r0', out);
  a.stx('W', 'r10', -40 + PROC_VALUE.parent, 'r0');
  a.st('W', 'r10', -40 + PROC_VALUE.parent + 4, 0);
  a.call('ktime_get_ns');
  a.stx('DW', 'r10', -40 + PROC_VALUE.firstSeen, 'r0');
  // Its comm is its parent's until it execs.
  a.mov64('r1', 'r10');
  a.add64('r1', -40 + PROC_VALUE.comm);
  a.mov64('r2', 16);
  a.call('get_current_comm');
  insertProcess(a);
  finish(a, out);
  return a.assemble();
}

/**
 * sched:sched_process_exec, run by the task after a successful exec: the root's exec ends phase 2
 * (its other threads are gone by now), and the process's comm becomes the new program's. The
 * root itself was never forked in the cgroup: its entry is made here.
 */
export function execProgram(o: ProgramOptions): Instruction[] {
  const a = new Assembler();
  const out = a.label('out');
  const record = a.label('record');
  const update = a.label('update');
  a.mov64('r6', 'r1');
  onlyTracedCgroup(a, o.cgroupId, out);
  loadState(a, out);
  a.ldx('W', 'r1', 'r8', STATE.phase);
  a.jump('jlt', 'r1', PHASE.execing, out);
  a.call('get_current_pid_tgid');
  a.alu64('rsh', 'r0', 32);
  a.stx('W', 'r10', -4, 'r0');
  a.ldx('W', 'r2', 'r8', STATE.root);
  a.jump('jne', 'r0', 'r2', record);
  a.st('W', 'r8', STATE.phase, PHASE.running);
  a.place(record);
  a.lookup('procs', -4);
  a.jump('jne', 'r0', 0, update);
  a.call('ktime_get_ns');
  a.stx('DW', 'r10', -40 + PROC_VALUE.firstSeen, 'r0');
  a.st('DW', 'r10', -40 + PROC_VALUE.parent, 0);
  a.st('DW', 'r10', -40 + PROC_VALUE.comm, 0);
  a.st('DW', 'r10', -40 + PROC_VALUE.comm + 8, 0);
  insertProcess(a);
  a.lookup('procs', -4);
  a.jump('jeq', 'r0', 0, out);
  a.place(update);
  a.mov64('r1', 'r0');
  a.add64('r1', PROC_VALUE.comm);
  a.mov64('r2', 16);
  a.call('get_current_comm');
  finish(a, out);
  return a.assemble();
}
