// Actions the probe tries, each reduced to the errno it met. An errno is an observation here.
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';
import type { IpcObjects, MountEntry, Observations, Outcome, ProbeRequest } from './protocol.js';
import { errnoName, errnoNumber } from '../../policy/kernel/errno.js';
import { callInChild } from './seccomp-action.js';
import { nestedUidMap } from './nested-userns.js';
import { joinUserNamespaces } from './user-namespace-join.js';
import {
  describeKeyErrno, makeCharDeviceErrno, mount, mqueueOpen, ptraceSeizeErrno, searchSessionKeyringErrno, sessionKeyringSerial, sysvGet, trySyscall, type SysvKind,
} from '../../core/host-kernel.js';
import { MS } from '../../policy/kernel/mount-flags.js';

const ok: Outcome = { errno: null, code: null };

function fromErrno(errno: number | null): Outcome {
  return errno === null ? ok : { errno, code: errnoName(errno) };
}

function fromError(e: unknown): Outcome {
  const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
  return { errno: errnoNumber(code) ?? -1, code };
}

function attempt(fn: () => void): Outcome {
  try {
    fn();
    return ok;
  } catch (e) {
    return fromError(e);
  }
}

/** Bound sockets stay open until the probe exits, so a second container's bind can collide. */
const heldSockets: (net.Server | dgram.Socket)[] = [];

async function bind(proto: 'tcp' | 'udp', port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const server = net.createServer();
      server.once('error', (e) => resolve(fromError(e)));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
        heldSockets.push(server);
        resolve(ok);
      });
    } else {
      const socket = dgram.createSocket('udp4');
      socket.once('error', (e) => resolve(fromError(e)));
      socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => {
        heldSockets.push(socket);
        resolve(ok);
      });
    }
  });
}

async function connect(host: string, port: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (o: Outcome) => {
      socket.destroy();
      resolve(o);
    };
    socket.setTimeout(1000, () => done({ errno: 110, code: 'ETIMEDOUT' }));
    socket.once('connect', () => done(ok));
    socket.once('error', (e) => done(fromError(e)));
  });
}

function ipc(objects: IpcObjects | undefined, create: boolean): Record<string, Outcome> {
  const result: Record<string, Outcome> = {};
  if (!objects) return result;
  const kinds: [SysvKind, number | undefined][] = [['shm', objects.shmKey], ['sem', objects.semKey], ['msg', objects.msgKey]];
  for (const [kind, key] of kinds) if (key !== undefined) result[kind] = fromErrno(sysvGet(kind, key, create).errno);
  if (objects.mqueue) result.mqueue = fromErrno(mqueueOpen(objects.mqueue, create).errno);
  return result;
}

function writeInto(dir: string): Outcome {
  const file = `${dir.replace(/\/$/, '')}/.nsrig-probe-${process.pid}`;
  return attempt(() => {
    const fd = fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
    fs.closeSync(fd);
    fs.unlinkSync(file);
  });
}

/** Reading stops here: enough to tell an empty masked file from a real one, and /proc/kcore-sized files stay cheap. */
const READ_LIMIT = 65536;

function readPath(path: string): { bytes: number } & Outcome {
  try {
    const st = fs.statSync(path);
    if (st.isDirectory()) return { bytes: fs.readdirSync(path).length, ...ok };
    const fd = fs.openSync(path, 'r');
    try {
      const buf = Buffer.alloc(READ_LIMIT);
      let bytes = 0;
      for (let n = -1; n !== 0 && bytes < READ_LIMIT;) {
        n = fs.readSync(fd, buf, bytes, READ_LIMIT - bytes, null);
        bytes += n;
      }
      return { bytes, ...ok };
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return { bytes: 0, ...fromError(e) };
  }
}

function createFile(path: string): Outcome {
  return attempt(() => fs.closeSync(fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644)));
}

function statPath(path: string): Observations['stats'][number] {
  try {
    const st = fs.statSync(path);
    return { path, uid: st.uid, gid: st.gid, mode: st.mode, ...ok };
  } catch (e) {
    return { path, uid: null, gid: null, mode: null, ...fromError(e) };
  }
}

/** A process in a session of its own that runs until something kills it; the marker is its last argument. */
async function startOrphan(marker: string): Promise<NonNullable<Observations['orphan']>> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', marker], { detached: true, stdio: 'ignore' });
    child.once('spawn', () => {
      child.unref();
      resolve({ marker, pid: child.pid ?? null, ...ok });
    });
    child.once('error', (e) => resolve({ marker, pid: null, ...fromError(e) }));
  });
}

function writeFile(path: string): Outcome {
  return attempt(() => {
    const fd = fs.openSync(path, fs.constants.O_WRONLY);
    fs.closeSync(fd);
  });
}

function signal(pid: number): Outcome {
  return attempt(() => process.kill(pid, 0));
}

/**
 * Tries to reach another process as a debugger would. PTRACE_SEIZE, unlike PTRACE_ATTACH, does not
 * stop the tracee, and a tracee is detached when its tracer exits: if a broken target lets the
 * probe seize a host process, that process keeps running and is free again when the probe ends.
 */
function traceHost(pid: number): NonNullable<Observations['traceHost']> {
  const seize = ptraceSeizeErrno(pid);
  return { pid, seize: fromErrno(seize === 0 ? null : seize), procMem: attempt(() => fs.closeSync(fs.openSync(`/proc/${pid}/mem`, 'r'))) };
}

function keyring(key: { serial: number; description: string }): NonNullable<Observations['keyring']> {
  return { sessionSerial: sessionKeyringSerial().serial, describe: fromErrno(describeKeyErrno(key.serial)), search: fromErrno(searchSessionKeyringErrno(key.description)) };
}

/**
 * A controller's directory in the container's cgroup mount: the v1 hierarchy holding it, or the
 * cgroup2 mount when `file` exists there (a controller the container's cgroup2 directory lacks has no files).
 */
function controllerDir(mounts: MountEntry[], controller: string, file: string): string | null {
  const v1 = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
  if (v1) return v1.mountPoint;
  const v2 = mounts.find((m) => m.fsType === 'cgroup2' && fs.existsSync(`${m.mountPoint}/${file}`));
  return v2 ? v2.mountPoint : null;
}

function readTrimmed(path: string): string | null {
  try {
    return fs.readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Starts sleeping processes one by one until a start is refused or `max` run, then kills them all
 * and waits for them, so later actions have their pids back. A sleep(1) costs one pid; node would
 * cost a dozen threads. Node's thread pool starts first (one async call) so that no thread of the
 * probe's own is created while the controller is full.
 */
async function forkUntilRefused(max: number, mounts: MountEntry[]): Promise<NonNullable<Observations['forkLimit']>> {
  await fs.promises.access('/');
  const dir = controllerDir(mounts, 'pids', 'pids.max');
  const limit = dir === null ? null : readTrimmed(`${dir}/pids.max`);
  const children: ReturnType<typeof spawn>[] = [];
  let refused: Outcome | null = null;
  let currentAtRefusal: string | null = null;
  while (children.length < max) {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    if (child.pid === undefined) {
      currentAtRefusal = dir === null ? null : readTrimmed(`${dir}/pids.current`);
      refused = await new Promise<Outcome>((resolve) => child.once('error', (e) => resolve(fromError(e))));
      break;
    }
    children.push(child);
  }
  await Promise.all(children.map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('exit', () => resolve());
    c.kill('SIGKILL');
  })));
  return { dir, max: limit, currentAtRefusal, started: children.length, refused };
}

function readText(path: string): Observations['texts'][number] {
  try {
    return { path, text: fs.readFileSync(path, 'utf8').trim(), ...ok };
  } catch (e) {
    return { path, text: null, ...fromError(e) };
  }
}

function cgroupFile(file: string, mounts: MountEntry[]): Observations['cgroupFiles'][number] {
  const dir = controllerDir(mounts, file.split('.')[0]!, file);
  if (dir === null) return { file, dir, text: null, errno: null, code: null };
  try {
    return { file, dir, text: fs.readFileSync(`${dir}/${file}`, 'utf8').trim(), ...ok };
  } catch (e) {
    return { file, dir, text: null, ...fromError(e) };
  }
}

/** The oom_kill count of the container's memory controller: memory.events on v2, memory.oom_control on v1 (Linux 4.13+). */
function oomKills(mounts: MountEntry[]): number | null {
  for (const file of ['memory.events', 'memory.oom_control']) {
    const dir = controllerDir(mounts, 'memory', file);
    const text = dir === null ? null : readTrimmed(`${dir}/${file}`);
    const count = text?.match(/^oom_kill (\d+)$/m)?.[1];
    if (count !== undefined) return Number(count);
  }
  return null;
}

/**
 * Raises its own oom_score_adj to the most (no privilege needed to raise it), so the OOM killer
 * takes it rather than the probe, then holds `mib` MiB, each page written. It ends by itself
 * when nothing limits it: what it allocates is bounded by its argument.
 */
const ALLOCATOR = `try { require('fs').writeFileSync('/proc/self/oom_score_adj', '1000'); } catch {}
const held = [];
for (let i = 0; i < Number(process.argv[1]); i++) held.push(Buffer.alloc(1 << 20, 1));`;

function allocate(mib: number, mounts: MountEntry[]): NonNullable<Observations['allocation']> {
  const oomKillsBefore = oomKills(mounts);
  const r = spawnSync(process.execPath, ['-e', ALLOCATOR, String(mib)], { stdio: 'ignore', timeout: 30000 });
  return {
    mib, start: r.error ? fromError(r.error) : ok, exit: r.status, signal: r.signal, oomKillsBefore, oomKillsAfter: oomKills(mounts),
  };
}

/** A program every host root has, needing no arguments and no files: it only exits 0. */
const TRUE_PROGRAM = ['/usr/bin/true', '/bin/true'];

/** Copies true(1) into `dir` and runs the copy: whether that mount lets a program be executed, tried rather than read from its flags. */
function execCopy(dir: string): Observations['execCopy'][number] {
  const file = `${dir.replace(/\/$/, '')}/.nsrig-exec-${process.pid}`;
  const source = TRUE_PROGRAM.find((p) => fs.existsSync(p)) ?? TRUE_PROGRAM[0]!;
  const copy = attempt(() => {
    fs.copyFileSync(source, file);
    fs.chmodSync(file, 0o755);
  });
  if (copy.errno !== null) return { dir, copy, run: ok, exit: null };
  try {
    const r = spawnSync(file, [], { stdio: 'ignore', timeout: 10000 });
    return { dir, copy, run: r.error ? fromError(r.error) : ok, exit: r.status };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** The cgroup filesystems the probe can reach: no later mount sits on their mount point or above it. */
function visibleCgroupMounts(mounts: MountEntry[]): MountEntry[] {
  const covers = (upper: string, lower: string) => upper === lower || lower.startsWith(upper === '/' ? '/' : `${upper}/`);
  return mounts.filter((m, i) => (m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    && !mounts.slice(i + 1).some((later) => covers(later.mountPoint, m.mountPoint)));
}

/**
 * Whether the container could steer its cgroups: each file opened for writing is closed unwritten
 * (the open alone meets a read-only mount), and a child cgroup that could be made is removed at once.
 */
function cgroupWrites(mounts: MountEntry[]): Observations['cgroupWrites'] {
  return visibleCgroupMounts(mounts).map((m) => {
    const file = (name: string) => (fs.existsSync(`${m.mountPoint}/${name}`) ? writeFile(`${m.mountPoint}/${name}`) : null);
    const child = `${m.mountPoint}/nsrig-probe-${process.pid}`;
    const mkdir = attempt(() => fs.mkdirSync(child));
    if (mkdir.errno === null) fs.rmdirSync(child);
    return {
      mountPoint: m.mountPoint, fsType: m.fsType, readonly: m.options.includes('ro'),
      releaseAgent: file('release_agent'), notifyOnRelease: file('notify_on_release'), procs: file('cgroup.procs'), mkdir,
    };
  });
}

/** A program every host root has that prints the effective uid it runs with (`id -u`). */
const ID_PROGRAM = ['/usr/bin/id', '/bin/id'];

/**
 * Copies id(1) into `dir` as a set-user-ID program owned by root and runs it as `uid`:
 * the effective uid it prints says whether the mount let the set-user-ID bit raise it.
 */
function setuidCopy(dir: string, uid: number, gid: number): Observations['setuidCopy'][number] {
  const file = `${dir.replace(/\/$/, '')}/.nsrig-setuid-${process.pid}`;
  const source = ID_PROGRAM.find((p) => fs.existsSync(p)) ?? ID_PROGRAM[0]!;
  const copy = attempt(() => {
    fs.copyFileSync(source, file);
    fs.chownSync(file, 0, 0);
    fs.chmodSync(file, 0o4755);
  });
  try {
    if (copy.errno !== null) return { dir, copy, run: ok, euid: null };
    const r = spawnSync(file, ['-u'], { uid, gid, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 });
    const euid = r.status === 0 && /^\d+$/.test(r.stdout.trim()) ? Number(r.stdout.trim()) : null;
    return { dir, copy, run: r.error ? fromError(r.error) : ok, euid };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Makes the null device (1:3) in `dir` and opens it: whether the mount lets a device node be used, tried rather than read. */
function deviceNode(dir: string): Observations['deviceNode'][number] {
  const file = `${dir.replace(/\/$/, '')}/.nsrig-null-${process.pid}`;
  const made = makeCharDeviceErrno(file, 1, 3);
  try {
    return { dir, mknod: fromErrno(made === 0 ? null : made), open: made === 0 ? attempt(() => fs.closeSync(fs.openSync(file, 'r+'))) : null };
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** A small tmpfs on an existing directory, for a propagation trial: the other side looks for it. */
function mountTmpfs(dir: string): Outcome {
  return attempt(() => mount('tmpfs', dir, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=755'));
}

/** A recursive bind onto a new directory: an unbindable source refuses it (EINVAL), whatever its submounts. */
function rbind(source: string, target: string): Outcome {
  return attempt(() => {
    fs.mkdirSync(target);
    mount(source, target, null, MS.BIND | MS.REC);
  });
}

/** One child at a time: a kill in one cannot disturb another's report. */
async function seccompCalls(calls: { name: string; nr: number }[], self: string): Promise<Observations['seccompCalls']> {
  const outcomes = [];
  for (const c of calls) outcomes.push({ name: c.name, outcome: await callInChild(self, c.nr) });
  return outcomes;
}

async function nestedUidMaps(ids: number[]): Promise<Observations['nestedUidMaps']> {
  const maps = [];
  for (const id of ids) maps.push(await nestedUidMap(id));
  return maps;
}

export type ActionObservations = Pick<Observations, 'bind' | 'connect' | 'ipcCreated' | 'ipcLookup' | 'writeInto' | 'read'
  | 'writeFile' | 'signal' | 'syscalls' | 'created' | 'stats' | 'mountedTmpfs' | 'rbound' | 'traceHost' | 'keyring' | 'orphan' | 'forkLimit' | 'execCopy' | 'texts'
  | 'cgroupWrites' | 'setuidCopy' | 'deviceNode' | 'cgroupFiles' | 'allocation' | 'seccompCalls' | 'nestedUidMaps' | 'userNamespaceJoins'>;

/**
 * `mounts`: the container's mount table as observed, where the cgroup filesystems are looked for;
 * `self`: the probe's own file, which `seccompCalls` runs as children.
 */
export async function act(request: ProbeRequest, mounts: MountEntry[] = [], self = ''): Promise<ActionObservations> {
  const bound = [];
  for (const b of request.bind ?? []) bound.push({ ...b, ...(await bind(b.proto, b.port)) });
  const connected = [];
  for (const c of request.connect ?? []) connected.push({ ...c, ...(await connect(c.host, c.port)) });
  return {
    bind: bound,
    connect: connected,
    ipcCreated: ipc(request.ipc?.create, true),
    ipcLookup: ipc(request.ipc?.lookup, false),
    writeInto: (request.writeInto ?? []).map((path) => ({ path, ...writeInto(path) })),
    read: (request.read ?? []).map((path) => ({ path, ...readPath(path) })),
    writeFile: (request.writeFile ?? []).map((path) => ({ path, ...writeFile(path) })),
    signal: (request.signal ?? []).map((pid) => ({ pid, ...signal(pid) })),
    syscalls: (request.syscalls ?? []).map((s) => {
      const r = trySyscall(s.nr, s.args);
      return { name: s.name, result: Number(r.result), ...fromErrno(r.errno === 0 ? null : r.errno) };
    }),
    created: (request.createFile ?? []).map((path) => ({ path, ...createFile(path) })),
    stats: (request.stat ?? []).map(statPath),
    mountedTmpfs: (request.mountTmpfs ?? []).map((path) => ({ path, ...mountTmpfs(path) })),
    rbound: (request.rbind ?? []).map((b) => ({ ...b, ...rbind(b.source, b.target) })),
    traceHost: request.traceHost === undefined ? null : traceHost(request.traceHost),
    keyring: request.keyring ? keyring(request.keyring) : null,
    orphan: request.orphan ? await startOrphan(request.orphan) : null,
    execCopy: (request.execCopy ?? []).map(execCopy),
    texts: (request.readText ?? []).map(readText),
    cgroupWrites: request.cgroupWrites ? cgroupWrites(mounts) : [],
    setuidCopy: request.setuidCopy ? request.setuidCopy.dirs.map((d) => setuidCopy(d, request.setuidCopy!.uid, request.setuidCopy!.gid)) : [],
    deviceNode: (request.deviceNode ?? []).map(deviceNode),
    cgroupFiles: (request.cgroupRead ?? []).map((file) => cgroupFile(file, mounts)),
    allocation: request.allocate ? allocate(request.allocate.mib, mounts) : null,
    seccompCalls: await seccompCalls(request.seccompCalls ?? [], self),
    nestedUidMaps: await nestedUidMaps(request.nestedUidMap ?? []),
    userNamespaceJoins: joinUserNamespaces(request.joinUserNamespace ?? []),
    forkLimit: request.forkUntilRefused ? await forkUntilRefused(request.forkUntilRefused.max, mounts) : null,
  };
}

export function releaseHeldSockets(): void {
  for (const s of heldSockets) s.close();
}
