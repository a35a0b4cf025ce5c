// The built-in engine (core/) behind the Target interface.
import { PassThrough, type Readable } from 'node:stream';
import { launchContainer, LaunchError, type Container } from '../../core/container.js';
import { killLiveContainersOnExit } from '../../core/live-containers.js';
import type { ContainerSession, ExitStatus, LaunchRequest, Target, TargetInfo } from '../target.js';
import { TargetError } from '../target.js';
import { hostPrerequisites } from './host-prerequisites.js';
import { Tracer } from '../../core/tracer/index.js';
import { RIG_DIR } from '../probe-rig.js';

const VERSION = '0.1.0';

class BuiltinSession implements ContainerSession {
  constructor(private readonly container: Container, private readonly tracer?: Tracer) {}
  get id(): string {
    return this.container.id;
  }
  get hostPid(): number {
    return this.container.pid;
  }
  get stdout(): Readable {
    return this.container.stdout ?? new PassThrough().end();
  }
  get stderr(): Readable {
    return this.container.stderr ?? new PassThrough().end();
  }
  get stdin() {
    return this.container.stdin;
  }
  async wait(): Promise<ExitStatus> {
    const exit = await this.container.wait();
    return { code: exit.code, signal: exit.signal, timedOut: exit.timedOut };
  }
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.container.kill(signal);
  }
  destroy(): Promise<void> {
    return this.container.destroy();
  }
  async syscalls() {
    if (!this.tracer) return undefined;
    await this.container.destroy();
    return (await this.tracer.finished()).totals;
  }
}

export class BuiltinTarget implements Target {
  constructor() {
    killLiveContainersOnExit();
  }

  async info(): Promise<TargetInfo> {
    return { kind: 'builtin', name: 'builtin', version: VERSION };
  }

  async preflight(): Promise<string[]> {
    return hostPrerequisites();
  }

  async start(request: LaunchRequest): Promise<ContainerSession> {
    const tracer = request.traceSyscalls ? await Tracer.start({ countErrors: true }) : undefined;
    try {
      const container = await launchContainer(request.profile, {
        // The probe runs from there (probe-rig.ts).
        nsrigTreeAt: RIG_DIR,
        args: request.args, stdio: 'pipe', stdin: request.stdin, noNewKeyring: request.noNewKeyring,
        ...(tracer ? { seccompPrograms: [tracer.filter], beforeSetup: (pid: number) => tracer.attach(pid) } : {}),
      });
      return new BuiltinSession(container, tracer);
    } catch (e) {
      if (tracer && !tracer.isAttached) await tracer.abandon();
      if (e instanceof LaunchError) throw new TargetError('builtin', e.message, e.detail ? JSON.stringify(e.detail) : undefined);
      throw e;
    }
  }
}
