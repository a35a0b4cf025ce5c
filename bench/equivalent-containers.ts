// The same container five ways: user, pid, mnt, uts, ipc and net namespaces, /proc of its own,
// a /dev, the host's files read-only where the launcher can do that, running one program.
// What each launcher does beyond or short of that is written in `setup`, so a reader can weigh
// the numbers; the namespace probe checks the part they all promise.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseProfile } from '../policy/profile/load.js';
import type { Profile } from '../policy/profile/types.js';
import { writeBundle } from '../harness/targets/oci/bundle-writer.js';
import type { BenchContext } from './bench-context.js';
import { NSRIG_CLI } from './bench-context.js';

export const NAMESPACES = ['user', 'pid', 'mnt', 'uts', 'ipc', 'net'] as const;

/** The profile document nsrig runs; also what the OCI bundles are written from. */
export const EQUIVALENT_PROFILE = {
  name: 'bench-equivalent',
  namespaces: [...NAMESPACES],
  mounts: [{ type: 'proc' }, { type: 'dev' }],
  // unshare and bwrap mask nothing; the OCI runtimes then mask nothing either.
  maskedPaths: [],
  readonlyPaths: [],
  process: { args: ['true'] },
};

export interface EquivalentContainer {
  name: string;
  /** One container running argv; `id` is unique among containers alive at the same time. */
  argv(id: string, program: string[]): string[];
  /** What this launcher sets up, in words, where it differs from the others. */
  setup: string;
}

export interface ContainerWorkspace {
  profile: Profile;
  profileFile: string;
  containers: EquivalentContainer[];
  /** Runtime state roots, so leftovers can be found and removed. */
  stateRoots: Record<'crun' | 'runc', string>;
}

/** Bundles are written per program, once, and reused by every launch of that program. */
function ociContainer(runtime: 'crun' | 'runc', ctx: BenchContext, profile: Profile, stateRoot: string, setup: string): EquivalentContainer {
  const bundles = new Map<string, string>();
  const bundleFor = (program: string[]): string => {
    const key = JSON.stringify(program);
    let dir = bundles.get(key);
    if (dir === undefined) {
      dir = path.join(ctx.workDir, `bundle-${bundles.size}`);
      if (!fs.existsSync(dir)) writeBundle(profile, dir, { args: program, probe: false });
      bundles.set(key, dir);
    }
    return dir;
  };
  return {
    name: `${runtime} run`,
    argv: (id, program) => [runtime, '--root', stateRoot, 'run', '--bundle', bundleFor(program), id],
    setup,
  };
}

export function prepareEquivalentContainers(ctx: BenchContext): ContainerWorkspace {
  const profileFile = path.join(ctx.workDir, 'profile.json');
  fs.writeFileSync(profileFile, JSON.stringify(EQUIVALENT_PROFILE, null, 2));
  const profile = parseProfile(EQUIVALENT_PROFILE, profileFile);
  const stateRoots = { crun: path.join(ctx.workDir, 'state-crun'), runc: path.join(ctx.workDir, 'state-runc') };
  for (const [runtime, root] of Object.entries(stateRoots)) {
    fs.mkdirSync(root, { mode: 0o700 });
    ctx.teardown.add(`delete ${runtime} containers left in ${root}`, () => deleteLeftovers(runtime, root));
  }
  const ociSetup = 'bundle from the same profile: generated rootfs with read-only binds of /usr (plus merged-/usr symlinks), ' +
    'root 0→100000×65536, Docker default capabilities, no_new_privs, its own cgroup; /dev from the runtime';
  const containers: EquivalentContainer[] = [
    {
      name: 'nsrig run',
      argv: (_id, program) => [process.execPath, NSRIG_CLI, 'run', profileFile, '--', ...program],
      setup: 'profile above: host root cloned read-only, root 0→100000×65536 with setgroups deny, /proc, /dev (tmpfs, 6 devices), ' +
        'loopback up, Docker default capabilities, no_new_privs, its own cgroup; the program is PID 1',
    },
    {
      name: 'unshare',
      argv: (_id, program) => ['unshare', '-Urpf', '--mount-proc', '-u', '-i', '-n', ...program],
      setup: 'root 0→0 (one id), host root stays read-write, /proc remounted, host /dev, loopback down, all capabilities, ' +
        'no cgroup; the program is PID 1',
    },
    {
      name: 'bwrap',
      argv: (_id, program) => [
        'bwrap', '--unshare-user', '--unshare-pid', '--unshare-uts', '--unshare-ipc', '--unshare-net',
        '--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev', ...program,
      ],
      setup: 'root 0→0 (one id), / bound read-only on a tmpfs root, /proc, /dev (bwrap\'s), loopback up, nearly all capabilities, no_new_privs, ' +
        'no cgroup; bwrap stays as PID 1 and the program is PID 2',
    },
    ociContainer('crun', ctx, profile, stateRoots.crun, ociSetup),
    ociContainer('runc', ctx, profile, stateRoots.runc, ociSetup),
  ];
  return { profile, profileFile, containers, stateRoots };
}

/** Containers a runtime still lists in a state root: none after a clean run. */
export function leftoverContainers(root: string): string[] {
  try {
    return fs.readdirSync(root);
  } catch {
    return [];
  }
}

function deleteLeftovers(runtime: string, root: string): void {
  const failed: string[] = [];
  for (const id of leftoverContainers(root)) {
    const r = spawnSync(runtime, ['--root', root, 'delete', '--force', id], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) failed.push(`${id}: ${(r.stderr ?? '').trim() || r.error?.message || `exit ${r.status}`}`);
  }
  if (failed.length > 0) throw new Error(`${runtime} delete --force failed for ${failed.join('; ')}`);
}

/** A shell script that prints, from inside, what the comparison rests on. */
const PROBE_SCRIPT = 'echo "pid=$$"; for n in user pid mnt uts ipc net; do echo "$n=$(readlink /proc/self/ns/$n)"; done; ' +
  'echo "uid_map=$(cat /proc/self/uid_map)"; cat /proc/self/status';

export interface ProbeObservation {
  /** The probe shell's pid inside: 1 when the program is the namespace's init. */
  pid: number;
  /** Namespaces that are the host's own, which should be none. */
  sharedWithHost: string[];
  uidMap: string;
  capEff: string;
  noNewPrivs: boolean;
}

/** Runs the probe in one container and reads what it saw; throws when the launch failed. */
export function probeContainer(container: EquivalentContainer, id: string): ProbeObservation {
  const argv = container.argv(id, ['sh', '-c', PROBE_SCRIPT]);
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) {
    throw new Error(`${container.name}: the namespace probe failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr ?? '').trim()}`);
  }
  const field = (name: string): string => new RegExp(`^${name}[=:]\\s*(.*)$`, 'm').exec(r.stdout)?.[1]?.trim() ?? '';
  const sharedWithHost = NAMESPACES.filter((n) => field(n) === fs.readlinkSync(`/proc/self/ns/${n}`));
  return {
    pid: Number(field('pid')),
    sharedWithHost,
    uidMap: field('uid_map').replace(/\s+/g, ' '),
    capEff: field('CapEff'),
    noNewPrivs: field('NoNewPrivs') === '1',
  };
}
