// The host as the harness sees it: what invariants compare the container against, and the
// fixtures (a listener, IPC objects, a writable directory) that probes try to reach. Created
// once per run and removed by close().
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { randomInt } from 'node:crypto';
import {
  addPossessorOnlyKey, invalidateKey, joinNewSessionKeyring, mount, mqueueOpen, mqueueRemove, sessionKeyringSerial, setPropagation, sysvGet,
  sysvRemove, type SysvKind,
} from '../core/host-kernel.js';
import { MS } from '../policy/kernel/mount-flags.js';
import { readCgroupLayout } from '../core/cgroup-layout.js';
import type { HostInfo } from './results.js';
import type { NamespaceType, Profile } from '../policy/profile/types.js';
import { namespaceHolderProblem, startNamespaceHolder, type NamespaceHolder } from './namespace-holder.js';
import { namespaceInodes, parseMountinfo } from './probe/observe.js';
import { GENERATED_SYSCTLS } from './generators/sysctl.js';
import { removeMountedDir, runDirectoryName, sweepDirectoriesOfDeadRuns } from './run-directories.js';
import { sweepDeadOwnersCgroups } from '../core/cgroup-dead-owners.js';
import { tryMakeUserNamespaceFiles, USER_NAMESPACE_FILES_NAME, type UserNamespaceFilesFact } from './user-namespace-files.js';

export interface HostSnapshot {
  hostname: string;
  domainname: string;
  /** "MOUNT_POINT FSTYPE OPTIONS" per mount, sorted; the mount point unescaped, so it may hold spaces (see mountPointOf). */
  mountinfo: string[];
  /** TCP ports in LISTEN state in the host's network namespace (IPv4 and IPv6), sorted. */
  tcpListening: number[];
  /** The host's values of the kernel parameters generated profiles declare (generators/sysctl.ts). */
  sysctl: Record<string, string>;
}

export interface HostFacts {
  pid: number;
  namespaces: Record<string, number>;
  before: HostSnapshot;
  /** A TCP listener on the host's loopback. */
  listener: { host: string; port: number };
  /** System V objects and a POSIX queue that exist on the host for the whole run. */
  ipc: { shmKey: number; semKey: number; msgKey: number; mqueue: string };
  /** A key only its possessors may see, in a session keyring of nsrig's own (keyring.host-key-invisible). */
  hostKey: { serial: number; description: string; sessionSerial: number };
  /** A world-writable host directory for read-write bind mounts. */
  fixtureDir: string;
  /** User namespaces outside any container, as files in one directory (user-namespace-files.ts). */
  userNamespaceFiles: UserNamespaceFilesFact;
  /** The ids an unmapped owner shows as inside a user namespace (/proc/sys/kernel/overflow{u,g}id). */
  overflowIds: { uid: number; gid: number };
  /** The directory nsrig runs from (bound into OCI bundles so the probe can run). */
  info: HostInfo;
  /**
   * A process holding namespaces of its own for generated profiles to join (ns.joined-as-declared):
   * their files and inode numbers by type. Absent where unshare(1) is missing.
   */
  namespaceHolder?: { paths: Partial<Record<NamespaceType, string>>; inodes: Partial<Record<NamespaceType, number>> };
  /** Why there is no namespaceHolder. */
  namespaceHolderProblem?: string;
}

function readText(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

export function snapshotHost(): HostSnapshot {
  return {
    hostname: os.hostname(),
    domainname: readText('/proc/sys/kernel/domainname').trim(),
    // Mount ids and propagation peers change harmlessly; mount point, fs type and options do not.
    mountinfo: parseMountinfo(readText('/proc/self/mountinfo')).map((m) => `${m.mountPoint} ${m.fsType} ${m.options.join(',')}`).sort(),
    tcpListening: listeningTcpPorts(),
    sysctl: Object.fromEntries(Object.keys(GENERATED_SYSCTLS).map((k) => [k, readText(`/proc/sys/${k.replaceAll('.', '/')}`).trim()])),
  };
}

const TCP_LISTEN = '0A';

function listeningTcpPorts(): number[] {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readText(file).split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === TCP_LISTEN) ports.add(parseInt(f[1].split(':')[1], 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/**
 * Host pids of the processes with this exact argument in their command line. A marker argument
 * finds a container's process after teardown without trusting namespace inodes, which the kernel
 * hands to new namespaces as soon as the old ones are freed.
 */
export function processesWithArgument(argument: string): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(argument)) pids.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** argv of a process as /proc shows it; undefined once it is gone. */
export function processArgs(pid: number): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  } catch {
    return undefined;
  }
}

export function describeHost(): HostInfo {
  const release = /PRETTY_NAME="?([^"\n]*)"?/.exec(readText('/etc/os-release'))?.[1] ?? 'unknown';
  return {
    kernel: os.release(),
    distribution: release,
    arch: os.arch() === 'x64' ? 'x86_64' : os.arch(),
    cgroupMode: readCgroupLayout().mode,
    node: process.version,
  };
}

/** Where the host's fixture directory is bound read-write inside (generated with rwBind). */
export function fixtureDestination(profile: Profile, host: Pick<HostFacts, 'fixtureDir'>): string | undefined {
  return profile.mounts.find((m) => m.type === 'bind' && !m.readonly && path.resolve(m.source) === path.resolve(host.fixtureDir))?.destination;
}

const FIXTURE_PREFIX = 'nsrig-fixture-';

/**
 * The fixture directory is a mount point of its own with shared propagation, as / is on a systemd
 * host (and is not on every test machine): a bind of it that a runtime leaves shared or slave then
 * receives what the host mounts below it later, which mnt.no-host-mount-after-start looks for.
 */
function makeFixtureDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${FIXTURE_PREFIX}${process.pid}-`));
  fs.chmodSync(dir, 0o777);
  mount(dir, dir, null, MS.BIND);
  setPropagation(dir, 'shared', false);
  return dir;
}

const FIXTURE_NAME = runDirectoryName(FIXTURE_PREFIX);

const HARNESS_MOUNT_PREFIX = 'mounted-by-the-harness-';

/** A new directory in the fixture directory for a mount the harness itself makes on the host. */
export function makeHarnessMountDir(host: HostFacts): string {
  const dir = path.join(host.fixtureDir, `${HARNESS_MOUNT_PREFIX}${randomInt(2 ** 47)}`);
  fs.mkdirSync(dir, { mode: 0o755 });
  return dir;
}

/** The directory of bound user namespace files (user-namespace-files.ts), and each file in it. */
const USER_NAMESPACE_FILES = 'nsrig-userns-\\d+-[^/]+(/[^/]+)?';
const HARNESS_MOUNT = new RegExp(`/(${FIXTURE_PREFIX}\\d+-[^/]+(/${HARNESS_MOUNT_PREFIX}\\d+)?|${USER_NAMESPACE_FILES})$`);

/**
 * A mount point on the host that is some nsrig harness's own doing, not a container's: a fixture
 * directory (this run's or that of another run going on beside it), a mount the harness made in
 * one, or the bound user namespace files of a run. Anything else below a fixture directory is not (see no-mount-leak).
 */
export function isHarnessMount(mountPoint: string): boolean {
  return HARNESS_MOUNT.test(mountPoint);
}

/** The mount point of a HostSnapshot.mountinfo line: all but its last two fields. */
export function mountPointOf(line: string): string {
  return line.split(' ').slice(0, -2).join(' ');
}

/** A day: the key goes even if nsrig is SIGKILLed and something else holds its session keyring. */
const HOST_KEY_TIMEOUT_SECONDS = 86400;

/**
 * nsrig first joins a session keyring of its own, so the key never lands in a login session's
 * keyring and goes away with nsrig; a container that keeps nsrig's keyring possesses the key.
 */
function makeHostKey(): HostFacts['hostKey'] {
  joinNewSessionKeyring();
  const description = `nsrig-host-key-${process.pid}-${randomInt(2 ** 47)}`;
  const serial = addPossessorOnlyKey(description, 'secret of the host', HOST_KEY_TIMEOUT_SECONDS);
  return { serial, description, sessionSerial: sessionKeyringSerial().serial };
}

/** The namespaces the holder makes: those a profile without a user namespace can join. */
// With a user namespace of its own, which its other namespaces belong to: a container joining it
// can join any of them (the host's root may join them all without it).
const HELD_NAMESPACES = ['user', 'net', 'uts', 'ipc', 'pid', 'cgroup'] as const;
/** It would outlive any run; the exit hook ends it, the next holder's sweep one whose nsrig was SIGKILLed. */
const HOLDER_SECONDS = 86400;
let processHolder: NamespaceHolder | undefined;

/**
 * One holder for the whole process, not one per run: a counterexample names the holder's files,
 * and a replay in the same process (a test's second runCheck) must find the same ones there.
 */
function namespaceHolder(): { holder?: NamespaceHolder; problem?: string } {
  if (processHolder !== undefined) return { holder: processHolder };
  const problem = namespaceHolderProblem();
  if (problem !== undefined) return { problem };
  try {
    processHolder = startNamespaceHolder(HELD_NAMESPACES, { seconds: HOLDER_SECONDS });
  } catch (e) {
    // Only ns.joined-as-declared needs it: that invariant skips with this reason, the run goes on.
    return { problem: (e as Error).message };
  }
  const holder = processHolder;
  process.on('exit', () => holder.close());
  return { holder };
}

export class HostFixtures {
  private constructor(readonly facts: HostFacts, private readonly server: net.Server, private readonly ipcIds: [SysvKind, number][]) {}

  static async create(): Promise<HostFixtures> {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const key = () => 0x6e730000 + randomInt(0xffff);
    const ipc = { shmKey: key(), semKey: key(), msgKey: key(), mqueue: `/nsrig-host-${process.pid}-${randomInt(1e9)}` };
    const ids: [SysvKind, number][] = [];
    for (const [kind, k] of [['shm', ipc.shmKey], ['sem', ipc.semKey], ['msg', ipc.msgKey]] as [SysvKind, number][]) {
      const r = sysvGet(kind, k, true);
      if (r.id !== null) ids.push([kind, r.id]);
    }
    mqueueOpen(ipc.mqueue, true);
    const hostKey = makeHostKey();
    sweepDirectoriesOfDeadRuns(FIXTURE_NAME);
    sweepDirectoriesOfDeadRuns(USER_NAMESPACE_FILES_NAME);
    sweepDeadOwnersCgroups();
    const fixtureDir = makeFixtureDir();
    const userNamespaceFiles = tryMakeUserNamespaceFiles();
    const { holder, problem: holderProblem } = namespaceHolder();
    const facts: HostFacts = {
      pid: process.pid,
      namespaces: namespaceInodes(),
      before: snapshotHost(),
      listener: { host: '127.0.0.1', port },
      ipc,
      hostKey,
      fixtureDir,
      userNamespaceFiles,
      overflowIds: { uid: Number(readText('/proc/sys/kernel/overflowuid').trim() || 65534), gid: Number(readText('/proc/sys/kernel/overflowgid').trim() || 65534) },
      info: describeHost(),
      ...(holder ? { namespaceHolder: { paths: holder.paths, inodes: holder.inodes } } : { namespaceHolderProblem: holderProblem }),
    };
    const fixtures = new HostFixtures(facts, server, ids);
    // An interrupted run (Ctrl-C, an uncaught error) still removes what it put on the host.
    process.on('exit', fixtures.removeSync);
    return fixtures;
  }

  private readonly removeSync = (): void => {
    for (const [kind, id] of this.ipcIds) sysvRemove(kind, id);
    this.ipcIds.length = 0;
    mqueueRemove(this.facts.ipc.mqueue);
    invalidateKey(this.facts.hostKey.serial);
    removeMountedDir(this.facts.fixtureDir);
    if ('dir' in this.facts.userNamespaceFiles) removeMountedDir(this.facts.userNamespaceFiles.dir);
  };

  async close(): Promise<void> {
    process.off('exit', this.removeSync);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.removeSync();
  }
}
