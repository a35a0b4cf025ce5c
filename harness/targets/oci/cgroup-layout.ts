// The host's cgroup layout is the engine's to read (core/cgroup-layout.ts); the OCI target reads the same.
export { readCgroupLayout, readMountinfo, type CgroupLayout, type MountinfoEntry } from '../../../core/cgroup-layout.js';
