// Counting the system calls of an OCI runtime's container, as `nsrig check --trace` does for the
// built-in engine. No runtime tells us its container's cgroup before it starts the program, so
// nsrig makes the cgroup v2 directory first and names it in the bundle (linux.cgroupsPath); the
// eBPF tracer filters on that directory's id and starts counting at the execve of the program's
// path (process.args[0]), not at the runtime's own init re-executing itself in the cgroup.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Profile } from '../../../policy/profile/types.js';
import { ContainerCgroup } from '../../../core/cgroup.js';
import { sweepDeadOwnersCgroupsOnce } from '../../../core/cgroup-dead-owners.js';
import { readCgroupLayout } from '../../../core/cgroup-layout.js';
import { EbpfTrace } from '../../../core/tracer/ebpf-trace.js';
import { ebpfAvailability } from '../../../core/tracer/index.js';
import { UnsupportedHostError } from '../../../core/native/syscall-error.js';
import type { SyscallTotals } from '../../scenario.js';

/** Why a container of this profile cannot be traced here, or undefined when it can. */
export function untraceableReason(profile: Profile, args: readonly string[]): string | undefined {
  const ebpf = ebpfAvailability();
  if (!ebpf.available) return `OCI runtimes are traced with eBPF, unavailable here: ${ebpf.reason}`;
  if (!path.isAbsolute(args[0] ?? '')) return `the program ${JSON.stringify(args[0])} is not an absolute path, so its execve cannot be told from the runtime's`;
  if (profile.cgroupsPath !== undefined) return 'the profile chooses its own cgroupsPath; the trace needs one nsrig makes';
  return undefined;
}

export class TracedCgroup {
  private totals: SyscallTotals | undefined;
  private closed = false;

  private constructor(private readonly cgroup: ContainerCgroup, private readonly trace: EbpfTrace, readonly cgroupsPath: string) {}

  /**
   * Makes the cgroup and starts the trace. Named as the engine names its cgroups, at the top of
   * the cgroup2 mount, so a run SIGKILLed meanwhile has it swept by the next one.
   */
  static start(execPath: string): TracedCgroup {
    const root = readCgroupLayout().unifiedMount;
    if (root === undefined) throw new UnsupportedHostError('no cgroup2 mount to make the traced container\'s cgroup in');
    sweepDeadOwnersCgroupsOnce();
    const name = `nsrig-${process.pid}-${randomBytes(6).toString('hex')}`;
    fs.mkdirSync(path.join(root, name));
    const cgroup = ContainerCgroup.adopt(path.join(root, name));
    try {
      const trace = EbpfTrace.start({ cgroupId: fs.statSync(cgroup.dir, { bigint: true }).ino, execPath });
      return new TracedCgroup(cgroup, trace, `/${name}`);
    } catch (e) {
      fs.rmdirSync(cgroup.dir);
      throw e;
    }
  }

  /** The profile the bundle is written from: the same, in this cgroup. */
  place(profile: Profile): Profile {
    return { ...profile, cgroupsPath: this.cgroupsPath };
  }

  /**
   * After the runtime has deleted the container: reads the counts once every task has left the
   * cgroup, detaches the programs and removes the directory (when the runtime has not).
   */
  async finish(): Promise<void> {
    if (this.closed) return;
    try {
      this.cgroup.killAll();
      await this.cgroup.remove();
      const summary = this.trace.summary();
      if (summary.started && summary.lost === 0) this.totals = summary.totals;
    } finally {
      this.closeNow();
    }
  }

  /** Process exit: detach and remove what can be removed without waiting. */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.trace.close();
    try {
      fs.rmdirSync(this.cgroup.dir);
    } catch {
      // removed by the runtime, or still populated: the next run's sweep takes it
    }
  }

  /** The program's calls, from its execve on; undefined when the trace never saw it start. */
  result(): SyscallTotals | undefined {
    return this.totals;
  }
}
