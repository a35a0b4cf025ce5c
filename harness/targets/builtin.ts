// The built-in engine (core/) behind the Target interface.
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { launchContainer, LaunchError, type Container } from '../../core/container.js';
import { killLiveContainersOnExit } from '../../core/live-containers.js';
import { ExecError, execInContainer } from '../../core/container-exec.js';
import { terminalStreams, type TerminalStreams } from '../../core/container-console.js';
import type { ContainerSession, ExecRequest, ExecSession, ExitStatus, LaunchRequest, Lifecycle, LifecycleRecord, ReportedState, Target, TargetInfo } from '../target.js';
import { LIFECYCLES, TargetError } from '../target.js';
import { processArgs } from '../host-facts.js';
import { hostPrerequisites } from './host-prerequisites.js';
import { Tracer } from '../../core/tracer/index.js';
import { RIG_DIR } from '../probe-rig.js';

const VERSION = '0.1.0';
/** After the program ends, how long a pty another process still holds may take to hang up. */
const TERMINAL_GRACE_MS = 2_000;

/** The engine's states by the runtime-spec's names, as `state` would report them. */
function specStatus(container: Container): string {
  return container.state === 'exited' ? 'stopped' : container.state;
}

/** The engine's state of a container as `state` would report it: pid while it has one, the bundle its hooks are told. */
function reportedState(container: Container): ReportedState {
  return { status: specStatus(container), ...(container.state === 'exited' ? {} : { pid: container.pid }), ...(container.bundle === undefined ? {} : { bundle: container.bundle }) };
}

/** How the engine is driven; the defaults are the engine's own. */
export interface BuiltinOptions {
  /**
   * Run an exec's stage 2 from this host file instead of the engine's sealed copy of Node: only a
   * deliberately broken double (harness/targets/doubles) sets it, and it is then one of
   * joinExecutables().
   */
  stage2From?: () => { path: string; fd: number };
}

class BuiltinSession implements ContainerSession {
  private deleted = false;
  /** With process.terminal the program's stdio is its pty: what it reports comes through there. */
  private readonly terminal: TerminalStreams | undefined;
  constructor(private readonly container: Container, stdin: LaunchRequest['stdin'], private readonly tracer?: Tracer, readonly lifecycle?: LifecycleRecord,
    private readonly options: BuiltinOptions = {}) {
    const master = container.takeConsole();
    this.terminal = master === undefined ? undefined : terminalStreams(master);
    // Nothing to read: the program's terminal input ends at once, as /dev/null's would.
    if (stdin === 'null') this.terminal?.input.end();
  }
  get id(): string {
    return this.container.id;
  }
  get hostPid(): number {
    return this.container.pid;
  }
  get stdout(): Readable {
    return this.terminal?.output ?? this.container.stdout ?? new PassThrough().end();
  }
  get stderr(): Readable {
    return this.container.stderr ?? new PassThrough().end();
  }
  get stdin(): Writable | undefined {
    if (this.terminal === undefined) return this.container.stdin;
    return this.terminal.input.writableEnded ? undefined : this.terminal.input;
  }
  async wait(): Promise<ExitStatus> {
    const exit = await this.container.wait();
    // What the program wrote to its terminal may still be in the pty: read it all before saying it ended.
    await this.terminal?.finish(TERMINAL_GRACE_MS);
    return { code: exit.code, signal: exit.signal, timedOut: exit.timedOut };
  }
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    this.container.kill(signal);
  }
  async destroy(): Promise<void> {
    this.deleted = true;
    try {
      await this.container.destroy();
    } finally {
      this.terminal?.close();
    }
  }
  async exec(request: ExecRequest): Promise<ExecSession> {
    // Refused rather than half-done: the engine hands over no descriptor and makes no sub-cgroup.
    if (request.preserveFd !== undefined) throw new TargetError('builtin', 'exec: preserving a descriptor is not supported by the engine');
    if (request.subCgroup !== undefined) throw new TargetError('builtin', 'exec: a sub-cgroup (exec --cgroup) is not supported by the engine');
    try {
      const stage2 = this.options.stage2From?.();
      const joined = await execInContainer(this.container, { args: request.args, env: request.env, cwd: request.cwd, user: request.user },
        stage2 ? { stage2Executable: stage2.fd } : {});
      return {
        hostPid: joined.pid, stdout: joined.stdout, stderr: joined.stderr,
        wait: async () => ({ ...(await joined.wait()), timedOut: false }),
      };
    } catch (e) {
      if (e instanceof ExecError) throw new TargetError('builtin', `exec into ${this.container.id}: ${e.message}`, e.detail ? JSON.stringify(e.detail) : undefined);
      throw e;
    }
  }
  /**
   * The engine tears a container down as soon as its program ends (Container.wait); until the
   * caller destroys the session it is still this session's stopped container, as a runtime keeps
   * a stopped one until `delete`.
   */
  async state(): Promise<ReportedState | undefined> {
    if (this.deleted) return undefined;
    if (this.container.state === 'destroyed') return { status: 'stopped', ...(this.container.bundle === undefined ? {} : { bundle: this.container.bundle }) };
    return reportedState(this.container);
  }
  async syscalls() {
    if (!this.tracer) return undefined;
    await this.container.destroy();
    return (await this.tracer.finished()).totals;
  }
}

export class BuiltinTarget implements Target {
  constructor(private readonly options: BuiltinOptions = {}) {
    killLiveContainersOnExit();
  }

  /** Stage 2 of an exec is Node: the host's own, copied into a sealed memfd, unless a double says otherwise. */
  async joinExecutables(): Promise<string[]> {
    return [this.options.stage2From?.().path ?? process.execPath];
  }

  async info(): Promise<TargetInfo> {
    return { kind: 'builtin', name: 'builtin', version: VERSION };
  }

  async preflight(): Promise<string[]> {
    return hostPrerequisites();
  }

  lifecycles(): readonly Lifecycle[] {
    return LIFECYCLES;
  }

  async start(request: LaunchRequest): Promise<ContainerSession> {
    const tracer = request.traceSyscalls ? await Tracer.start({ countErrors: true }) : undefined;
    // create-start: the engine's create is all of setup up to the startContainer hooks (stage 2 holds
    // there, createContainer run and root pivoted), start the resume.
    // It has no configuration file: the profile was compiled at create, so an edit has nothing to
    // change; and no bundle directory of its own.
    let created: LifecycleRecord['created'] | undefined;
    const createStart = request.lifecycle === 'create-start' ? {
      created: (container: Container) => {
        created = { ...reportedState(container), initArgs: processArgs(container.pid) ?? [] };
        request.beforeStart?.(container.pid);
      },
    } : {};
    try {
      const container = await launchContainer(request.profile, {
        // The probe runs from there (probe-rig.ts).
        nsrigTreeAt: RIG_DIR,
        args: request.args, stdio: 'pipe', stdin: request.stdin, noNewKeyring: request.noNewKeyring,
        ...(tracer ? { seccompPrograms: [tracer.filter], beforeSetup: (pid: number) => tracer.attach(pid) } : {}),
        ...createStart,
      });
      const record = created && { bundle: undefined, created, started: reportedState(container) };
      return new BuiltinSession(container, request.stdin, tracer, record, this.options);
    } catch (e) {
      if (tracer && !tracer.isAttached) await tracer.abandon();
      if (e instanceof LaunchError) throw new TargetError('builtin', e.message, e.detail ? JSON.stringify(e.detail) : undefined);
      throw e;
    }
  }
}
