// linux.devices made in the root being built, only inside a /dev tmpfs this setup mounted: without
// one, /dev may be the host's own (a bind of it, or the host root's view), and a node removed,
// made or chowned there would change the host. Stage 2 reaches this through the Kernel's
// create_device call, which carries the st_dev of each such tmpfs (recorded by stat_dev when it
// was mounted).
import fs from 'node:fs';
import path from 'node:path';
import type { DeviceNode } from '../policy/profile/types.js';
import { MS } from '../policy/kernel/mount-flags.js';
import { DevicePlacementError } from './launch-error.js';
import { resolveInRoot } from './path-in-root.js';
import { makeNode, mount, unmountDetached } from './native/mount.js';
import { SyscallError } from './native/syscall-error.js';

function unmountIfMounted(target: string): void {
  try {
    unmountDetached(target);
  } catch (e) {
    if (!(e instanceof SyscallError && e.code === 'EINVAL')) throw e;
  }
}

/**
 * The directory to make devicePath in (resolved inside root), made if missing, and only on one of
 * devFilesystems; refused before anything is made or removed otherwise.
 */
function deviceParent(root: string, devicePath: string, devFilesystems: readonly number[]): string {
  const missing: string[] = [];
  let dir = path.dirname(devicePath);
  let resolved = resolveInRoot(root, dir);
  while (resolved === undefined) {
    missing.unshift(path.basename(dir));
    dir = path.dirname(dir);
    resolved = resolveInRoot(root, dir);
  }
  if (!devFilesystems.includes(fs.statSync(resolved).dev)) {
    throw new DevicePlacementError(devicePath, 'is not inside a dev mount (the container\'s own /dev tmpfs); '
      + 'nsrig makes device nodes only there, never on a filesystem the host may share');
  }
  const parent = path.join(resolved, ...missing);
  fs.mkdirSync(parent, { recursive: true, mode: 0o755 });
  return parent;
}

/**
 * Made with mknod(2) and given its owner and mode where the engine may; in a user namespace, where
 * mknod of a device is refused, the host's own node at the same path is bound (as runc does), and
 * never chowned or chmodded. One already there (a default device) is replaced.
 */
export function createDevice(root: string, d: DeviceNode, inUserNamespace: boolean, devFilesystems: readonly number[]): void {
  const target = path.join(deviceParent(root, d.path, devFilesystems), path.basename(d.path));
  const existing = fs.lstatSync(target, { throwIfNoEntry: false });
  if (existing !== undefined) {
    if (existing.isDirectory()) throw new DevicePlacementError(d.path, 'is a directory in the container\'s root');
    // A default device in a user namespace is a bind of the host's node: unmounted, not the host's removed.
    if (inUserNamespace) unmountIfMounted(target);
    fs.rmSync(target);
  }
  if (inUserNamespace && d.type !== 'p') {
    fs.writeFileSync(target, '');
    mount(d.path, target, null, MS.BIND);
  } else {
    makeNode(target, d.type, d.fileMode, d.major, d.minor);
    fs.lchownSync(target, d.uid, d.gid);
    fs.chmodSync(target, d.fileMode);
  }
}
