import fs from 'node:fs';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import type { Mount, Profile } from '../../../policy/profile/types.js';
import type { Outcome } from '../../probe/protocol.js';
import { ociSpec } from '../references.js';

type Expectation = 'EROFS' | 'created' | 'not EROFS';

/** A host directory bound read-write: certain only when it is writable by anyone. */
function bindCreate(source: string): Expectation {
  try {
    return (fs.statSync(source).mode & 0o3) === 0o3 ? 'created' : 'not EROFS';
  } catch {
    return 'not EROFS';
  }
}

function expectationFor(m: Mount): Expectation | undefined {
  switch (m.type) {
    case 'bind':
      return m.readonly ? 'EROFS' : bindCreate(m.source);
    case 'tmpfs':
      // Whether its mode lets this process create files is mnt.tmpfs-mode-applied's question.
      return m.readonly ? 'EROFS' : 'not EROFS';
    case 'sysfs':
      return m.readonly ? 'EROFS' : undefined;
    default:
      return undefined;
  }
}

function expectations(profile: Profile): Map<string, Expectation> {
  const result = new Map<string, Expectation>();
  if (profile.rootfs.readonly) result.set('/', 'EROFS');
  for (const m of profile.mounts) {
    const e = expectationFor(m);
    if (e) result.set(m.destination, e);
  }
  return result;
}

function seen(o: Outcome, expected: Expectation): string {
  const got = o.errno === null ? 'created' : o.code ?? String(o.errno);
  return expected === 'not EROFS' && got !== 'EROFS' ? expected : got;
}

export const readonlyRefusesWrites: SingleInvariant = {
  id: 'mnt.readonly-refuses-writes',
  level: 'MUST',
  title: 'Creating a file fails with EROFS in every read-only mount and a read-only root, and is not refused as read-only in writable ones.',
  reference: ociSpec('config.md', 'root', 'Root (readonly)', 'If true then the root filesystem MUST be read-only inside the container, defaults to false.'),
  anchors: { runtimeTools: ['validateRootFS', 'root_readonly_true'], contest: ['root_readonly_true_test'], crun: ['test_mounts.py::test_mount_ro'] },
  scenario: 'single',
  request: (profile) => ({ writeInto: [...expectations(profile).keys()] }),
  check: (o, profile) => {
    const expected = expectations(profile);
    return expectEqual(
      Object.fromEntries(expected),
      Object.fromEntries(o.writeInto.map((w) => [w.path, seen(w, expected.get(w.path) ?? 'created')])),
    );
  },
};
