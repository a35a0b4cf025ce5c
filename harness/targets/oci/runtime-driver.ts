// runc's command line, which crun, youki and forks share:
//   RUNTIME --root STATE --log FILE --log-format json run|create|start|state|exec|kill|delete ... ID
// One driver per session: its own state root and log, so sessions never see each other's
// containers and the log holds only this container's story.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCommand, spawnInGroup, type CommandResult } from './runtime-command.js';

const CREATE_START_SHIM = fileURLToPath(new URL('./create-start-shim.js', import.meta.url));

/** What `RUNTIME state ID` prints (the runtime-spec's state), the fields the rig reads. */
export interface RuntimeState {
  status: string;
  pid?: number;
  bundle?: string;
}

export class RuntimeDriver {
  readonly stateRoot: string;
  readonly logFile: string;
  readonly pidFile: string;

  /** `dir` is private to the session; the driver keeps its state root, log and pid file there. */
  constructor(readonly binary: string, readonly dir: string, readonly timeoutMs: number) {
    this.stateRoot = path.join(dir, 'state');
    this.logFile = path.join(dir, 'runtime.log');
    this.pidFile = path.join(dir, 'container.pid');
    fs.mkdirSync(this.stateRoot, { recursive: true, mode: 0o700 });
  }

  private global(): string[] {
    return ['--root', this.stateRoot, '--log', this.logFile, '--log-format', 'json'];
  }

  /**
   * `run` in the foreground without a terminal: the runtime creates and starts the container,
   * relays its stdio, writes the pid file once the program is started, and exits with its status.
   */
  spawnRun(bundleDir: string, id: string, stdin: 'pipe' | 'null'): ChildProcess {
    const args = [...this.global(), 'run', '--pid-file', this.pidFile, '--bundle', bundleDir, id];
    return spawnInGroup(this.binary, args, stdin === 'pipe' ? 'pipe' : 'empty');
  }

  /**
   * `exec --process FILE` in the foreground: the runtime joins the process to the container, relays
   * its stdio, writes the pid file once it is started, and exits with its status. A preserved
   * descriptor becomes the process's fd 3.
   */
  spawnExec(id: string, processFile: string, pidFile: string, options: { preserveFd?: number; subCgroup?: string }): ChildProcess {
    const args = [...this.global(), 'exec', '--process', processFile, '--pid-file', pidFile];
    if (options.preserveFd !== undefined) args.push('--preserve-fds', '1');
    if (options.subCgroup !== undefined) args.push('--cgroup', options.subCgroup);
    return spawnInGroup(this.binary, [...args, id], 'empty', options.preserveFd);
  }

  /**
   * `create` under the create-start shim (create-start-shim.ts), which adopts the container's init
   * and exits as `run` would; it reports the creation on the child's descriptor 3.
   */
  spawnCreate(bundleDir: string, id: string, stdin: 'pipe' | 'null', consoleSocket?: string): ChildProcess {
    // With process.terminal the runtime sends the pty master to the console socket (runc's docs/terminals.md).
    const console = consoleSocket === undefined ? [] : ['--console-socket', consoleSocket];
    const args = [...this.global(), 'create', ...console, '--pid-file', this.pidFile, '--bundle', bundleDir, id];
    return spawnInGroup(process.execPath, [CREATE_START_SHIM, this.pidFile, this.binary, ...args], stdin === 'pipe' ? 'pipe' : 'empty', 'pipe');
  }

  start(id: string): Promise<CommandResult> {
    return runCommand(this.binary, [...this.global(), 'start', id], this.timeoutMs);
  }

  /** The container's state as the runtime reports it, or why it could not say. */
  async state(id: string): Promise<RuntimeState | { problem: CommandResult }> {
    const result = await runCommand(this.binary, [...this.global(), 'state', id], this.timeoutMs);
    if (result.code !== 0) return { problem: result };
    try {
      const state = JSON.parse(result.stdout) as RuntimeState;
      return typeof state.status === 'string' ? state : { problem: { ...result, stderr: `no status in ${result.stdout}` } };
    } catch {
      return { problem: { ...result, stderr: `not JSON: ${result.stdout}` } };
    }
  }

  /** Signals by number: every runtime parses numbers, not every one parses every name. */
  kill(id: string, signal: number): Promise<CommandResult> {
    return runCommand(this.binary, [...this.global(), 'kill', id, String(signal)], this.timeoutMs);
  }

  /** --force kills whatever still runs in the container, then removes its state and cgroups. */
  delete(id: string): Promise<CommandResult> {
    return runCommand(this.binary, [...this.global(), 'delete', '--force', id], this.timeoutMs);
  }

  /** Without --force: a runtime must refuse it for a container that is not stopped (runtime.md "Delete"). */
  deleteUnforced(id: string): Promise<CommandResult> {
    return runCommand(this.binary, [...this.global(), 'delete', id], this.timeoutMs);
  }

  /** Containers the runtime still keeps in this state root, read from the directory itself. */
  leftoverContainers(): string[] {
    try {
      return fs.readdirSync(this.stateRoot);
    } catch {
      return [];
    }
  }
}
