// The container's cgroups on this host's layout: its cgroup v2 directory (teardown's, see
// cgroup.ts) and, where a controller the profile's resources need sits on a v1 hierarchy (hybrid
// and v1 hosts), a directory in that hierarchy too. Limits are written before the container's first
// process joins, so nothing of it ever runs unlimited. Every directory made is first written to its
// record (cgroup-dead-owners.ts), so the next nsrig run removes those of an nsrig process that died by SIGKILL.
import fs from 'node:fs';
import path from 'node:path';
import type { Profile } from '../policy/profile/types.js';
import {
  distinctV1Hierarchies, hierarchyKey, readCgroupLayout, readProcessCgroups, temporaryV1MountPoints, type CgroupLayout, type V1Hierarchy,
} from './cgroup-layout.js';
import { CgroupBusyError, ContainerCgroup } from './cgroup.js';
import { CgroupRecordFile, removeCgroupTree, removeEmptyCgroups, sweepDeadOwnersCgroupsOnce } from './cgroup-dead-owners.js';
import { attachDeviceProgram } from './cgroup-device-program.js';
import { O } from '../policy/kernel/process-control.js';
import {
  cgroupWritePlan, CgroupResourceRefusal, DEFAULT_DEVICE_RULES, type CgroupController, type CgroupWrite, type ControllerPlacement,
} from './cgroup-resource-writes.js';

/**
 * Stage 2 (a Node process: main thread, V8 and libuv workers) is in the container's cgroups from
 * before setup until it execs the program, so it counts against pids.max: it needed 12 tasks on
 * the development host, and below that setup dies ("pthread_create: Resource temporarily
 * unavailable"). A smaller limit is therefore written as this first and lowered by stage 2 itself
 * right before execve, as runc sets its limits once its own init is running: the kernel lets
 * pids.max go below the tasks already there and only refuses new ones.
 */
export const STAGE2_MIN_TASKS = 16;

/** A value the kernel refused, or a directory nsrig will not make; names the profile field. */
export class CgroupSetupError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'CgroupSetupError';
  }
}

/** v2 names the block I/O controller io; v1 blkio. */
const V2_NAME: Partial<Record<CgroupController, string>> = { blkio: 'io' };

/**
 * rmdir each, innermost first, a container's own cgroup with whatever its processes made below it;
 * returns those still there (busy: left for the next sweep).
 */
function removeDirs(dirs: readonly string[], leaves: ReadonlySet<string>): string[] {
  const left: string[] = [];
  for (const dir of [...dirs].reverse()) {
    try {
      if (!leaves.has(dir)) fs.rmdirSync(dir);
      else if (!removeCgroupTree(dir)) left.push(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

export class ContainerCgroups {
  private readonly made: string[] = [];
  /** Of `made`, the container's own cgroups (the rest are parents made on the way to them). */
  private readonly leaves = new Set<string>();
  private readonly v1Dirs = new Map<string, string>();
  /** The nsrig/ parents of default placements: shared, and removed by whoever leaves one empty. */
  private readonly defaultParents = new Set<string>();
  private lowered: { write: CgroupWrite; value: string } | undefined;
  private cgroup2: ContainerCgroup | undefined;
  warnings: string[] = [];

  private constructor(private readonly id: string, private readonly record: CgroupRecordFile) {}

  /** The v2 directory that teardown kills through; undefined on a host without cgroup v2. */
  get cgroup(): ContainerCgroup | undefined {
    return this.cgroup2;
  }

  /**
   * Makes the container's cgroups and writes its limits; throws CgroupSetupError (having removed
   * whatever it made) when a value is refused or the host's layout cannot carry it out.
   */
  static create(id: string, profile: Profile, layout: CgroupLayout = readCgroupLayout()): ContainerCgroups {
    sweepDeadOwnersCgroupsOnce();
    const groups = new ContainerCgroups(id, new CgroupRecordFile(id, layout));
    try {
      groups.setUp(profile, layout);
      return groups;
    } catch (e) {
      groups.removeNow();
      throw e;
    }
  }

  private fieldPrefix(profile: Profile): string {
    return path.basename(profile.source) === 'config.json' ? 'linux.' : '';
  }

  private setUp(profile: Profile, layout: CgroupLayout): void {
    const prefix = this.fieldPrefix(profile);
    const resources = profile.resources ?? {};
    const placement: ControllerPlacement = (controller) => {
      if (layout.v1Mounts.has(controller)) return 1;
      // devices is no v2 controller: a BPF program attached to the directory stands in for it.
      if (controller === 'devices' ? layout.unifiedMount !== undefined : layout.unifiedControllers.includes(V2_NAME[controller] ?? controller)) return 2;
      throw new CgroupResourceRefusal(`${prefix}resources`, `this host has no ${controller} controller mounted (neither a v1 hierarchy nor in ${layout.unifiedMount ?? 'a cgroup2 mount'})`);
    };
    let plan;
    try {
      plan = cgroupWritePlan(resources, placement, `${prefix}resources`);
    } catch (e) {
      if (e instanceof CgroupResourceRefusal) throw new CgroupSetupError(e.field, e.reason);
      throw e;
    }
    this.warnings = plan.warnings;
    const pidsLimit = resources.pids?.limit ?? 0;
    const pidsWrite = plan.writes.find((w) => w.controller === 'pids' && w.file === 'pids.max');
    if (pidsLimit > 0 && pidsLimit < STAGE2_MIN_TASKS && pidsWrite) {
      pidsWrite.value = String(STAGE2_MIN_TASKS);
      this.lowered = { write: pidsWrite, value: String(pidsLimit) };
    }
    const writes = [...plan.writes, ...this.unifiedWrites(profile, layout, prefix)];
    this.makeV2Dir(profile, layout, prefix);
    if (resources.devices !== undefined && placement('devices') === 2) {
      try {
        attachDeviceProgram(this.cgroup2!.dir, [...resources.devices, ...DEFAULT_DEVICE_RULES]);
      } catch (e) {
        throw new CgroupSetupError(`${prefix}resources.devices`, `the device program could not be attached to ${this.cgroup2!.dir}: ${(e as Error).message}`);
      }
    }
    const v2Controllers = [...new Set(writes.filter((w) => w.version === 2).map((w) => V2_NAME[w.controller] ?? w.controller))];
    if (v2Controllers.length > 0) this.enableV2Controllers(v2Controllers, layout, prefix);
    // Every v1 hierarchy, not only those the limits need: a hierarchy the container is not placed
    // in would leave it in nsrig's own cgroup there, which its cgroup mount and cgroup namespace
    // would then show (the host's root cgroup, often), and cgroupsPath would name a place in some
    // hierarchies only. runc and crun place it in each one too. A hierarchy crun's host
    // preparation mounts for a while is joined only when a limit needs it: the preparation's undo
    // waits for its last cgroup to go, and any other container there would hold it up.
    const needed = new Set(writes.filter((w) => w.version === 1).map((w) => w.controller as string));
    const temporary = temporaryV1MountPoints();
    for (const hierarchy of distinctV1Hierarchies(layout)) {
      if (temporary.has(hierarchy.mountPoint) && !hierarchy.controllers.some((c) => needed.has(c))) continue;
      this.makeV1Dir(hierarchy, profile, prefix);
    }
    for (const write of writes) this.apply(write);
  }

  /** resources.unified: v2 files written as given; on a host with v1 controllers runc refuses them. */
  private unifiedWrites(profile: Profile, layout: CgroupLayout, prefix: string): CgroupWrite[] {
    const unified = profile.resources?.unified;
    if (unified === undefined || Object.keys(unified).length === 0) return [];
    if (layout.mode !== 'v2') {
      throw new CgroupSetupError(`${prefix}resources.unified`,
        `cgroup v2 files need a host whose controllers are all on cgroup v2; this host is ${layout.mode} (runc refuses unified there too: "cannot use unified on cgroup v1")`);
    }
    return Object.entries(unified).map(([file, value]) => ({
      version: 2 as const, controller: file.slice(0, file.indexOf('.')) as CgroupController, file, value,
      field: `${prefix}resources.unified[${JSON.stringify(file)}]`,
    }));
  }

  private writeRecord(): void {
    // The default v2 directory is not in `made` (cgroup.ts makes it); listing it makes the record complete.
    const v2 = this.cgroup2 !== undefined && !this.made.includes(this.cgroup2.dir) ? [this.cgroup2.dir] : [];
    const parents = this.made.filter((d) => !this.leaves.has(d)).reverse();
    this.record.write([...v2, ...this.made.filter((d) => this.leaves.has(d))], [...parents, ...this.defaultParents]);
  }

  /**
   * Makes each missing directory down to `leaf`, the leaf itself new. A parent made on the way is
   * recorded only when the profile chose the path: the default parent (nsrig/) is shared by every
   * nsrig process, and the last container to leave it removes it (removeEmptyCgroups).
   */
  private makeDirs(root: string, leaf: string, field: string, recordParents: boolean, onMade?: (dir: string) => void): void {
    for (let attempt = 1; ; attempt++) {
      try {
        this.makeDirsOnce(root, leaf, field, recordParents, onMade);
        return;
      } catch (e) {
        // A shared parent removed by another nsrig process between our mkdirs (removeEmptyCgroups): again.
        if (!(e instanceof ParentVanished) || attempt === 5) throw e instanceof ParentVanished ? e.error : e;
      }
    }
  }

  private makeDirsOnce(root: string, leaf: string, field: string, recordParents: boolean, onMade?: (dir: string) => void): void {
    const parts = path.relative(root, leaf).split('/');
    let dir = root;
    for (const [i, part] of parts.entries()) {
      dir = path.join(dir, part);
      const isLeaf = i === parts.length - 1;
      if (!isLeaf && fs.existsSync(dir)) continue;
      const record = isLeaf || recordParents;
      if (record) {
        this.made.push(dir);
        if (isLeaf) this.leaves.add(dir);
        this.writeRecord();
      }
      try {
        fs.mkdirSync(dir);
      } catch (e) {
        if (record) this.leaves.delete(this.made.pop()!);
        const code = (e as NodeJS.ErrnoException).code;
        // Another nsrig process made the same parent a moment ago.
        if (code === 'EEXIST' && !isLeaf) continue;
        if (code === 'EEXIST') {
          throw new CgroupSetupError(field, `the cgroup ${dir} already exists; nsrig makes a new cgroup per container and never joins one`);
        }
        const error = new CgroupSetupError(field, `cannot make the cgroup ${dir}: ${(e as Error).message}`);
        if (code === 'ENOENT' && i > 0) throw new ParentVanished(error);
        throw error;
      }
      try {
        onMade?.(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !isLeaf) throw new ParentVanished(new CgroupSetupError(field, `${dir} went away while it was filled: ${(e as Error).message}`));
        throw e;
      }
    }
  }

  /**
   * Where the container's cgroup goes in one hierarchy, as runc's cgroupfs driver places it. The
   * default is nsrig/<id> below `defaultBase`: the hierarchy's root on cgroup v2 (a cgroup with
   * processes cannot enable controllers for its children), and on v1 nsrig's own cgroup, so a
   * container stays within whatever limits nsrig itself was started under, as runc's does.
   */
  private leafIn(mount: string, own: string, profile: Profile, defaultBase = '/'): string {
    const p = profile.cgroupsPath;
    if (p === undefined) return path.join(mount, defaultBase, 'nsrig', this.id);
    return p.startsWith('/') ? path.join(mount, p) : path.join(mount, own, p);
  }

  private makeV2Dir(profile: Profile, layout: CgroupLayout, prefix: string): void {
    if (layout.unifiedMount === undefined) return;
    if (profile.cgroupsPath === undefined) {
      this.cgroup2 = ContainerCgroup.create(this.id);
      if (this.cgroup2 !== undefined) this.defaultParents.add(path.dirname(this.cgroup2.dir));
      return;
    }
    // runc's fs2 driver puts a relative path beside its own cgroup, not below it: a cgroup with
    // processes in it cannot have controllers enabled for children.
    const leaf = this.leafIn(layout.unifiedMount, path.dirname(readProcessCgroups().unified ?? '/'), profile);
    this.makeDirs(layout.unifiedMount, leaf, `${prefix}cgroupsPath`, true);
    this.cgroup2 = ContainerCgroup.adopt(leaf);
  }

  /**
   * Each v2 controller must be enabled in every ancestor's cgroup.subtree_control. The root's
   * is changed only on a pure v2 host: on a hybrid host, enabling one there would stop it from being
   * mounted as a v1 hierarchy (crun's host preparation does that).
   */
  private enableV2Controllers(controllers: string[], layout: CgroupLayout, prefix: string): void {
    const root = layout.unifiedMount!;
    const leaf = this.cgroup2!.dir;
    const ancestors = path.relative(root, path.dirname(leaf)).split('/').filter(Boolean)
      .reduce<string[]>((acc, part) => [...acc, path.join(acc.at(-1)!, part)], [root]);
    for (const dir of ancestors) {
      const enabled = fs.readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
      const missing = controllers.filter((c) => !enabled.includes(c));
      if (missing.length === 0) continue;
      if (dir === root && layout.mode !== 'v2') {
        throw new CgroupSetupError(`${prefix}resources`, `the ${missing.join(', ')} controller is on cgroup v2 (${root}) but its root does not enable it for children ` +
          '(cgroup.subtree_control), and nsrig does not change the root of a hybrid host');
      }
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
      } catch (e) {
        throw new CgroupSetupError(`${prefix}resources`, `cannot enable ${missing.join(', ')} in ${dir}/cgroup.subtree_control: ${(e as Error).message}`);
      }
    }
  }

  private makeV1Dir(hierarchy: V1Hierarchy, profile: Profile, prefix: string): void {
    const own = readProcessCgroups().ofHierarchy(hierarchy) ?? '/';
    const leaf = this.leafIn(hierarchy.mountPoint, own, profile, own);
    // A new v1 cpuset cgroup starts with no CPUs and no memory nodes, and no task may join it so.
    const fillCpuset = hierarchy.controllers.includes('cpuset') ? copyParentCpuset : undefined;
    const chosen = profile.cgroupsPath !== undefined;
    if (!chosen) this.defaultParents.add(path.dirname(leaf));
    this.makeDirs(hierarchy.mountPoint, leaf, chosen ? `${prefix}cgroupsPath` : `${prefix}resources`, chosen, fillCpuset);
    // Controllers mounted together ("cpu,cpuacct") share one directory.
    for (const controller of hierarchy.controllers) this.v1Dirs.set(controller, leaf);
    this.v1Dirs.set(hierarchyKey(hierarchy), leaf);
  }

  /**
   * A pids.max below what stage 2 needs: the file opened for writing (close-on-exec; permission is
   * the opener's, so stage 2 may write it from inside a user namespace) and the declared value,
   * which stage 2 writes before execve. Undefined when the limit was written as declared.
   */
  openLoweredPidsLimit(): { fd: number; value: string } | undefined {
    if (this.lowered === undefined) return undefined;
    const { write, value } = this.lowered;
    const dir = write.version === 1 ? this.v1Dirs.get(write.controller)! : this.cgroup2!.dir;
    return { fd: fs.openSync(path.join(dir, write.file), O.WRONLY | O.CLOEXEC), value };
  }

  private apply(write: CgroupWrite): void {
    const dir = write.version === 1 ? this.v1Dirs.get(write.controller)! : this.cgroup2!.dir;
    let file = path.join(dir, write.file);
    let value = write.value;
    if (!fs.existsSync(file)) {
      if (write.fallback !== undefined && fs.existsSync(path.join(dir, write.fallback.file))) {
        file = path.join(dir, write.fallback.file);
        value = write.fallback.value;
      } else if (write.optional) {
        return;
      } else {
        throw new CgroupSetupError(write.field, `${missingFileReason(write)} (no ${file})`);
      }
    }
    try {
      fs.writeFileSync(file, value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'an error';
      throw new CgroupSetupError(write.field, `the kernel refused ${JSON.stringify(value)} for ${file} (${code})`);
    }
  }

  /**
   * Every directory this container's cgroups have, the v2 one first: the launch's place-in-cgroup
   * step (core/parent-steps.ts) writes the first process into each; tests and messages read them.
   */
  get directories(): string[] {
    return [...new Set([...(this.cgroup2 ? [this.cgroup2.dir] : []), ...this.v1Dirs.values()])];
  }

  /** SIGKILL to every process in the v2 cgroup, which holds all of them. */
  killAll(): void {
    this.cgroup2?.killAll();
  }

  /** Removes the v2 directory once empty, then the v1 ones and any directory made on the way to them. */
  async remove(): Promise<void> {
    await this.cgroup2?.remove();
    for (let i = 0; i < 200; i++) {
      if (this.removeNow().length === 0) {
        removeEmptyCgroups(this.defaultParents);
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new CgroupBusyError(this.removeNow());
  }

  /** One pass: what is left stays recorded for the next sweep. */
  private removeNow(): string[] {
    const ownV2 = this.cgroup2 !== undefined && !this.made.includes(this.cgroup2.dir) ? [this.cgroup2.dir] : [];
    const left = removeDirs(this.made, this.leaves).filter((d) => !isSharedParent(d, this.made));
    removeDirs(ownV2, new Set(ownV2));
    if (left.length === 0) this.record.remove();
    return left;
  }
}

/** mkdir found no parent though the parent was there a moment before. */
class ParentVanished extends Error {
  constructor(readonly error: CgroupSetupError) {
    super(error.message);
  }
}

/**
 * A directory made on the way to a container's cgroup ("a" of cgroupsPath "a/b") may since hold
 * another container's: it is left, not waited on.
 */
function isSharedParent(dir: string, made: readonly string[]): boolean {
  return made.some((other) => other.startsWith(`${dir}/`)) && fs.existsSync(dir)
    && fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory());
}

/** Fills an empty cpuset.cpus and cpuset.mems from the parent, the parent first if it is empty too. */
function copyParentCpuset(dir: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const own = path.join(dir, file);
    if (fs.readFileSync(own, 'utf8').trim() !== '') continue;
    const parent = path.dirname(dir);
    if (fs.readFileSync(path.join(parent, file), 'utf8').trim() === '') copyParentCpuset(parent);
    fs.writeFileSync(own, fs.readFileSync(path.join(parent, file), 'utf8').trim());
  }
}

function missingFileReason(write: CgroupWrite): string {
  if (write.controller === 'hugetlb') {
    const sizes = availableHugepageSizes();
    return `this kernel has no ${write.file.split('.')[1]} huge pages (it has ${sizes.length === 0 ? 'none' : sizes.join(', ')})`;
  }
  if (write.file === 'memory.memsw.limit_in_bytes') return 'this kernel does not account swap (swapaccount=0 or no CONFIG_MEMCG_SWAP), so memory plus swap cannot be limited';
  return `the ${write.controller} controller has no ${write.file} on this kernel`;
}

/** Huge page sizes in runc's spelling, from /sys/kernel/mm/hugepages/hugepages-<kB>kB. */
export function availableHugepageSizes(): string[] {
  try {
    return fs.readdirSync('/sys/kernel/mm/hugepages').map((n) => Number(/^hugepages-(\d+)kB$/.exec(n)?.[1])).filter((kb) => kb > 0)
      .sort((a, b) => a - b).map((kb) => (kb >= 1024 * 1024 ? `${kb / 1024 / 1024}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}KB`));
  } catch {
    return [];
  }
}
