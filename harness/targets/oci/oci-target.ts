// Any OCI runtime with runc's command line (runc, crun, youki, a fork, a wrapper) behind the
// Target interface.
import fs from 'node:fs';
import path from 'node:path';
import type { LaunchRequest, Lifecycle, ProfileConstraints, Target, TargetInfo } from '../../target.js';
import { LIFECYCLES } from '../../target.js';
import { TargetError } from '../../target.js';
import { parseProfile } from '../../../policy/profile/load.js';
import { OciSession, type SessionTimeouts } from './oci-session.js';
import { runCommand } from './runtime-command.js';
import { sweepStaleSessions } from './session-dir.js';
import { crunHostProblem } from './crun-host-preparation.js';
import { fieldsNewerThan, ignoredFieldReason, specVersionFromFeatures, specVersionFromVersionOutput, type SpecVersionClaim } from './runtime-spec-version.js';
import type { NamespaceType } from '../../../policy/profile/types.js';
import { DENIABLE_SYSCALLS, policyDenying } from '../../generators/seccomp-policy.js';

export interface OciTargetOptions {
  /** How long the runtime may take to start the program. Default 10 s. */
  startTimeoutMs?: number;
  /** Each kill, delete or --version command. Default 10 s. */
  commandTimeoutMs?: number;
  /** Grace between asking the runtime for SIGKILL and SIGKILLing it and the container directly. Default 2 s. */
  killGraceMs?: number;
}

type Resolved = { path: string } | { problem: string };

let swept = false;

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
  private versionText: Promise<string | undefined> | undefined;
  private specVersion: Promise<SpecVersionClaim | undefined> | undefined;
  private limits: Promise<ProfileConstraints> | undefined;

  constructor(readonly runtime: string, options: OciTargetOptions = {}) {
    this.resolved = resolveRuntime(runtime);
    // A runtime that refuses says so at once; these bound one that hangs, and a CI host running
    // two test files of real containers on two cores took over 10 s to create one.
    this.timeouts = {
      startMs: options.startTimeoutMs ?? 30_000,
      commandMs: options.commandTimeoutMs ?? 30_000,
      killGraceMs: options.killGraceMs ?? 2_000,
    };
  }

  async joinExecutables(): Promise<string[]> {
    return 'path' in this.resolved ? [this.resolved.path] : [];
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

  /** What `RUNTIME --version` printed (once per target), or undefined when it failed. */
  private versionOutput(): Promise<string | undefined> {
    if (!('path' in this.resolved)) return Promise.resolve(undefined);
    this.versionText ??= runCommand(this.resolved.path, ['--version'], this.timeouts.commandMs)
      .then((r) => (r.code === 0 ? r.stdout : undefined));
    return this.versionText;
  }

  private async runtimeVersion(): Promise<string> {
    const output = await this.versionOutput();
    return (output === undefined ? undefined : parseRuntimeVersion(output)) ?? 'unknown';
  }

  /** The runtime-spec version the runtime claims: `features` first, else its --version's "spec:" line. */
  specVersionClaim(): Promise<SpecVersionClaim | undefined> {
    if (!('path' in this.resolved)) return Promise.resolve(undefined);
    const runtime = this.resolved.path;
    this.specVersion ??= (async () => {
      const features = await runCommand(runtime, ['features'], this.timeouts.commandMs);
      const fromFeatures = features.code === 0 ? specVersionFromFeatures(features.stdout) : undefined;
      if (fromFeatures) return { version: fromFeatures, source: `${this.name} features, ociVersionMax` };
      const output = await this.versionOutput();
      const fromVersion = output === undefined ? undefined : specVersionFromVersionOutput(output);
      return fromVersion ? { version: fromVersion, source: `${this.name} --version, "spec:"` } : undefined;
    })();
    return this.specVersion;
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
   * generated profiles (its invariants skip with the runtime's own words), nor does a field newer
   * than the runtime-spec version it claims that a trial container shows it ignores. config.json
   * has no field for setgroups, so profiles keep the runtimes' "allow". A runtime that claims no
   * version, or a current one, is held to every field.
   */
  async constraints(): Promise<ProfileConstraints> {
    this.limits ??= (async () => {
      const runtime = `${this.name} ${await this.runtimeVersion()}`;
      const excludeNamespaces: ProfileConstraints['excludeNamespaces'] = [];
      for (const namespace of ['time', 'cgroup'] as const) {
        try {
          await this.runOnce({ name: `probe-${namespace}`, namespaces: ['user', 'pid', 'mnt', namespace], process: { args: ['/bin/true'] } });
        } catch (error) {
          if (!(error instanceof TargetError)) throw error;
          excludeNamespaces.push({ namespace, reason: `${runtime} refused a ${namespace} namespace: ${error.message}` });
        }
      }
      const excludeFields: NonNullable<ProfileConstraints['excludeFields']> = [];
      const claim = await this.specVersionClaim();
      for (const field of claim ? fieldsNewerThan(claim) : []) {
        const needs = (field.trial.document.namespaces as NamespaceType[]);
        // A refused namespace already keeps the field out of every generated profile.
        if (excludeNamespaces.some((e) => needs.includes(e.namespace))) continue;
        // /proc/self/timens_offsets pads its columns: compare words, not spacing.
        const seen = (await this.runOnce(field.trial.document)).replace(/[ \t]+/g, ' ').trim();
        if (seen !== field.trial.expected) excludeFields.push({ field: field.field, reason: ignoredFieldReason(runtime, claim!, field, seen) });
      }
      // Without noNewPrivileges a runtime installs the filter before its own last steps (runc's
      // init calls getppid after it): a call it needs there is one no policy may deny on it.
      const undeniableSyscalls: NonNullable<ProfileConstraints['undeniableSyscalls']> = [];
      for (const name of DENIABLE_SYSCALLS) {
        try {
          await this.runOnce({
            name: `deny-${name}`, process: { args: ['/bin/true'], noNewPrivileges: false },
            seccomp: policyDenying([{ names: [name], action: 'SCMP_ACT_ERRNO' }]),
          });
        } catch (error) {
          if (!(error instanceof TargetError)) throw error;
          undeniableSyscalls.push({ name, reason: `${runtime} fails to start a container whose seccomp policy denies ${name} without noNewPrivileges: ${error.message}` });
        }
      }
      return {
        excludeNamespaces,
        excludeFields,
        undeniableSyscalls,
        setgroups: { value: 'allow' as const, reason: 'the OCI runtime-spec has no setgroups field, so runtimes leave it "allow"' },
      };
    })();
    return this.limits;
  }

  /** Runs one container of a profile document to its end; its stdout, or TargetError when refused. */
  private async runOnce(document: Record<string, unknown>): Promise<string> {
    const profile = parseProfile(document, '<constraints>', { checkPaths: false });
    const session = await this.start({ profile, stdin: 'null' });
    const chunks: Buffer[] = [];
    // The runtime's 'exit' can come before its stdout's last data: wait for the pipe to close too.
    const closed = new Promise<void>((resolve) => session.stdout.once('close', resolve));
    session.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    session.stderr.resume();
    try {
      await session.wait();
    } finally {
      await session.destroy();
    }
    await closed;
    return Buffer.concat(chunks).toString('utf8');
  }

  lifecycles(): readonly Lifecycle[] {
    return LIFECYCLES;
  }

  async start(request: LaunchRequest): Promise<OciSession> {
    if (!('path' in this.resolved)) throw new TargetError(this.name, this.resolved.problem);
    // Containers of an nsrig SIGKILLed before it could tear them down go before this run adds any.
    if (!swept) {
      swept = true;
      sweepStaleSessions(undefined, this.timeouts.commandMs);
    }
    return OciSession.start(this.name, this.resolved.path, request, this.timeouts);
  }
}
