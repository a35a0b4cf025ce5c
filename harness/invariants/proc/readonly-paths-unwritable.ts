import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import { ociSpec } from '../references.js';

/**
 * Files below read-only paths to open for writing. The IPC sysctls are the telling ones: with an
 * IPC namespace its root may write them (ipc_permissions, mq_permissions), so only the read-only
 * mount stands in the way; the others are refused to a namespace root by permissions anyway.
 */
const FILES_BELOW: Record<string, string[]> = {
  '/proc/sys': ['/proc/sys/kernel/shmmax', '/proc/sys/fs/mqueue/msg_max', '/proc/sys/kernel/hostname'],
  '/proc/irq': ['/proc/irq/default_smp_affinity'],
};

function targets(profile: Profile): string[] {
  return profile.readonlyPaths.flatMap((p) => [p, ...(FILES_BELOW[p] ?? [])]);
}

export const readonlyPathsUnwritable: SingleInvariant = {
  id: 'proc.readonly-paths-unwritable',
  level: 'MUST',
  title: 'No read-only path (/proc/sys, /proc/sysrq-trigger, ...) and no file below one can be opened for writing, even by the namespace root.',
  reference: ociSpec('config-linux.md', 'readonly-paths', 'Readonly Paths', 'readonlyPaths (array of strings, OPTIONAL) will set the provided paths as readonly inside the container.'),
  anchors: {
    runtimeTools: ['linux_readonly_paths', 'validateROPaths'],
    contest: ['readonly_paths', 'readonly_rel_paths', 'readonly_symlinks'],
    crun: ['test_paths.py::test_readonly_paths'],
  },
  generate: { requireNamespaces: ['pid', 'ipc'], root: true },
  scenario: 'single',
  request: (profile) => ({ writeFile: targets(profile) }),
  check: (o) => {
    const opened = o.writeFile.filter((w) => w.errno === null);
    return opened.length === 0
      ? HOLDS
      : violated('opening for writing fails (EROFS, EACCES, EISDIR, ENOENT)', `opened for writing: ${opened.map((w) => w.path).join(', ')}`);
  },
};
