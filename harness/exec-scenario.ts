// The exec scenario: the probe starts as the container's init and holds; a second probe is joined
// to the running container (`RUNTIME exec`) and reports too. The invariants compare the two
// reports and what the second process was given.
import type { Profile } from '../policy/profile/types.js';
import type { ExecRequest, Target, TargetInfo } from './target.js';
import { TargetError } from './target.js';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { JoinWindow, Observations } from './probe/protocol.js';
import { finish, probeCommand, reportReader, startProbe, type ScenarioOptions } from './scenario.js';
import { RIG_DIR } from './probe-rig.js';

/** What an exec was given besides its command line. */
export type ExecGiven = Omit<ExecRequest, 'args'>;

/** Targets that cannot join a process to a running container: nothing for an exec invariant to check. The engine's doubles join through the engine. */
export function execUnsupported(_host: unknown, target: TargetInfo): string | undefined {
  return target.kind === 'oci' || target.kind === 'builtin' || target.kind === 'double' ? undefined : `${target.name} cannot join a process to a running container (exec) yet`;
}

/**
 * A user's own config (nsrig check --config) on the engine: its exec runs nsrig's Node inside the
 * container and, so that the container cannot choose code that runs before the joined process is
 * confined, only the host's very files at their host paths, which a config's own rootfs does not
 * hold. The generated profiles show the host's /usr, so there it runs.
 */
export function execUnsupportedOnConfig(target: TargetInfo): string | undefined {
  return target.kind === 'builtin'
    ? 'the engine\'s exec runs the host\'s own Node binary and libraries at their host paths inside the container, and a config\'s own rootfs does not hold them'
    : undefined;
}

type IdMap = Profile['user']['uidMappings'];

/** Another id than `id` the container can use (mapped, with a user namespace), or `id` when there is none. */
function otherId(id: number, maps: IdMap | undefined): number {
  if (maps === undefined) return id === 65534 ? 1 : id + 1;
  const mapped = (n: number) => maps.some((m) => m.containerId <= n && n < m.containerId + m.size);
  if (mapped(id + 1)) return id + 1;
  const other = maps.map((m) => m.containerId).find((n) => n !== id);
  return other ?? (mapped(id - 1) ? id - 1 : id);
}

/**
 * What the joined process is given: an environment, cwd and user that differ from the init's
 * wherever the profile allows, so a runtime that ignores them (or copies the init's) is seen.
 */
export function execRequestFor(profile: Profile): ExecGiven {
  const p = profile.process;
  const userns = profile.namespaces.includes('user');
  return {
    env: { PATH: p.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', NSRIG_EXEC: 'joined' },
    // The rig's directory exists in every container the harness starts.
    cwd: p.cwd === RIG_DIR ? '/' : RIG_DIR,
    user: {
      uid: otherId(p.uid, userns ? profile.user.uidMappings : undefined),
      gid: otherId(p.gid, userns ? profile.user.gidMappings : undefined),
      additionalGids: p.additionalGids,
    },
  };
}

/**
 * A host file, as the host saw it: identity and content. The modification time, not the change
 * time: a hard link to the file made meanwhile (a test copying node into a rootfs) changes its
 * ctime and nothing of what runs.
 */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** What the init saw while a process was joined, and the host files that ran in it, before and after. */
export interface JoinWindowRun {
  /** The init's watch (ProbeRequest.watchJoins). */
  watched: JoinWindow;
  /** The joined process's command line: a process reached once it runs this has left the runtime's hands. */
  joinedArgs: string[];
  /** The target's join executables and the Node that runs the probe. */
  executables: { path: string; before: FileIdentity; after: FileIdentity }[];
}

/** Each file's last hash, with the status (dev, ino, size, mtime, ctime in ns) it was taken under. */
const hashes = new Map<string, { status: string; sha256: string }>();

/**
 * The file's identity and content hash. The hash is read again only when the file's status moved
 * since the last one (Node is 98 MB, and each exec case looks at it twice): no write to a file's
 * data leaves its ctime as it was. write(2), a writable shared mapping's first store, truncate,
 * fallocate, copy_file_range or splice into it all set ctime (and mtime) to the kernel's time
 * now; utimensat can set mtime back but itself sets ctime to now; nothing lets a process choose
 * ctime short of setting the host's clock back (CAP_SYS_TIME of the initial user namespace), and a
 * rename over the path changes ino. The write comes at least a container's launch after the look
 * before it, so even a clock as coarse as a jiffy shows it.
 */
export function fileIdentity(file: string): FileIdentity {
  const stat = fs.statSync(file, { bigint: true });
  const status = [stat.dev, stat.ino, stat.size, stat.mtimeNs, stat.ctimeNs].join(' ');
  let known = hashes.get(file);
  if (known?.status !== status) {
    // Hashed after the status is read: a write meanwhile moves the status past this one, so the next look hashes again.
    known = { status, sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
    hashes.set(file, known);
  }
  return { dev: Number(stat.dev), ino: Number(stat.ino), size: Number(stat.size), mtimeMs: Number(stat.mtimeNs) / 1e6, sha256: known.sha256 };
}

/**
 * The init's report and the joined process's, while both are alive. With `watch`, the init also
 * watches the join from inside (ProbeRequest.watchJoins) and the host looks at the executables
 * that ran in it before and after: the third element.
 */
export async function runExec(target: Target, profile: Profile, given: ExecGiven, options: ScenarioOptions = {},
  watch?: { memory: boolean }): Promise<[Observations, Observations, JoinWindowRun?]> {
  const files = watch ? [...new Set([...(await target.joinExecutables?.() ?? []), process.execPath])] : [];
  const before = files.map(fileIdentity);
  const probe = await startProbe(target, profile, { hold: true, ...(watch ? { watchJoins: watch } : {}) }, { lifecycle: options.lifecycle });
  try {
    const init = await probe.nextReport();
    const session = probe.session;
    if (session.exec === undefined) throw new TargetError((await target.info()).name, 'this target cannot exec into a running container');
    const args = probeCommand({});
    const joined = await session.exec({ ...given, args });
    const report = await reportReader(joined)();
    await joined.wait();
    if (!watch) return [init, report];
    session.stdin?.write('report\n');
    const { joinWindow } = await probe.nextReport();
    if (joinWindow === undefined) throw new TargetError((await target.info()).name, 'the init probe did not report what it watched');
    return [init, report, { watched: joinWindow, joinedArgs: args, executables: files.map((path, i) => ({ path, before: before[i], after: fileIdentity(path) })) }];
  } finally {
    await finish(probe);
  }
}
