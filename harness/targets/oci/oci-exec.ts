// `RUNTIME exec --process process.json ID`: a second process joined to a running OCI container.
// The process.json is the container's own process section (capabilities, rlimits, NoNewPrivs,
// what the harness asked the container to run with) with the request's command, environment, cwd
// and user: an exec gains nothing the container's init was not given, so any gain is the runtime's.
//
// As for `run`, the pid file tells "the runtime refused" from "the program failed": it is written
// once the process has been started, so a runtime that exits without it refused the exec.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { ociJson, type OciRuntimeConfig } from '../../../policy/profile/oci-spec.js';
import { TargetError, type ExecRequest, type ExecSession, type ExitStatus } from '../../target.js';
import type { RuntimeDriver } from './runtime-driver.js';
import { lastRuntimeError } from './runtime-log.js';
import { exitStatusOf } from './oci-session.js';
import { killGroup } from './runtime-command.js';

type OciProcess = OciRuntimeConfig['process'];

/** The process.json for an exec: the container's process section with the request's changes. */
export function processForExec(container: OciProcess, request: ExecRequest): OciProcess {
  return {
    ...container,
    // A terminal would need a console socket; the harness reads pipes.
    terminal: false,
    args: request.args,
    ...(request.env === undefined ? {} : { env: Object.entries(request.env).map(([k, v]) => `${k}=${v}`) }),
    ...(request.cwd === undefined ? {} : { cwd: request.cwd }),
    ...(request.user === undefined ? {} : { user: { ...container.user, ...request.user } }),
  };
}

let sequence = 0;

/** Starts the exec and resolves once the runtime has started the process (its pid file exists). */
export async function startOciExec(target: string, driver: RuntimeDriver, id: string, container: OciProcess, request: ExecRequest, startMs: number): Promise<OciExec> {
  sequence += 1;
  const processFile = path.join(driver.dir, `exec-${sequence}.json`);
  const pidFile = path.join(driver.dir, `exec-${sequence}.pid`);
  fs.writeFileSync(processFile, ociJson(processForExec(container, request)), { mode: 0o600 });
  const watcher = fs.watch(driver.dir);
  const child = driver.spawnExec(id, processFile, pidFile, request);
  const exec = new OciExec(child);
  try {
    const outcome = await exec.started(watcher, pidFile, startMs);
    if (outcome.pid !== undefined) {
      exec.hostPid = outcome.pid;
      return exec;
    }
    exec.kill();
    const said = lastRuntimeError(driver.logFile) ?? exec.stderrText().trim().split('\n').filter(Boolean).pop();
    throw new TargetError(target, `exec into ${id} ${outcome.why}${said === undefined ? '' : `; it said: ${said}`}`, exec.stderrText());
  } finally {
    watcher.close();
  }
}

/** One `RUNTIME exec` in the foreground; the harness's handle on the joined process. */
export class OciExec implements ExecSession {
  hostPid: number | undefined;
  readonly stdout: Readable;
  readonly stderr: Readable;
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly early: Buffer[] = [];

  constructor(private readonly child: ChildProcess) {
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    this.stderr.on('data', (b: Buffer) => {
      if (this.hostPid === undefined) this.early.push(b);
    });
    this.exited = new Promise((resolve) => {
      child.on('error', () => resolve({ code: null, signal: null }));
      child.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  stderrText(): string {
    return Buffer.concat(this.early).toString('utf8');
  }

  started(watcher: fs.FSWatcher, pidFile: string, startMs: number): Promise<{ pid?: number; why: string }> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const pid = Number(readOrEmpty(pidFile).trim());
        if (!Number.isInteger(pid) || pid <= 0) return false;
        clearTimeout(deadline);
        resolve({ pid, why: '' });
        return true;
      };
      watcher.on('change', check);
      watcher.on('error', () => undefined);
      const deadline = setTimeout(() => check() || resolve({ why: `was not started within ${startMs} ms` }), startMs);
      void this.exited.then((e) => {
        if (check()) return;
        clearTimeout(deadline);
        resolve({ why: `was refused (the runtime exited with ${e.signal ?? e.code} without starting it)` });
      });
      check();
    });
  }

  async wait(): Promise<ExitStatus> {
    const exit = await this.exited;
    return exitStatusOf(exit, false);
  }

  /** SIGKILL to the runtime's process group; the joined process itself ends with the container. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) killGroup(this.child);
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
