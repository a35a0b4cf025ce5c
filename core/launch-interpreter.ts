// The one loop that carries out a list of setup steps through a Kernel: resolves references to
// earlier results, checks each call's condition on the filesystem, and remembers named results.
// Which kernel it runs on is the caller's choice: libc in stage 2, a recording in tests and plans.
import type { Kernel } from './kernel.js';
import type { Condition, KernelCall, Ref, SetupStep } from './setup-steps.js';
import { StepListError } from './launch-error.js';

function isRef(value: unknown): value is Ref {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as Ref).ref === 'string'
    && Object.keys(value).length === 1;
}


export class StepRunner {
  private readonly results = new Map<string, unknown>();
  constructor(private readonly kernel: Kernel) {}

  private value(ref: Ref, where: string): unknown {
    if (!this.results.has(ref.ref)) throw new StepListError(`${where} refers to "${ref.ref}", which no earlier call produced`);
    return this.results.get(ref.ref);
  }

  /** An argument with its references replaced: itself, or each element of a list. */
  private resolveArg(value: unknown, where: string): unknown {
    if (isRef(value)) return this.value(value, where);
    if (Array.isArray(value) && value.some(isRef)) return value.map((v, i) => (isRef(v) ? this.value(v, `${where}[${i}]`) : v));
    return value;
  }

  private resolve(c: KernelCall): Record<string, unknown> {
    return Object.fromEntries(Object.entries(c.args).map(([key, value]) => [key, this.resolveArg(value, `${c.call}.${key}`)]));
  }

  /** A path an earlier call resolved to null (resolve_in_root: some part missing) is missing. */
  private holds(when: Condition): boolean {
    const target = isRef(when.path) ? this.value(when.path, 'when.path') : when.path;
    const kind = target === null ? 'missing' : this.kernel.stat({ path: target as string });
    return when.is === 'present' ? kind !== 'missing' : kind === when.is;
  }

  private make(c: KernelCall): unknown {
    const fn = this.kernel[c.call] as (args: Record<string, unknown>) => unknown;
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

  /** Runs one step's calls in order; a call whose condition does not hold is skipped. */
  run(step: SetupStep): void {
    for (const c of step.calls) {
      if (c.when && !this.holds(c.when)) continue;
      const result = c.orElse ? this.attempt(c, c.orElse) : this.make(c);
      if (c.out !== undefined) this.results.set(c.out, result);
    }
  }
}

/** Runs every step in order; before each, tells onStep its name (so a failure can name the step). */
export function runSteps(steps: SetupStep[], kernel: Kernel, onStep: (name: string) => void = () => {}): void {
  const runner = new StepRunner(kernel);
  for (const step of steps) {
    onStep(step.name);
    runner.run(step);
  }
}
