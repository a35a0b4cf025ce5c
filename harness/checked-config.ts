// The config a person brings to `nsrig check --config`: loaded exactly as `nsrig run` loads it
// (a YAML/JSON profile or an OCI config.json, a relative root.path against the file's directory),
// named by its sha256 in every report, and checked for what the probe needs inside its rootfs.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadProfile } from '../policy/load-profile.js';
import type { CheckedConfig } from './check.js';
import { RIG_DIR, rigBinds } from './probe-rig.js';
import { HOOK_DIR_IN_CONTAINER } from './hook-recorder.js';

export function loadCheckedConfig(file: string, warn?: (message: string) => void): CheckedConfig {
  const absolute = path.resolve(file);
  const profile = loadProfile(absolute, warn);
  // Hashed after loading: an unreadable file is the loader's error, with its wording.
  const sha256 = createHash('sha256').update(fs.readFileSync(absolute)).digest('hex');
  return { file: absolute, sha256, profile };
}

/**
 * Why the probe cannot run inside this config's rootfs, or undefined when it can. The rig binds
 * nsrig's own code at RIG_DIR on every target, but the probe is a Node program: a rootfs other
 * than the host's own ("/") must hold the node binary at the host's path, with what it loads.
 */
export function probeRootfsProblem(config: CheckedConfig): string | undefined {
  const rootfs = config.profile.rootfs.path;
  if (rootfs === '/') return undefined;
  const node = path.join(rootfs, process.execPath);
  if (fs.existsSync(node)) return undefined;
  return `${config.file}: the probe cannot run in rootfs ${rootfs}: it has no ${process.execPath} ` +
    `(this host's node, run there with nsrig's code bound read-only at ${RIG_DIR}); ` +
    `copy node and the libraries ldd(1) lists for it into the rootfs at the same paths`;
}

/**
 * The rig's mount points inside a rootfs directory (the probe's code, and the hook recorder's
 * directory the hooks invariants bind for startContainer), made on the host before the run as
 * runtimes make mount points (a read-only root cannot get them later); returns what removes those
 * it made, deepest first, so the rootfs is left as it was found.
 */
export function makeRigMountPoints(config: CheckedConfig): () => void {
  const rootfs = config.profile.rootfs.path;
  if (rootfs === '/') return () => {};
  const made: string[] = [];
  const makeDir = (dir: string): void => {
    if (fs.existsSync(dir)) return;
    makeDir(path.dirname(dir));
    fs.mkdirSync(dir, { mode: 0o755 });
    made.push(dir);
  };
  for (const rig of rigBinds()) {
    const target = path.join(rootfs, rig.destination);
    makeDir(path.dirname(target));
    if (fs.existsSync(target)) continue;
    if (fs.statSync(rig.source).isDirectory()) fs.mkdirSync(target, { mode: 0o755 });
    else fs.writeFileSync(target, '', { mode: 0o644 });
    made.push(target);
  }
  makeDir(path.join(rootfs, HOOK_DIR_IN_CONTAINER));
  const remove = (): void => {
    for (const p of made.splice(0).reverse()) {
      try {
        if (fs.lstatSync(p).isDirectory()) fs.rmdirSync(p);
        else fs.unlinkSync(p);
      } catch {
        // Not empty (something else wrote there) or gone: left as it is.
      }
    }
  };
  // Ctrl-C leaves through process.exit (bin/usage.ts), past the caller's finally.
  process.once('exit', remove);
  return () => {
    process.removeListener('exit', remove);
    remove();
  };
}
