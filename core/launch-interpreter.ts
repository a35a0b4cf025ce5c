// The one loop that carries out a list of launch steps through a Kernel: resolves references to
// earlier results, checks each call's condition on the filesystem, and remembers named results.
// Which kernel it runs on is the caller's choice: libc in stage 2, the launcher's own calls in
// nsrig, a recording in tests and plans. run() is for an executor that answers at once (stage 2,
// whose list ends in execve); runAsync() awaits each answer (the launcher's hooks and release).
import type { Kernel } from './kernel.js';
import type { Condition, KernelCall, Ref, SetupStep } from './setup-steps.js';
import { StepListError } from './launch-error.js';

function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Ref).ref === 'string'
    && Object.keys(value).length === 1;
}

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as Promise<unknown> | undefined)?.then === 'function';

/** Carries out some or all of the calls: an executor need not make every call a list may name. */
export type Executor = Partial<Kernel>;

export class StepRunner {
  private readonly results = new Map<string, unknown>();
  constructor(private readonly kernel: Executor) {}

  private value(ref: Ref, where: string): unknown {
    if (!this.results.has(ref.ref)) throw new StepListError(`${where} refers to "${ref.ref}", which no earlier call produced`);
    return this.results.get(ref.ref);
  }

  /** The words of a text that stand for earlier results (fill), each "/"-separated part that is one replaced. */
  private filled(text: string, fill: Record<string, Ref>, where: string): string {
    return text.split('/').map((part) => (Object.hasOwn(fill, part) ? String(this.value(fill[part]!, `${where} (${part})`)) : part)).join('/');
  }

  /** An argument with its references replaced: itself, or each element of a list. */
  private resolveArg(value: unknown, where: string, fill: Record<string, Ref> | undefined): unknown {
    if (isRef(value)) return this.value(value, where);
    if (fill && typeof value === 'string') return this.filled(value, fill, where);
    if (Array.isArray(value) && value.some(isRef)) return value.map((v, i) => (isRef(v) ? this.value(v, `${where}[${i}]`) : v));
    return value;
  }

  private resolve(c: KernelCall): Record<string, unknown> {
    return Object.fromEntries(Object.entries(c.args).map(([key, value]) => [key, this.resolveArg(value, `${c.call}.${key}`, c.fill)]));
  }

  /** What is at a condition's path, as stat answers; a path an earlier call resolved to null (resolve_in_root: some part missing) is missing. */
  private kindAt(when: Condition): ReturnType<NonNullable<Executor['stat']>> {
    const target = isRef(when.path) ? this.value(when.path, 'when.path') : when.path;
    if (target === null) return 'missing';
    if (!this.kernel.stat) throw new StepListError('a condition needs stat, which this executor does not make');
    return this.kernel.stat({ path: target as string });
  }

  private static met(when: Condition, kind: unknown): boolean {
    return when.is === 'present' ? kind !== 'missing' : kind === when.is;
  }

  private holds(when: Condition): boolean {
    const kind = this.kindAt(when);
    if (isPromise(kind)) throw new StepListError('stat answered later; this list must run with runAsync');
    return StepRunner.met(when, kind);
  }

  private make(c: KernelCall): unknown {
    const fn = this.kernel[c.call] as ((args: Record<string, unknown>) => unknown) | undefined;
    if (typeof fn !== 'function') throw new StepListError(`${String(c.call)} is not a call this executor makes`);
    return fn.call(this.kernel, this.resolve(c));
  }

  private attempt(c: KernelCall, orElse: NonNullable<KernelCall['orElse']>): unknown {
    try {
      return this.make(c);
    } catch (e) {
      if ((e as { code?: unknown }).code !== orElse.code) throw e;
      return this.make(orElse.fallback);
    }
  }

  private async attemptAsync(c: KernelCall, orElse: NonNullable<KernelCall['orElse']>): Promise<unknown> {
    try {
      return await this.make(c);
    } catch (e) {
      if ((e as { code?: unknown }).code !== orElse.code) throw e;
      return this.make(orElse.fallback);
    }
  }

  /** A result is known by the call's out, or without one by the call's own name (the latest such call's). */
  private remember(c: KernelCall, result: unknown): void {
    if (c.out !== undefined) this.results.set(c.out, result);
    else if (result !== undefined) this.results.set(c.call, result);
  }

  /** Runs one step's calls in order; a call whose condition does not hold is skipped. */
  run(step: SetupStep): void {
    for (const c of step.calls) {
      if (c.when && !this.holds(c.when)) continue;
      const result = c.orElse ? this.attempt(c, c.orElse) : this.make(c);
      if (isPromise(result)) throw new StepListError(`${c.call} answered later; this list must run with runAsync`);
      this.remember(c, result);
    }
  }

  /** As run, each call's answer awaited before the next call is made. */
  async runAsync(step: SetupStep): Promise<void> {
    for (const c of step.calls) {
      if (c.when && !StepRunner.met(c.when, await this.kindAt(c.when))) continue;
      const result = await (c.orElse ? this.attemptAsync(c, c.orElse) : this.make(c));
      this.remember(c, result);
    }
  }
}

/** Runs every step in order; before each, tells onStep its name (so a failure can name the step). */
export function runSteps(steps: SetupStep[], kernel: Executor, onStep: (name: string) => void = () => {}): void {
  const runner = new StepRunner(kernel);
  for (const step of steps) {
    onStep(step.name);
    runner.run(step);
  }
}

/** runSteps for an executor whose calls may answer later. */
export async function runStepsAsync(steps: SetupStep[], kernel: Executor, onStep: (name: string) => void = () => {}): Promise<void> {
  const runner = new StepRunner(kernel);
  for (const step of steps) {
    onStep(step.name);
    await runner.runAsync(step);
  }
}
