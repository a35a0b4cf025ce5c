// What stage 2 reaches on the host through descriptors instead of paths: nsrig's own tree. Stage 2
// runs as the container's root, an unprivileged uid on the host, which cannot search a checkout
// under a 0700 directory (/root, mktemp -d). The parent, host root, opens the tree as an O_PATH
// descriptor that stage 2 inherits and starts from as /proc/self/fd/N: the magic link needs no
// search permission on the directories above (proc(5)). Stage 2 marks every descriptor from 3 up
// close-on-exec before the contained program starts, so none of them reaches it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPath } from './native/system.js';
import { closeFd } from './native/process.js';
import { cloneMountTree, setMountAttributes } from './native/mount.js';
import { MOUNT_ATTR } from '../policy/kernel/mount-flags.js';

/** The directory holding package.json ("type": "module"), dist/ and node_modules/. */
export const NSRIG_TREE = fileURLToPath(new URL('../../', import.meta.url));

export interface HostHandles {
  /** argv of stage 2's node, from its first argument on (argv[0] is a name). */
  stage2Args: string[];
  /** Stage 2's environment: NODE_PATH names a descriptor of node_modules' real directory. */
  stage2Env: string[];
  /** Read-only clones of nsrig's files for stage 2 to attach, when asked for. */
  treeBinds: { tree: number; destination: string }[];
  /** Descriptors to inherit, and to close in the parent once the child has them. */
  fds: number[];
}

/**
 * What a program inside needs to run nsrig's own code (the probe): package.json (it makes dist's
 * files ES modules), dist/, and node_modules/ at its real place (a worktree's may be a symlink).
 */
function treeParts(at: string): { source: string; destination: string }[] {
  return [
    { source: path.join(NSRIG_TREE, 'package.json'), destination: `${at}/package.json` },
    { source: path.join(NSRIG_TREE, 'dist'), destination: `${at}/dist` },
    { source: fs.realpathSync(path.join(NSRIG_TREE, 'node_modules')), destination: `${at}/node_modules` },
  ];
}

/**
 * Cloned here, not in stage 2: open_tree refuses (EINVAL) to clone a mount of another mount
 * namespace, so a descriptor opened here could not be cloned there, while a detached tree may be
 * attached in any namespace (move_mount(2)). Private, so it is no peer of a shared host mount.
 */
function cloneReadonly(source: string): number {
  const tree = cloneMountTree(source, false);
  try {
    setMountAttributes(tree, MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NODEV, { recursive: false, propagation: 'private' });
    return tree;
  } catch (e) {
    closeFd(tree);
    throw e;
  }
}

/** `nsrigTreeAt`: where inside the container nsrig's own files should appear, if anywhere. */
export function openHostHandles(nsrigTreeAt?: string): HostHandles {
  const fds: number[] = [];
  try {
    const root = openPath(NSRIG_TREE);
    fds.push(root);
    // A symlinked node_modules (a worktree's, a test's copy) may lead below a directory the
    // container's uid cannot search, which /proc/self/fd/ROOT/node_modules would have to walk.
    const modules = openPath(fs.realpathSync(path.join(NSRIG_TREE, 'node_modules')));
    fds.push(modules);
    const treeBinds = (nsrigTreeAt === undefined ? [] : treeParts(nsrigTreeAt)).map(({ source, destination }) => {
      const tree = cloneReadonly(source);
      fds.push(tree);
      return { tree, destination };
    });
    return {
      // Node would resolve the entry and its imports to real paths, walking the host directories
      // the descriptor lets stage 2 skip; these flags keep them as given (node(1)).
      stage2Args: ['--preserve-symlinks', '--preserve-symlinks-main', `/proc/self/fd/${root}/dist/core/stage2.js`],
      stage2Env: [`NODE_PATH=/proc/self/fd/${modules}`],
      treeBinds,
      fds,
    };
  } catch (e) {
    fds.forEach(closeFd);
    throw e;
  }
}
