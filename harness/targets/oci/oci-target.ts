// Any OCI runtime with runc's command line (runc, crun, youki, a fork, a wrapper) behind the
// Target interface.
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchRequest, ProfileConstraints, Target, TargetInfo } from '../../target.js';
import { TargetError } from '../../target.js';
import { parseProfile } from '../../../policy/profile/load.js';
import { OciSession, type SessionTimeouts } from './oci-session.js';
import { runCommand } from './runtime-command.js';
import { crunHostProblem } from './crun-host-preparation.js';

export interface OciTargetOptions {
  /** How long the runtime may take to start the program. Default 10 s. */
  startTimeoutMs?: number;
  /** Each kill, delete or --version command. Default 10 s. */
  commandTimeoutMs?: number;
  /** Grace between asking the runtime for SIGKILL and SIGKILLing it and the container directly. Default 2 s. */
  killGraceMs?: number;
}

type Resolved = { path: string } | { problem: string };

/** A name is looked up on PATH; anything with a slash is a path. */
export function resolveRuntime(runtime: string): Resolved {
  const candidates = runtime.includes('/')
    ? [path.resolve(runtime)]
    : (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, runtime));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return { path: candidate };
    } catch {
      // not here
    }
  }
  return {
    problem: runtime.includes('/')
      ? `runtime ${runtime} is not an executable file`
      : `runtime "${runtime}" not found on PATH (${process.env.PATH ?? 'unset'}); install it or give its path`,
  };
}

/** "runc version 1.1.5+ds1" → "1.1.5+ds1"; "crun version 1.8.1" → "1.8.1". */
export function parseRuntimeVersion(output: string): string | undefined {
  return /\bversion:?\s+v?(\S+)/i.exec(output)?.[1];
}

export class OciTarget implements Target {
  private readonly resolved: Resolved;
  private readonly timeouts: SessionTimeouts;
  private version: Promise<string> | undefined;
  private limits: Promise<ProfileConstraints> | undefined;

  constructor(readonly runtime: string, options: OciTargetOptions = {}) {
    this.resolved = resolveRuntime(runtime);
    this.timeouts = {
      startMs: options.startTimeoutMs ?? 10_000,
      commandMs: options.commandTimeoutMs ?? 10_000,
      killGraceMs: options.killGraceMs ?? 2_000,
    };
  }

  /** "runc", "crun", or the wrapper's file name. */
  get name(): string {
    return path.basename('path' in this.resolved ? this.resolved.path : this.runtime);
  }

  async info(): Promise<TargetInfo> {
    return {
      kind: 'oci', name: this.name, version: await this.runtimeVersion(),
      ...('path' in this.resolved ? { path: this.resolved.path } : {}),
    };
  }

  private runtimeVersion(): Promise<string> {
    if (!('path' in this.resolved)) return Promise.resolve('unknown');
    this.version ??= runCommand(this.resolved.path, ['--version'], this.timeouts.commandMs)
      .then((r) => (r.code === 0 ? parseRuntimeVersion(r.stdout) ?? 'unknown' : 'unknown'));
    return this.version;
  }

  /**
   * What stops this runtime from running containers here. Beyond the binary and root, it runs
   * one minimal container of the default profile, so whatever the runtime itself refuses on this
   * host (crun on a hybrid cgroup layout) is found before any case runs.
   */
  async preflight(): Promise<string[]> {
    if (!('path' in this.resolved)) return [this.resolved.problem];
    const missing: string[] = [];
    if (process.getuid?.() !== 0) missing.push('run as root: the bundles map container ids to other host ids and mount filesystems');
    if ((await this.runtimeVersion()) === 'unknown') missing.push(`${this.resolved.path} --version did not print a version`);
    if (missing.length > 0) return missing;
    const profile = parseProfile({ name: 'preflight', process: { args: ['/bin/true'] } }, '<preflight>', { checkPaths: false });
    try {
      const session = await this.start({ profile, stdin: 'null' });
      const status = await session.wait();
      await session.destroy();
      if (status.code !== 0) missing.push(`${this.name} ran /bin/true in a minimal container, which ended with ${JSON.stringify(status)}`);
    } catch (error) {
      if (!(error instanceof TargetError)) throw error;
      const hint = /cgroup/i.test(error.message) ? crunHostProblem() : undefined;
      missing.push(`${this.name} cannot run a minimal container: ${error.message}${hint === undefined ? '' : `; ${hint}`}`);
    }
    return missing;
  }

  /**
   * What this runtime cannot carry out, found by asking it: a namespace type it refuses gets no
   * generated profiles (its invariants skip with the runtime's own words). config.json has no
   * field for setgroups, so profiles keep the runtimes' "allow".
   */
  async constraints(): Promise<ProfileConstraints> {
    this.limits ??= (async () => {
      const excludeNamespaces: ProfileConstraints['excludeNamespaces'] = [];
      for (const namespace of ['time', 'cgroup'] as const) {
        const profile = parseProfile({ name: `probe-${namespace}`, namespaces: ['user', 'pid', 'mnt', namespace], process: { args: ['/bin/true'] } }, '<constraints>', { checkPaths: false });
        try {
          const session = await this.start({ profile, stdin: 'null' });
          await session.wait();
          await session.destroy();
        } catch (error) {
          if (!(error instanceof TargetError)) throw error;
          excludeNamespaces.push({ namespace, reason: `${this.name} ${await this.runtimeVersion()} refused a ${namespace} namespace: ${error.message}` });
        }
      }
      return {
        excludeNamespaces,
        setgroups: { value: 'allow' as const, reason: 'the OCI runtime-spec has no setgroups field, so runtimes leave it "allow"' },
      };
    })();
    return this.limits;
  }

  async start(request: LaunchRequest): Promise<OciSession> {
    if (!('path' in this.resolved)) throw new TargetError(this.name, this.resolved.problem);
    return OciSession.start(this.name, this.resolved.path, request, this.timeouts);
  }
}
