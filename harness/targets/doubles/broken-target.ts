// A deliberately broken target for checking the harness itself: it launches on the built-in
// engine, but alters the request first so that exactly one isolation property is lost. The
// harness still judges the observations against the profile it asked for.
import type { ContainerSession, LaunchRequest, ProfileConstraints, Target, TargetInfo, Lifecycle } from '../../target.js';
import { BuiltinTarget } from '../builtin.js';

export interface Breakage {
  /** The double's name, e.g. "shares-host-uts". */
  name: string;
  /** What it breaks, in one sentence. */
  breaks: string;
  /** The invariants meant to catch it: each must fail on this double. */
  caughtBy: string[];
  /** Invariants the breakage must leave holding (unrelated properties). */
  unaffected: string[];
  /** The altered launch; it receives a deep copy of the profile, so it may change it in place. */
  alter(request: LaunchRequest): LaunchRequest;
  /** The engine the double launches on, when it breaks the engine itself rather than the launch; the built-in engine when absent. */
  engine?(): Target;
}

export class BrokenTarget implements Target {
  private readonly inner: Target;

  constructor(readonly breakage: Breakage, inner?: Target) {
    this.inner = inner ?? breakage.engine?.() ?? new BuiltinTarget();
  }

  async info(): Promise<TargetInfo> {
    const inner = await this.inner.info();
    return { kind: 'double', name: `${inner.name}/${this.breakage.name}`, version: inner.version };
  }

  preflight(): Promise<string[]> {
    return this.inner.preflight();
  }

  constraints(): Promise<ProfileConstraints> {
    return this.inner.constraints?.() ?? Promise.resolve({ excludeNamespaces: [] });
  }

  lifecycles(): readonly Lifecycle[] {
    return this.inner.lifecycles?.() ?? ['run'];
  }

  joinExecutables(): Promise<string[]> {
    return this.inner.joinExecutables?.() ?? Promise.resolve([]);
  }

  start(request: LaunchRequest): Promise<ContainerSession> {
    return this.inner.start(this.breakage.alter({ ...request, profile: structuredClone(request.profile) }));
  }
}
