// The error of a launch that did not reach the contained program, in a file of its own so the
// checks that run before anything is created (time-offsets.ts) can refine it without importing
// the launcher.
import type { Stage2Report } from './stage2-run.js';

/** A launch that did not reach the contained program: which setup step failed and why. */
export class LaunchError extends Error {
  readonly step: string;
  readonly detail: Stage2Report | undefined;
  constructor(message: string, step: string, detail?: Stage2Report) {
    super(message);
    this.name = 'LaunchError';
    this.step = step;
    this.detail = detail;
  }
}

/** A step list that cannot be carried out as written: a reference to a result no earlier call produced. */
export class StepListError extends Error {
  constructor(message: string) {
    super(`malformed setup step list: ${message}`);
    this.name = 'StepListError';
  }
}

/** A mount destination that is missing in the container and cannot be created there. */
export class MountPointError extends Error {
  constructor(readonly destination: string, readonly code: string | undefined) {
    super(`mount point ${destination} does not exist and cannot be created (${code}); with a read-only rootfs, mount destinations must exist or lie in a tmpfs mounted earlier`);
    this.name = 'MountPointError';
  }
}

/**
 * A mount destination that leads through a symlink of the rootfs pointing out of it (an absolute
 * target, or one climbing with ".."): before pivot_root such a link resolves in the runtime's own
 * tree, so the mount would land outside the rootfs (CVE-2019-19921 class). Refused, never followed.
 */
export class MountSymlinkError extends Error {
  constructor(readonly destination: string, readonly field: string | undefined, readonly link: string, readonly target: string) {
    super(`${field ?? 'mount destination'} ${destination}: ${link} in the rootfs is a symlink to ${target}, which leads out of the rootfs; nsrig mounts nothing through it`);
    this.name = 'MountSymlinkError';
  }
}

/** Stage 2 cannot go on with what it was given: no plan on the control pipe, or no program to run. */
export class Stage2InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Stage2InputError';
  }
}

/** A linux.devices node nsrig will not make where the profile puts it (outside the container's own /dev tmpfs, or on a directory). */
export class DevicePlacementError extends Error {
  constructor(readonly devicePath: string, reason: string) {
    super(`linux.devices: ${devicePath} ${reason}`);
    this.name = 'DevicePlacementError';
  }
}

/**
 * The container's first process is not root of the user namespace it joined: the chain's
 * setresuid(0) cannot stop on failure, so stage 2 checks before it sets anything up there.
 */
export class JoinedUserRootError extends Error {
  constructor(readonly uid: number, readonly gid: number) {
    super(`namespacePaths.user: the joined user namespace maps no uid 0 or gid 0 (the container's first process is uid ${uid}, gid ${gid} in it), `
      + 'so nothing could be set up there as its root; join one whose mappings include 0');
    this.name = 'JoinedUserRootError';
  }
}

/** A process that was to join a container is not in one of its namespaces: nothing may run in it. */
export class NamespaceJoinError extends Error {
  constructor(readonly namespace: string, readonly expected: string, readonly actual: string) {
    super(`the joined process is in ${namespace} namespace ${actual}, not the container's ${expected}: the join did not happen, so nothing was run`);
    this.name = 'NamespaceJoinError';
  }
}
