// What the harness asks of the probe and what the probe reports. Plain data both ways: the probe
// observes and acts, and the host alone decides pass or fail.
import type { MountinfoEntry as MountEntry } from '../../core/mountinfo.js';

export interface ProbeRequest {
  /** Ports to bind inside, reporting the errno of each bind. */
  bind?: { proto: 'tcp' | 'udp'; port: number }[];
  /** Host-side listeners to try to reach from inside. */
  connect?: { host: string; port: number }[];
  /** System V objects and POSIX queues to create (and keep) or look up by key/name. */
  ipc?: { create?: IpcObjects; lookup?: IpcObjects };
  /** Paths to try to create a file in (each mount point, a read-only path, ...). */
  writeInto?: string[];
  /** Paths to try to read (masked paths). */
  read?: string[];
  /** Files to try to write to in place (read-only paths such as /proc/sys/kernel/hostname). */
  writeFile?: string[];
  /** Host pids to signal with signal 0. */
  signal?: number[];
  /** Raw syscalls to make: number and up to six arguments. */
  syscalls?: { name: string; nr: number; args?: number[] }[];
  /** Files to create (exclusively) and leave in place, for the host to inspect after the run. */
  createFile?: string[];
  /** Paths to stat: owner and mode as the container sees them. */
  stat?: string[];
  /** Directories (which must exist) to mount a small tmpfs on, left mounted: the other side of a propagation looks for it. */
  mountTmpfs?: string[];
  /** Recursive binds to try, each onto a new directory the probe makes (its parent writable), left mounted. */
  rbind?: { source: string; target: string }[];
  /**
   * Start a process in a session of its own that would outlive the probe, with this marker in its
   * command line so the host can look for it after teardown, and report its pid.
   */
  orphan?: string;
  /** A host pid to try to trace (PTRACE_SEIZE) and whose memory to open (/proc/PID/mem). */
  traceHost?: number;
  /** A key on the host: try to view it by serial, and search the session keyring for its description. */
  keyring?: { serial: number; description: string };
  /**
   * Start processes until the pids controller refuses one (at most `max`), read the controller's
   * files in the container's cgroup mount, then end them all.
   */
  forkUntilRefused?: { max: number };
  /** Files whose text to report (kernel parameters under /proc/sys). */
  readText?: string[];
  /**
   * cgroup interface files to read in the container's own cgroup mount ("memory.max", "cpu.shares"):
   * the name's first part is the controller, looked for as a v1 hierarchy, else in the cgroup2 mount.
   */
  cgroupRead?: string[];
  /**
   * Start a process that makes itself the OOM killer's first choice and allocates (and touches)
   * this many MiB, one at a time, then exits; report how it ended and the memory controller's
   * oom_kill count before and after.
   */
  allocate?: { mib: number };
  /** Container uids to map to root of a nested user namespace, each in a new one (nested-userns.ts). */
  nestedUidMap?: number[];
  /** User namespace files to open and try to setns(2) into, each (user-namespace-join.ts). */
  joinUserNamespace?: string[];
  /** Calls to make each in a child process of its own (no arguments), reporting how each went (seccomp-action.ts). */
  seccompCalls?: { name: string; nr: number }[];
  /** Directories to copy a small program (true(1)) into and run it from, then remove it. */
  execCopy?: string[];
  /**
   * In each cgroup filesystem the container sees: open its release_agent, notify_on_release and
   * cgroup.procs for writing (closed unwritten) and make a child cgroup (removed at once).
   */
  cgroupWrites?: boolean;
  /** Directories to copy id(1) into as a set-user-ID root program, and run it as `uid` to see the effective uid it gets. */
  setuidCopy?: { dirs: string[]; uid: number; gid: number };
  /** Directories to make a character device node (1:3, null) in and open it, then remove it. */
  deviceNode?: string[];
  /** Also report a child and a grandchild (namespace inheritance). */
  children?: boolean;
  /** After reporting, keep running until stdin closes (two containers alive at once). */
  hold?: boolean;
  /**
   * With hold: each line read from stdin makes the probe look again (passive observations, stat
   * and read; nothing it acts on twice) and print another line, so the host can change something
   * between two looks.
   */
  lookAgain?: boolean;
  /**
   * With hold: after the first report, watch for processes that appear in the container (a process
   * a runtime is joining to it with exec) and reach for each as a hostile process of the container
   * would (join-watch.ts), until a line arrives on stdin; then report again with `joinWindow`.
   * memory: also try to open each one's /proc/PID/mem and list its /proc/PID/fd.
   */
  watchJoins?: { memory: boolean };
  /** After reporting, keep running until killed: stdin closing does not end the probe. */
  linger?: boolean;
  /**
   * Catch these signals from the start (before the first report), and once one arrives report
   * again, with every signal caught in a short window after it (`caughtSignals`).
   */
  catchSignals?: NodeJS.Signals[];
}

/**
 * Signals the probe can catch and survive: Node installs a handler for these. SIGKILL and SIGSTOP
 * cannot be caught at all; SIGSEGV, SIGBUS, SIGFPE and SIGILL not from JavaScript; SIGCHLD and
 * SIGPIPE are Node's own business.
 */
export const CATCHABLE_SIGNALS: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGALRM', 'SIGTERM', 'SIGWINCH', 'SIGURG'];

export interface IpcObjects {
  shmKey?: number;
  semKey?: number;
  msgKey?: number;
  mqueue?: string;
}

export interface Outcome {
  /** null when the action succeeded. */
  errno: number | null;
  code: string | null;
}

export interface ProcessView {
  pid: number;
  ppid: number;
  sid: number;
  uids: number[];
  gids: number[];
  groups: number[];
  /** Hex masks from /proc/self/status. */
  capabilities: { inheritable: string; permitted: string; effective: string; bounding: string; ambient: string };
  noNewPrivs: number;
  seccomp: number;
  /** Namespace inodes by type, from /proc/self/ns/*. */
  namespaces: Record<string, number>;
  cwd: string;
  root: string;
  /** Mount ids (as in mountinfo) of the cwd and the root directory; null when they cannot be opened. */
  cwdMountId: number | null;
  rootMountId: number | null;
  /**
   * Open descriptors, by number. inherited = not one Node opened for itself, i.e. handed over by
   * whoever exec'd us (0-2 always; see observe.ts for why close-on-exec cannot tell). mountId is
   * fdinfo's mnt_id; kind is what the descriptor names.
   */
  fds: { fd: number; target: string; inherited: boolean; mountId: number | null; kind: FileKind }[];
}

export type FileKind = 'dir' | 'file' | 'char' | 'block' | 'other';

/** One /proc/self/mountinfo line, parsed by the engine's parser (core/mountinfo.ts). */
export type { MountinfoEntry as MountEntry } from '../../core/mountinfo.js';

export interface Observations {
  self: ProcessView;
  /** Numeric entries of /proc. */
  procPids: number[];
  hostname: string;
  domainname: string;
  uidMap: string;
  gidMap: string;
  setgroups: string;
  cgroup: string;
  mounts: MountEntry[];
  env: Record<string, string>;
  /** The home directory of this uid in the container's /etc/passwd, or null without an entry. */
  passwdHome: string | null;
  interfaces: { name: string; up: boolean }[];
  devices: string[];
  /** /proc/self/limits, one row per resource in the kernel's order (RLIMIT_CPU first): soft and hard as printed ("unlimited" or a number). */
  limits: { soft: string; hard: string }[];
  /** The Umask line of /proc/self/status ("0022"), or null without one. */
  umask: string | null;
  /** /proc/self/timens_offsets and clock readings (seconds). */
  time: { offsets: string; monotonic: number; boottime: number };
  bind: ({ proto: string; port: number } & Outcome)[];
  connect: ({ host: string; port: number } & Outcome)[];
  ipcCreated: Record<string, Outcome>;
  ipcLookup: Record<string, Outcome>;
  writeInto: ({ path: string } & Outcome)[];
  read: ({ path: string; bytes: number } & Outcome)[];
  writeFile: ({ path: string } & Outcome)[];
  signal: ({ pid: number } & Outcome)[];
  syscalls: ({ name: string; result: number } & Outcome)[];
  created: ({ path: string } & Outcome)[];
  stats: ({ path: string; uid: number | null; gid: number | null; mode: number | null } & Outcome)[];
  /** What became of each `mountTmpfs` mount. */
  mountedTmpfs: ({ path: string } & Outcome)[];
  /** What became of each `rbind`. */
  rbound: ({ source: string; target: string } & Outcome)[];
  /** What became of `traceHost`'s attempts; null when none was asked for. */
  traceHost: { pid: number; seize: Outcome; procMem: Outcome } | null;
  /** The session keyring's serial (0 without one) and what became of `keyring`'s two lookups; null when none was asked for. */
  keyring: { sessionSerial: number; describe: Outcome; search: Outcome } | null;
  /**
   * What became of `forkUntilRefused`: the pids controller's directory as mounted inside (null when
   * no cgroup mount shows it), pids.max before the first start and pids.current at the refusal
   * (null when unreadable), how many processes started, and the refusal (null when none came).
   */
  forkLimit: { dir: string | null; max: string | null; currentAtRefusal: string | null; started: number; refused: Outcome | null } | null;
  /** Each `cgroupRead` file: the directory it was looked for in (null: no mount holds that controller) and its text, trimmed. */
  cgroupFiles: ({ file: string; dir: string | null; text: string | null } & Outcome)[];
  /**
   * What became of `allocate`: the allocating process's exit code or signal (null exit and signal
   * when it could not start: see start), and the oom_kill count of the memory controller's
   * memory.events (v2) or memory.oom_control (v1) before and after (null when unreadable).
   */
  allocation: { mib: number; start: Outcome; exit: number | null; signal: string | null; oomKillsBefore: number | null; oomKillsAfter: number | null } | null;
  /**
   * Each `nestedUidMap` id: whether the child reached a user namespace of its own, what became of
   * writing "0 ID 1" to its uid_map, and the map read back from the container (words joined by one space; "" when empty).
   */
  nestedUidMaps: { id: number; unshared: boolean; write: Outcome; readBack: string | null }[];
  /**
   * Each `joinUserNamespace` file: its open for reading and the inode it opened (null when the open
   * failed), and the setns(CLONE_NEWUSER) into it (null when the open failed), with nsenter's last
   * line of stderr when the join failed.
   */
  userNamespaceJoins: { file: string; open: Outcome; inode: number | null; setns: Outcome | null; message: string | null }[];
  /** How each `seccompCalls` call went in its child: 'returned', 'errno:EPERM', 'trapped', 'killed:SIGSYS', 'thread-killed', ... */
  seccompCalls: { name: string; outcome: string }[];
  /** Each `readText` file's text, trimmed; null when it could not be read. */
  texts: ({ path: string; text: string | null } & Outcome)[];
  /** What became of each `execCopy`: the copy, and the run (its exit code when it ran; null exit when it did not). */
  execCopy: { dir: string; copy: Outcome; run: Outcome; exit: number | null }[];
  /**
   * What became of `cgroupWrites`, per cgroup filesystem mount point the probe sees (the topmost
   * mount there): whether its mount options say ro, each open for writing (null when the file is
   * absent) and the child cgroup's creation.
   */
  cgroupWrites: { mountPoint: string; fsType: string; readonly: boolean; releaseAgent: Outcome | null; notifyOnRelease: Outcome | null;
    procs: Outcome | null; mkdir: Outcome }[];
  /** What became of each `setuidCopy` directory: the copy (made set-user-ID root), the run, and the effective uid id(1) printed. */
  setuidCopy: { dir: string; copy: Outcome; run: Outcome; euid: number | null }[];
  /** What became of each `deviceNode` directory: making the node, and opening it. */
  deviceNode: { dir: string; mknod: Outcome; open: Outcome | null }[];
  /** The process started by `orphan` (its marker and pid inside), or null when none was asked for. */
  orphan: ({ marker: string; pid: number | null } & Outcome) | null;
  children: ProcessView[];
  /** With watchJoins, in the report the stdin line prompted: what the watch reached. */
  joinWindow?: JoinWindow;
  /** With catchSignals, in the report a signal prompted: the signals caught so far, in arrival order. */
  caughtSignals?: string[];
}

/** A process reached while watching: its pid, and its command line read right after (null when it had gone). */
export interface ReachedProcess {
  pid: number;
  cmdline: string[] | null;
}

/** What a watch for joining processes (ProbeRequest.watchJoins) reached. */
export interface JoinWindow {
  /** Pids that appeared while watching. */
  appeared: number[];
  /** How many times the watch looked at /proc. */
  scans: number;
  /**
   * Each /proc/PID/exe opened (O_PATH): the file's identity as fstat gave it, and the attempt,
   * once the watch ended, to open it again for writing through /proc/self/fd (closed at once, never written).
   */
  exe: (ReachedProcess & { dev: number; ino: number; reopenForWriting: Outcome })[];
  /** Each process whose /proc/PID/mem could be opened for reading (closed at once). */
  memory: ReachedProcess[];
  /** Each process whose /proc/PID/fd could be listed, with the targets of its descriptors. */
  descriptors: (ReachedProcess & { fds: string[] })[];
  /** The last errno met reaching each kind, when any attempt was refused. */
  refused: { exe: string | null; memory: string | null; descriptors: string | null };
}

export const PROBE_REQUEST_FLAG = '--request';

export function encodeRequest(request: ProbeRequest): string {
  return Buffer.from(JSON.stringify(request)).toString('base64url');
}

export function decodeRequest(text: string): ProbeRequest {
  return JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as ProbeRequest;
}
