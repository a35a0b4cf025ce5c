import { HOLDS, violated, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

const HIDDEN = new Set(['ENOENT', 'EACCES', 'EPERM']);

export const maskedUnreadable: SingleInvariant = {
  id: 'proc.masked-unreadable',
  level: 'MUST',
  title: 'Every masked path yields nothing: a masked file reads 0 bytes, a masked directory lists 0 entries, or the path is absent or unreadable.',
  reference: ociSpec('config-linux.md', 'masked-paths', 'Masked Paths', 'maskedPaths (array of strings, OPTIONAL) will mask over the provided paths inside the container so that they cannot be read.'),
  anchors: {
    runtimeTools: ['linux_masked_paths', 'validateMaskedPaths'],
    contest: ['masked_paths', 'masked_rel_paths', 'masked_symlinks', 'masked_device_nodes'],
    crun: ['test_paths.py::test_masked_paths', 'test_paths.py::test_masked_dir_nlink'],
  },
  scenario: 'single',
  generate: { maskPathsWithContent: true },
  request: (profile) => ({ read: profile.maskedPaths }),
  check: (o) => {
    const shown = o.read.filter((r) => (r.errno === null ? r.bytes > 0 : !HIDDEN.has(r.code ?? '')));
    return shown.length === 0
      ? HOLDS
      : violated('0 bytes, 0 entries, ENOENT, EACCES or EPERM for each masked path', shown.map((r) => `${r.path}: ${r.errno === null ? `${r.bytes} bytes or entries` : r.code}`).join('; '));
  },
};
