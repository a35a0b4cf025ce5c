// Whether this host has a cgroup controller a resources invariant needs, read from how its cgroup
// hierarchies are mounted: a v1 hierarchy holding it, or a cgroup2 root that offers it.
import { readCgroupLayout } from '../../../core/cgroup-layout.js';

/** Why the host cannot apply a controller (v1 and v2 names), or undefined when it can. */
export function controllerMissing(v1: string, v2: string): string | undefined {
  const layout = readCgroupLayout();
  if (layout.v1Mounts.has(v1)) return undefined;
  if (layout.unifiedMount !== undefined && layout.mode !== 'hybrid' && layout.unifiedControllers.includes(v2)) return undefined;
  return `this host has no ${v1} cgroup controller (no v1 hierarchy holds it${layout.mode === 'v2' ? `, and the cgroup2 root does not offer ${v2}` : ''})`;
}

/** The text of one file the probe read through `cgroupRead`, or undefined when it could not be read. */
export function cgroupText(files: readonly { file: string; text: string | null }[], file: string): string | undefined {
  return files.find((f) => f.file === file)?.text ?? undefined;
}
