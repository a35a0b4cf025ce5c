// Where the probe runs from inside every container, on every target: nsrig's built code, bound
// read-only at a fixed path below directories every uid may search. The checkout's own path is no
// use there: under a 0700 directory (root's home, mktemp -d) the container's users cannot walk it,
// and it may hold spaces or pass through a symlink. Only what the probe loads is bound: package.json
// (it makes dist/*.js ES modules), dist/ and node_modules/ (its real directory, wherever that is).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The rig's directory inside containers. /run is an empty mount point in the host root view. */
export const RIG_DIR = '/run/nsrig-rig';
/** The probe's entry point as a container sees it. */
export const PROBE_IN_CONTAINER = `${RIG_DIR}/dist/harness/probe/main.js`;

export interface RigBind {
  /** The host path (a directory, or package.json). */
  source: string;
  destination: string;
}

/** The host files behind the rig, each with its place inside. */
export function rigBinds(): RigBind[] {
  const root = projectRoot();
  return [
    { source: path.join(root, 'package.json'), destination: `${RIG_DIR}/package.json` },
    { source: path.join(root, 'dist'), destination: `${RIG_DIR}/dist` },
    // A worktree's node_modules may be a symlink to another checkout's: bound at its real place.
    { source: fs.realpathSync(path.join(root, 'node_modules')), destination: `${RIG_DIR}/node_modules` },
  ];
}

let cachedRoot: string | undefined;

/** The nsrig checkout this module runs from: the nearest directory up with nsrig's package.json. */
export function projectRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'nsrig') {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no nsrig package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}
