// One container run by an OCI runtime. Its session directory (mkdtemp nsrig-bundle-*) is the
// bundle (config.json, rootfs) and holds, under runtime/, the private state root, the runtime's
// JSON log and the pid file. Teardown kills, deletes with --force and removes the directory on
// every path, including a runtime that failed or hung.
//
// Telling "the runtime refused" from "the program failed": `run --pid-file` writes the pid file
// only once the container's program has started. A runtime that exits without having written it
// never started the program, so start() rejects with TargetError and the runtime's own last
// error-level log message; a program that fails after that is the program's exit status.
// With the create-start lifecycle, `create` runs under a shim that adopts the init and exits as
// `run` would (create-start-shim.ts), and `start` follows once the created state checks out
// (create-then-start.ts).
//
// With process.terminal a runtime refuses to run in the foreground without a terminal of its own,
// so the container is always created under the shim with a console socket nsrig listens on
// (core/container-console.ts): the pty master it sends becomes the session's stdout and stdin
// before `start`, so the program runs with its terminal already in line-data mode.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { TargetError, type ContainerSession, type ExecRequest, type ExitStatus, type LaunchRequest, type LifecycleRecord, type ReportedState } from '../../target.js';
import { writeBundle, type Bundle } from './bundle-writer.js';
import { RuntimeDriver } from './runtime-driver.js';
import { describeFailure, killGroup } from './runtime-command.js';
import { lastRuntimeError, readRuntimeLog } from './runtime-log.js';
import { trackSession, untrackSession, type SyncTeardown } from './live-sessions.js';
import { recordOwner, removeSessionDir, SESSION_DIR_PREFIX } from './session-dir.js';
import { startOciExec, type OciExec } from './oci-exec.js';
import { TracedCgroup, untraceableReason } from './traced-cgroup.js';
import { removeContainerCgroups } from './runtime-cgroups.js';
import type { SyscallTotals } from '../../scenario.js';
import { createReport, reported, startCreated, type CreateOutcome } from './create-then-start.js';
import { listenForConsole, terminalStreams, type ConsoleSocketListener, type TerminalStreams } from '../../../core/container-console.js';

export interface SessionTimeouts {
  /** How long the runtime may take to start the program. */
  startMs: number;
  /** Each kill, delete or state command. */
  commandMs: number;
  /** After asking the runtime for SIGKILL, how long until its process group and the container are SIGKILLed directly. */
  killGraceMs: number;
}

interface RuntimeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  spawnError?: string;
}

type StartOutcome = { started: true; pid: number } | { started: false; why: string };

let sequence = 0;

function containerId(): string {
  sequence += 1;
  return `nsrig-oci-${process.pid}-${sequence}-${randomBytes(3).toString('hex')}`;
}

const STDERR_KEPT_BYTES = 64 * 1024;

export class OciSession implements ContainerSession, SyncTeardown {
  readonly id = containerId();
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable | undefined;
  private pid: number | undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<RuntimeExit>;
  private exit: RuntimeExit | undefined;
  private timedOut = false;
  private timer: NodeJS.Timeout | undefined;
  private destroying: Promise<void> | undefined;
  private readonly startStderr: Buffer[] = [];
  /** Runtime processes of `exec`, killed with the container. */
  private readonly execs: OciExec[] = [];
  private record: LifecycleRecord | undefined;
  /** With process.terminal: the program's pty, once the runtime has sent its master. */
  private terminal: TerminalStreams | undefined;

  /** Writes the bundle, runs the runtime, and resolves once the program has started. */
  static async start(target: string, binary: string, request: LaunchRequest, timeouts: SessionTimeouts): Promise<OciSession> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), SESSION_DIR_PREFIX));
    let traced: TracedCgroup | undefined;
    // A profile that cannot be traced here runs untraced: syscalls() then answers undefined.
    const args = request.args ?? request.profile.process.args;
    try {
      if (request.traceSyscalls && untraceableReason(request.profile, args) === undefined) traced = TracedCgroup.start(args[0]!);
    } catch (error) {
      removeSessionDir(dir);
      throw new TargetError(target, `could not set up the syscall trace: ${(error as Error).message}`);
    }
    let bundle: Bundle;
    try {
      bundle = writeBundle(traced ? traced.place(request.profile) : request.profile, dir, { probe: true, ...(request.args === undefined ? {} : { args: request.args }) });
    } catch (error) {
      traced?.closeNow();
      removeSessionDir(dir);
      throw new TargetError(target, `could not write the bundle: ${(error as Error).message}`);
    }
    let session: OciSession;
    let console: ConsoleSocketListener | undefined;
    try {
      const driver = new RuntimeDriver(binary, path.join(dir, 'runtime'), timeouts.commandMs);
      try {
        if (request.profile.process.terminal === true) console = listenForConsole(path.join(driver.dir, 'console.sock'));
      } catch (error) {
        throw new TargetError(target, `could not listen on a console socket for the container's terminal: ${(error as Error).message}`);
      }
      session = new OciSession(target, driver, bundle, request, timeouts, traced, console);
    } catch (error) {
      console?.close();
      traced?.closeNow();
      removeSessionDir(dir);
      if (error instanceof TargetError) throw error;
      throw new TargetError(target, `could not run ${binary}: ${(error as Error).message}`);
    }
    const outcome = await session.launched;
    if (outcome.started) {
      session.armTimeout(request.profile.process.timeoutMs);
      return session;
    }
    const detail = session.failureDetail();
    const problems = await session.teardown();
    const cleanup = problems.length === 0 ? '' : ` (and cleanup failed: ${problems.join('; ')})`;
    throw new TargetError(target, `${outcome.why}${cleanup}`, detail);
  }

  private readonly launched: Promise<StartOutcome>;

  private constructor(
    private readonly target: string,
    private readonly driver: RuntimeDriver,
    readonly bundle: Bundle,
    request: LaunchRequest,
    private readonly timeouts: SessionTimeouts,
    private readonly traced?: TracedCgroup,
    private readonly console?: ConsoleSocketListener,
  ) {
    const createStart = request.lifecycle === 'create-start' || console !== undefined;
    // Watch before spawning, so the pid file's arrival cannot be missed.
    const watcher = createStart ? undefined : fs.watch(driver.dir);
    recordOwner(driver.dir, driver.binary, driver.stateRoot, this.id);
    this.child = createStart
      ? driver.spawnCreate(bundle.dir, this.id, console === undefined ? request.stdin : 'null', console?.path)
      : driver.spawnRun(bundle.dir, this.id, request.stdin);
    trackSession(this);
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => this.recordExit({ code: null, signal: null, spawnError: e.message }, resolve));
      this.child.on('exit', (code, signal) => this.recordExit({ code, signal }, resolve));
    });
    // Node resumes (and so drops) a child's stdio nobody reads yet once the child exits, and the
    // runtime (or shim) may exit before start() returns to a caller that reads: keep it here.
    // With a terminal the program's output comes from its pty, once there is one.
    this.stdout = console === undefined ? this.child.stdout!.pipe(new PassThrough()) : new PassThrough();
    // Tee: the runtime's own complaints arrive on the container's stderr before the program runs.
    const stderr = new PassThrough();
    this.child.stderr!.pipe(stderr);
    // The runtime's own stdout, with a terminal: not the program's.
    if (console !== undefined) this.child.stdout!.pipe(stderr, { end: false });
    const keep = (chunk: Buffer): void => {
      if (this.startStderr.reduce((n, b) => n + b.length, 0) < STDERR_KEPT_BYTES) this.startStderr.push(chunk);
    };
    this.child.stderr!.on('data', keep);
    this.stderr = stderr;
    // With a terminal, what the caller writes waits here for the pty.
    this.stdin = request.stdin !== 'pipe' ? undefined : console === undefined ? this.child.stdin ?? undefined : new PassThrough();
    // The program closing its stdin (or dying) must not crash the harness on the next write; the
    // write's own callback still reports the error.
    this.stdin?.on('error', () => undefined);
    const launching = watcher === undefined ? this.createThenStart(request) : this.waitForStart(watcher);
    this.launched = launching.finally(() => {
      watcher?.close();
      this.child.stderr!.off('data', keep);
    });
  }

  get hostPid(): number | undefined {
    return this.pid;
  }

  get lifecycle(): LifecycleRecord | undefined {
    return this.record;
  }

  /** What `RUNTIME state` says of this container now; undefined when it knows no such container. */
  async state(): Promise<ReportedState | undefined> {
    const state = await this.driver.state(this.id);
    return 'problem' in state ? undefined : reported(state);
  }

  private recordExit(exit: RuntimeExit, resolve: (e: RuntimeExit) => void): void {
    if (this.exit !== undefined) return;
    this.exit = exit;
    clearTimeout(this.timer);
    resolve(exit);
  }

  private waitForStart(watcher: fs.FSWatcher): Promise<StartOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: StartOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (outcome.started) this.pid = outcome.pid;
        resolve(outcome);
      };
      const check = (): void => {
        const pid = readPidFile(this.driver.pidFile);
        if (pid !== undefined) settle({ started: true, pid });
      };
      watcher.on('change', check);
      watcher.on('error', () => undefined);
      const deadline = setTimeout(() => {
        check();
        const said = this.runtimeSaid();
        const why = `did not start the container within ${this.timeouts.startMs} ms${said === undefined ? '' : `; it said: ${said}`}`;
        settle({ started: false, why });
      }, this.timeouts.startMs);
      void this.exited.then((exit) => {
        check();
        if (exit.spawnError !== undefined) settle({ started: false, why: `could not run ${this.driver.binary}: ${exit.spawnError}` });
        const how = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
        settle({ started: false, why: this.runtimeSaid() ?? `exited (${how}) without starting the container and without saying why` });
      });
      check();
    });
  }

  private async createThenStart(request: LaunchRequest): Promise<StartOutcome> {
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<CreateOutcome>((resolve) => {
      deadline = setTimeout(() => resolve({ created: false, why: `did not create the container within ${this.timeouts.startMs} ms` }), this.timeouts.startMs);
    });
    const created = await Promise.race([createReport(this.child), timedOut]).finally(() => clearTimeout(deadline));
    if (!created.created) {
      const said = this.runtimeSaid();
      if (created.why !== undefined) return { started: false, why: said === undefined ? created.why : `${created.why}; it said: ${said}` };
      const exit = await this.exited;
      const how = exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
      return { started: false, why: said ?? `create exited (${how}) without creating the container and without saying why` };
    }
    this.pid = created.pid;
    if (this.console !== undefined) {
      const why = await this.takeTerminal(request.stdin);
      if (why !== undefined) return { started: false, why };
    }
    // A launch that is create-start only for the terminal's sake is a `run`: no lifecycle to record.
    if (request.lifecycle !== 'create-start') {
      const start = await this.driver.start(this.id);
      return start.code === 0 ? { started: true, pid: created.pid } : { started: false, why: `start failed: ${describeFailure(start, this.driver.timeoutMs)}` };
    }
    const step = await startCreated(this.driver, this.id, created.pid, this.bundle.dir, this.bundle.configPath, request.editAfterCreate, request.beforeStart);
    if (!step.started) return step;
    this.record = step.record;
    return { started: true, pid: created.pid };
  }

  /**
   * The pty master the runtime sent during create (it has, once create succeeded) becomes the
   * session's stdout and stdin; returns why not when it did not come.
   */
  private async takeTerminal(stdin: LaunchRequest['stdin']): Promise<string | undefined> {
    let deadline: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (deadline = setTimeout(() => resolve(undefined), this.timeouts.startMs)));
    try {
      await Promise.race([this.console!.received, late]);
    } catch (error) {
      return `created the container without handing over its terminal: ${(error as Error).message}`;
    } finally {
      clearTimeout(deadline);
    }
    const master = this.console!.take();
    if (master === undefined) return `sent no terminal to the console socket within ${this.timeouts.startMs} ms of creating the container`;
    this.terminal = terminalStreams(master);
    this.terminal.output.pipe(this.stdout as PassThrough);
    if (this.stdin === undefined || stdin !== 'pipe') this.terminal.input.end();
    else this.stdin.pipe(this.terminal.input);
    return undefined;
  }

  /**
   * The runtime's own words: its logged error, else what it wrote to stderr: the first line of a Go
   * crash ("panic: ...", "fatal error: ..."), whose last line is only a stack frame, or the last line.
   */
  private runtimeSaid(): string | undefined {
    const lines = Buffer.concat(this.startStderr).toString('utf8').trim().split('\n').filter(Boolean);
    return lastRuntimeError(this.driver.logFile) ?? lines.find((l) => /^(panic|fatal error): /.test(l)) ?? lines.pop();
  }

  private failureDetail(): string {
    const log = readRuntimeLog(this.driver.logFile).map((e) => `${e.level}: ${e.msg}`).join('\n');
    const stderr = Buffer.concat(this.startStderr).toString('utf8').trim();
    return [`runtime log ${this.driver.logFile}:`, log || '(empty)', 'runtime stderr:', stderr || '(empty)'].join('\n');
  }

  private armTimeout(timeoutMs: number): void {
    if (this.exit !== undefined) return;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      void this.forceStop();
    }, timeoutMs);
  }

  async wait(): Promise<ExitStatus> {
    const exit = await this.exited;
    // What the program wrote to its terminal may still be in the pty: read it all before saying it ended.
    await this.terminal?.finish(this.timeouts.killGraceMs);
    return exitStatusOf(exit, this.timedOut);
  }

  async deleteUnforced(): Promise<{ refused: boolean; said: string }> {
    const result = await this.driver.deleteUnforced(this.id);
    return { refused: result.code !== 0, said: lastRuntimeError(this.driver.logFile) ?? describeFailure(result, this.timeouts.commandMs) };
  }

  async startAsIs(): Promise<{ refused: boolean; said: string }> {
    const result = await this.driver.start(this.id);
    return { refused: result.code !== 0, said: lastRuntimeError(this.driver.logFile) ?? describeFailure(result, this.timeouts.commandMs) };
  }

  async killAsIs(signal: NodeJS.Signals): Promise<{ refused: boolean; said: string }> {
    const result = await this.driver.kill(this.id, os.constants.signals[signal]);
    return { refused: result.code !== 0, said: lastRuntimeError(this.driver.logFile) ?? describeFailure(result, this.timeouts.commandMs) };
  }

  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exit !== undefined) return;
    const number = os.constants.signals[signal];
    if (number === undefined) throw new TargetError(this.target, `kill: unknown signal ${signal}`);
    const result = await this.driver.kill(this.id, number);
    if (result.code === 0 || (await this.exitsWithin(this.timeouts.killGraceMs))) return;
    const said = lastRuntimeError(this.driver.logFile) ?? describeFailure(result, this.timeouts.commandMs);
    throw new TargetError(this.target, `kill ${signal} of ${this.id} failed: ${said}`);
  }

  /**
   * SIGKILL through the runtime; if that does not end it, SIGKILL to the runtime's group and the
   * container's pid. A runtime that never started the program has no container to ask about.
   */
  private async forceStop(): Promise<void> {
    if (this.exit !== undefined) return;
    if (this.pid !== undefined) {
      await this.driver.kill(this.id, os.constants.signals.SIGKILL);
      if (await this.exitsWithin(this.timeouts.killGraceMs)) return;
    }
    killGroup(this.child);
    this.killHostPid();
    await this.exited;
  }

  private killHostPid(): void {
    if (this.pid === undefined) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private exitsWithin(ms: number): Promise<boolean> {
    if (this.exit !== undefined) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  async exec(request: ExecRequest): Promise<OciExec> {
    if (this.exit !== undefined || this.destroying !== undefined) throw new TargetError(this.target, `exec: container ${this.id} is no longer running`);
    const exec = await startOciExec(this.target, this.driver, this.id, this.bundle.config.process, request, this.timeouts.startMs);
    this.execs.push(exec);
    return exec;
  }

  /** With traceSyscalls: the program's calls from its execve on, read once the container is deleted. */
  async syscalls(): Promise<SyscallTotals | undefined> {
    if (this.traced === undefined) return undefined;
    await this.destroy();
    return this.traced.result();
  }

  destroy(): Promise<void> {
    this.destroying ??= this.teardown().then((problems) => {
      if (problems.length > 0) throw new TargetError(this.target, `teardown of ${this.id} left something behind: ${problems.join('; ')}`);
    });
    return this.destroying;
  }

  /** Returns what could not be cleaned up; empty when nothing is left. */
  private async teardown(): Promise<string[]> {
    clearTimeout(this.timer);
    await this.forceStop();
    for (const exec of this.execs) exec.kill();
    this.console?.close();
    this.terminal?.close();
    const problems: string[] = [];
    // A foreground run deletes its container on exit; --force covers a runtime that died or hung.
    const deleted = await this.driver.delete(this.id);
    const left = this.driver.leftoverContainers();
    if (left.length > 0) {
      this.killHostPid();
      problems.push(`the runtime still lists ${left.join(', ')} after delete --force (${describeFailure(deleted, this.timeouts.commandMs)})`);
    } else if (this.pid === undefined) {
      // What a create that failed half-way left: the runtime does not know the container any more.
      // A container that did start is left as the runtime's delete left it: what a delete leaves
      // behind is for lifecycle.delete-leaves-nothing to see, and its scenario sweeps it.
      problems.push(...removeContainerCgroups(this.id));
    }
    untrackSession(this);
    try {
      await this.traced?.finish();
    } catch (error) {
      problems.push(`the traced cgroup: ${(error as Error).message}`);
    }
    problems.push(...removeSessionDir(this.bundle.dir));
    return problems;
  }

  /** Process exit: no event loop left, so everything happens synchronously. */
  teardownNow(): void {
    killGroup(this.child);
    for (const exec of this.execs) exec.kill();
    this.console?.close();
    this.terminal?.close();
    this.killHostPid();
    spawnSync(this.driver.binary, ['--root', this.driver.stateRoot, 'delete', '--force', this.id], { timeout: this.timeouts.commandMs, stdio: 'ignore' });
    removeContainerCgroups(this.id);
    this.traced?.closeNow();
    removeSessionDir(this.bundle.dir);
  }
}

function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `run` exits with the program's code, or 128+N when a signal N killed it (the shell's convention,
 * which runc and crun follow). A program that itself exits with 128+N is indistinguishable from it.
 */
export function exitStatusOf(exit: RuntimeExit, timedOut: boolean): ExitStatus {
  // The runtime itself was killed (by the timeout's escalation, or from outside): the container went with it.
  if (exit.signal !== null) return { code: null, signal: timedOut ? 'SIGKILL' : exit.signal, timedOut };
  if (exit.code !== null && exit.code > 128) {
    const name = signalName(exit.code - 128);
    if (name !== undefined) return { code: null, signal: name, timedOut };
  }
  return { code: exit.code, signal: null, timedOut };
}

function signalName(number: number): string | undefined {
  return Object.entries(os.constants.signals).find(([, n]) => n === number)?.[0];
}
