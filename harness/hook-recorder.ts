// OCI hooks that write down where and when they ran. Each hook is node running one small script
// (record.cjs in a temp dir of the host) that appends one JSON line to a log beside it: its kind,
// /proc/self/ns/* as it sees them, its stdin, and what became of the container's host pid. The
// log lives outside the container, so a target that runs a hook in the wrong place cannot hide
// it. startContainer hooks resolve their path in the container (config.md), so with a mount
// namespace the directory is also bound into it at HOOK_DIR_IN_CONTAINER.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseProfile } from '../policy/profile/load.js';
import { profileToDocument } from '../policy/profile/profile-writer.js';
import { HOOK_KINDS, type HookKind, type Profile } from '../policy/profile/types.js';

/** Where the recorder's directory appears inside a container with a mount namespace. /run is an empty mount point in every host root view. */
export const HOOK_DIR_IN_CONTAINER = '/run/nsrig-hooks';
/** Namespace types a hook's record names, by their /proc/self/ns file. */
export const RECORDED_NAMESPACES = ['mnt', 'pid', 'net', 'uts', 'ipc', 'user'] as const;
/** The kinds config.md runs in the runtime's namespaces; createContainer and startContainer run in the container's. */
export const RUNTIME_NAMESPACE_HOOKS: readonly HookKind[] = ['prestart', 'createRuntime', 'poststart', 'poststop'];
/** How long the startContainer recording hook lingers after recording (see the script). */
const START_CONTAINER_DELAY_MS = 300;
/** A recording hook that hangs is killed: the check must end whatever a target does with it. */
const RECORD_TIMEOUT_SECONDS = 15;

export interface HookRecord {
  kind: HookKind;
  /** This hook exits 1 after recording. */
  failing: boolean;
  /** Inode of each of RECORDED_NAMESPACES as the hook saw it; null where it could not be read. */
  namespaces: Record<string, number | null>;
  /** Its stdin as read, or null when reading failed. */
  stdin: string | null;
  /** The v2 cgroup ("0::" line) of the pid its state names, read from the hook's /proc; null when unreadable. */
  stateCgroup: string | null;
  /** For each host pid an earlier record's state named (runtime-namespace hooks only): whether it still exists. */
  earlierPidsAlive: Record<string, boolean>;
}

/**
 * Runs with node as a hook: argv is KIND LOG [fail]. CommonJS, so it runs from any directory
 * whatever package.json lies above it.
 */
const RECORD_SCRIPT = String.raw`'use strict';
const fs = require('fs');
const [kind, log, mode] = process.argv.slice(2);
const namespaces = {};
for (const type of ${JSON.stringify(RECORDED_NAMESPACES)}) {
  try {
    namespaces[type] = Number(/\[(\d+)\]/.exec(fs.readlinkSync('/proc/self/ns/' + type))[1]);
  } catch {
    namespaces[type] = null;
  }
}
let stdin = null;
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
let pid;
try { pid = JSON.parse(stdin).pid; } catch {}
let stateCgroup = null;
if (Number.isInteger(pid)) {
  // Not core/cgroup-layout's reader: this script runs on its own inside a runtime's hook, where
  // nsrig's modules may not be reachable; it needs the v2 line only.
  try { stateCgroup = (fs.readFileSync('/proc/' + pid + '/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::')) || '').slice(3) || null; } catch {}
}
const earlierPidsAlive = {};
try {
  for (const line of fs.readFileSync(log, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    if (!r.runtimeNamespace) continue;
    let p;
    try { p = JSON.parse(r.stdin).pid; } catch {}
    if (Number.isInteger(p)) earlierPidsAlive[p] = fs.existsSync('/proc/' + p);
  }
} catch {}
const runtimeNamespace = ${JSON.stringify(RUNTIME_NAMESPACE_HOOKS)}.includes(kind);
fs.appendFileSync(log, JSON.stringify({ kind, failing: mode === 'fail', runtimeNamespace, namespaces, stdin, stateCgroup, earlierPidsAlive }) + '\n');
const done = () => process.exit(mode === 'fail' ? 1 : 0);
// startContainer takes its time: a runtime that runs poststart before start's hooks and the
// program are done then shows it every time, not only when the race goes that way.
if (kind === 'startContainer') setTimeout(done, ${START_CONTAINER_DELAY_MS});
else done();
`;

export interface HookRecording {
  /** The hook kinds given a recording hook. */
  kinds: HookKind[];
  /** The kind whose hook fails (exits 1 after recording), if any. */
  failing?: HookKind;
}

/**
 * /run where the host has it: createContainer hooks resolve their paths in the runtime's mount
 * tree but run in the container's mount namespace before pivot_root, where the built-in engine
 * has already covered /tmp (its staging root) with the new root; /run is still the host's there.
 */
function recorderParent(): string {
  return fs.statSync('/run', { throwIfNoEntry: false })?.isDirectory() ? '/run' : os.tmpdir();
}

export class HookRecorder {
  readonly dir: string;
  private readonly log: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(recorderParent(), 'nsrig-hooks-'));
    // The hooks run as the container's users too (a mapped root, a generated uid): they must
    // reach the script and append to the log; nothing else is in this directory.
    fs.chmodSync(this.dir, 0o755);
    fs.writeFileSync(path.join(this.dir, 'record.cjs'), RECORD_SCRIPT, { mode: 0o644 });
    this.log = path.join(this.dir, 'log');
    fs.writeFileSync(this.log, '');
    fs.chmodSync(this.log, 0o666);
  }

  /** The profile with a recording hook of each kind asked for (and the bind that startContainer needs). */
  hooked(profile: Profile, recording: HookRecording): Profile {
    const doc = profileToDocument(profile);
    const inContainer = profile.namespaces.includes('mnt');
    const hookFor = (kind: HookKind) => {
      const dir = kind === 'startContainer' && inContainer ? HOOK_DIR_IN_CONTAINER : this.dir;
      const args = ['node', path.join(dir, 'record.cjs'), kind, path.join(dir, 'log'), ...(recording.failing === kind ? ['fail'] : [])];
      return { path: process.execPath, args, timeout: RECORD_TIMEOUT_SECONDS };
    };
    doc.hooks = Object.fromEntries(HOOK_KINDS.filter((k) => recording.kinds.includes(k)).map((k) => [k, [hookFor(k)]]));
    if (inContainer && recording.kinds.includes('startContainer')) {
      doc.mounts = [...(doc.mounts as unknown[]), { type: 'bind', source: this.dir, destination: HOOK_DIR_IN_CONTAINER, readonly: false }];
    }
    // Read back as our own document shape, never as an OCI config.json (nsrig check --config's
    // profile may come from one), with relative paths still against the profile's directory.
    return parseProfile(doc, `${profile.source} with recording hooks`, { checkPaths: true });
  }

  /** Every record so far, in the order the hooks ran. */
  records(): HookRecord[] {
    return fs.readFileSync(this.log, 'utf8').split('\n').filter(Boolean).map((line) => {
      const { runtimeNamespace: _ignored, ...record } = JSON.parse(line) as HookRecord & { runtimeNamespace: boolean };
      return record;
    });
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A record's stdin as the state JSON object, or undefined when it is not one. */
export function stateOf(record: HookRecord): Record<string, unknown> | undefined {
  try {
    const state = JSON.parse(record.stdin ?? '') as unknown;
    return typeof state === 'object' && state !== null && !Array.isArray(state) ? state as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
