// What a host needs before the built-in engine can build a container here, each found by trying
// it (a cgroup is created and removed, a process is cloned into a new user namespace, a minimal
// container runs) rather than by reading version numbers, and each with what to do about it.
// `nsrig check` refuses to start (exit 3) on what is missing; `nsrig doctor` prints all of it.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { SECCOMP_RET } from '../../policy/seccomp/actions.js';
import { readCgroupLayout } from '../../core/cgroup-layout.js';

export type PrerequisiteState = 'ok' | 'warn' | 'missing';

export interface Prerequisite {
  id: string;
  /** What is needed, for people: "user namespaces". */
  title: string;
  state: PrerequisiteState;
  /** A missing required prerequisite stops nsrig check (exit 3); a missing optional one only a feature. */
  required: boolean;
  /** What was found. */
  detail: string;
  /** What to do, when the state is not ok. */
  fix?: string;
  /** What was measured, for machines (nsrig doctor --json) and for tests that compare it with the host. */
  facts?: Record<string, unknown>;
}

type Check = () => Promise<Omit<Prerequisite, 'required'>>;

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

const root: Check = async () => {
  const uid = process.getuid?.();
  return uid === 0
    ? { id: 'root', title: 'running as root', state: 'ok', detail: 'uid 0', facts: { uid } }
    : {
      id: 'root', title: 'running as root', state: 'missing', detail: `uid ${uid}`, facts: { uid },
      fix: 'run nsrig as root (sudo): namespaces with arbitrary id maps, mounts and cgroups need it',
    };
};

const platform: Check = async () => {
  const id = 'platform';
  const title = 'Linux, x86_64, glibc';
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return { id, title, state: 'missing', detail: `${process.platform} on ${process.arch}`, fix: 'run nsrig on x86_64 Linux: the launcher relies on x86_64 glibc\'s ucontext layout' };
  }
  try {
    // Loads libc through koffi: on musl or without glibc this is where it fails.
    const { assertCloneExecSupported } = await import('../../core/host-kernel.js');
    assertCloneExecSupported();
    const glibc = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime ?? 'unknown';
    return { id, title, state: 'ok', detail: `x86_64, glibc ${glibc}`, facts: { arch: process.arch, glibc } };
  } catch (e) {
    return { id, title, state: 'missing', detail: message(e), fix: 'run nsrig on a glibc (>= 2.28) distribution such as Debian, Ubuntu, Fedora; musl (Alpine) is not supported' };
  }
};

const cgroupV2: Check = async () => {
  const id = 'cgroup-v2';
  const title = 'cgroup v2';
  const layout = readCgroupLayout();
  const facts = { mode: layout.mode, unifiedMount: layout.unifiedMount ?? null, unifiedControllers: layout.unifiedControllers };
  const fix = 'mount the cgroup2 hierarchy (mount -t cgroup2 none /sys/fs/cgroup/unified, or boot with systemd.unified_cgroup_hierarchy=1): the engine puts each container in a cgroup of its own to kill every process of it at teardown';
  if (layout.unifiedMount === undefined) return { id, title, state: 'missing', detail: `no cgroup2 mount (layout: ${layout.mode})`, fix, facts };
  const kind = layout.mode === 'v2' ? `pure v2 at ${layout.unifiedMount}` : `hybrid: cgroup2 at ${layout.unifiedMount} beside v1 hierarchies`;
  const { ContainerCgroup } = await import('../../core/cgroup.js');
  // Named like a container's cgroup, so the next run sweeps it if this process dies in between.
  let cgroup;
  try {
    cgroup = ContainerCgroup.create(`nsrig-${process.pid}-${randomBytes(4).toString('hex')}`);
  } catch (e) {
    return { id, title, state: 'missing', detail: `${kind}; creating a cgroup failed: ${message(e)}`, fix, facts };
  }
  if (cgroup === undefined) return { id, title, state: 'missing', detail: `${kind}, but the engine finds no cgroup2 root it uses`, fix, facts };
  const canKill = fs.existsSync(path.join(cgroup.dir, 'cgroup.kill'));
  await cgroup.remove();
  const detail = `${kind}; created and removed ${cgroup.dir}`;
  return canKill
    ? { id, title, state: 'ok', detail, facts: { ...facts, probe: cgroup.dir } }
    : { id, title, state: 'missing', detail: `${detail}, which has no cgroup.kill`, fix: 'Linux 5.14 or later: teardown kills a container\'s processes through cgroup.kill', facts };
};

const userNamespaces: Check = async () => {
  const id = 'user-namespaces';
  const title = 'user namespaces';
  const max = readNumber('/proc/sys/user/max_user_namespaces');
  const facts = { maxUserNamespaces: max ?? null };
  const fix = 'allow user namespaces: sysctl -w user.max_user_namespaces=15000 (and make it last in /etc/sysctl.d/)';
  if (max === 0) return { id, title, state: 'missing', detail: 'user.max_user_namespaces is 0', fix, facts };
  try {
    const { cloneExec, waitForExit, closeFd } = await import('../../core/host-kernel.js');
    const program = trueProgram();
    const child = cloneExec({ path: program.path, argv: program.argv, envp: [], namespaceFlags: CLONE.NEWUSER, inheritFds: [] });
    try {
      const exit = await waitForExit(child.pidfd);
      const ran = exit.code === 0 ? `${program.argv.join(' ')} ran in it` : `${program.argv.join(' ')} ended with ${JSON.stringify(exit)} in it`;
      return { id, title, state: 'ok', detail: `a process was cloned into a new user namespace; ${ran} (max_user_namespaces ${max})`, facts };
    } finally {
      closeFd(child.pidfd);
    }
  } catch (e) {
    return { id, title, state: 'missing', detail: `clone(CLONE_NEWUSER) failed: ${message(e)}`, fix, facts };
  }
};

const timeNamespaces: Check = async () => {
  const id = 'time-namespaces';
  const title = 'time namespaces';
  if (!fs.existsSync('/proc/self/ns/time') || !fs.existsSync('/proc/self/timens_offsets')) {
    return { id, title, state: 'missing', detail: 'no /proc/self/ns/time and /proc/self/timens_offsets', fix: 'Linux 5.6 or later built with CONFIG_TIME_NS' };
  }
  const { readHostClocks } = await import('../../core/time-offsets.js');
  const clocks = readHostClocks();
  const lowest = Math.floor(Math.min(clocks.monotonic, clocks.boottime));
  return {
    id, title, state: 'ok', facts: { monotonic: clocks.monotonic, boottime: clocks.boottime },
    detail: `supported; the host is up ${clocks.monotonic.toFixed(0)} s (CLOCK_MONOTONIC) and ${clocks.boottime.toFixed(0)} s (CLOCK_BOOTTIME), `
      + `so a time offset can go down to -${lowest} s now`,
  };
};

const seccomp: Check = async () => {
  const id = 'seccomp';
  const title = 'seccomp filters';
  const fix = 'a kernel built with CONFIG_SECCOMP and CONFIG_SECCOMP_FILTER';
  if (!/^Seccomp:/m.test(readText('/proc/self/status'))) return { id, title, state: 'missing', detail: 'the kernel has no seccomp (/proc/self/status shows no Seccomp line)', fix };
  try {
    const { seccompActionAvailable } = await import('../../core/host-kernel.js');
    const kinds = Object.entries(SECCOMP_RET);
    const unknown = kinds.filter(([, ret]) => !seccompActionAvailable(ret)).map(([kind]) => kind);
    if (unknown.length) return { id, title, state: 'missing', detail: `the kernel does not know ${unknown.join(', ')}`, fix: 'Linux 5.6 or later', facts: { unknownActions: unknown } };
    return { id, title, state: 'ok', detail: `filter mode; the kernel knows every action (${kinds.map(([kind]) => kind).join(', ')})`, facts: { unknownActions: [] } };
  } catch (e) {
    return { id, title, state: 'missing', detail: message(e), fix };
  }
};

/** A minimal container of the default profile, the way nsrig check's cases start. */
const engine: Check = async () => {
  const id = 'engine';
  const title = 'a minimal container';
  const [{ launchContainer }, { parseProfile }] = await Promise.all([import('../../core/container.js'), import('../../policy/profile/load.js')]);
  const program = trueProgram();
  const profile = parseProfile({ name: 'doctor', process: { args: program.argv } }, '<nsrig doctor>', { checkPaths: false });
  try {
    const container = await launchContainer(profile, { stdio: 'pipe', stdin: 'null' });
    const exit = await container.wait();
    await container.destroy();
    const detail = `the built-in engine ran ${profile.process.args.join(' ')} in the default namespaces (${profile.namespaces.join(', ')})`;
    return exit.code === 0
      ? { id, title, state: 'ok', detail }
      : { id, title, state: 'missing', detail: `${detail}; it ended with ${JSON.stringify(exit)}`, fix: 'see the message above; nsrig run policy/examples/minimal.yaml shows the same with the program\'s output' };
  } catch (e) {
    return { id, title, state: 'missing', detail: `the built-in engine could not start one: ${message(e)}`, fix: 'fix what the message names; the lines above may say why' };
  }
};

/** In the order a person fixes them: nothing below works without what is above. */
const REQUIRED: readonly Check[] = [root, platform, cgroupV2, userNamespaces, timeNamespaces, seccomp, engine];

/** Every prerequisite of the built-in engine, each tried; the engine itself only once the rest holds. */
export async function examineHost(): Promise<Prerequisite[]> {
  const found: Prerequisite[] = [];
  for (const check of REQUIRED) {
    if (check === engine && found.some((p) => p.state === 'missing')) continue;
    found.push({ ...(await check()), required: true });
  }
  return found;
}

/** nsrig check's preflight for the built-in engine: what is missing, each with its fix. */
export async function hostPrerequisites(): Promise<string[]> {
  return (await examineHost()).filter((p) => p.state === 'missing').map(describeMissing);
}

export function describeMissing(p: Prerequisite): string {
  return `${p.title}: ${p.detail}${p.fix === undefined ? '' : `; ${p.fix}`}`;
}

/** `true` from PATH, else node itself: neither is assumed to be anywhere in particular. */
export function trueProgram(): { path: string; argv: string[] } {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':').filter((d) => d.startsWith('/'))) {
    const candidate = path.join(dir, 'true');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return { path: candidate, argv: [candidate] };
    } catch {
      // not here
    }
  }
  return { path: process.execPath, argv: [process.execPath, '-e', ''] };
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function readNumber(file: string): number | undefined {
  const text = readText(file).trim();
  return text === '' ? undefined : Number(text);
}
