import fs from 'node:fs';
import { expectEqual, type SingleInvariant } from '../../invariant.js';
import type { Mount, Profile } from '../../../policy/profile/types.js';
import type { Outcome } from '../../probe/protocol.js';
import { hasCapability, setsAfterExecve } from '../caps/post-exec-sets.js';
import { ociSpec } from '../references.js';

type Expectation = 'EROFS' | 'created' | 'EACCES' | 'not EROFS';

/**
 * Whether the process may create a file in a tmpfs the runtime mounted: its root directory
 * belongs to the namespace's root (0:0) with the declared mode, so the owner, group or other
 * bits apply by the process's ids, unless CAP_DAC_OVERRIDE is effective (path_resolution(7)).
 */
function tmpfsCreate(mode: number, profile: Profile): Expectation {
  const p = profile.process;
  if (hasCapability(setsAfterExecve(p).effective, 'CAP_DAC_OVERRIDE')) return 'created';
  const bits = p.uid === 0 ? mode >> 6 : p.gid === 0 || p.additionalGids.includes(0) ? mode >> 3 : mode;
  return (bits & 0o3) === 0o3 ? 'created' : 'EACCES';
}

/** A host directory bound read-write: certain only when it is writable by anyone. */
function bindCreate(source: string): Expectation {
  try {
    return (fs.statSync(source).mode & 0o3) === 0o3 ? 'created' : 'not EROFS';
  } catch {
    return 'not EROFS';
  }
}

function expectationFor(m: Mount, profile: Profile): Expectation | undefined {
  switch (m.type) {
    case 'bind':
      return m.readonly ? 'EROFS' : bindCreate(m.source);
    case 'tmpfs':
      return m.readonly ? 'EROFS' : tmpfsCreate(m.mode, profile);
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
    const e = expectationFor(m, profile);
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
  reference: ociSpec('config.md', 'root', 'Root (readonly)'),
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
