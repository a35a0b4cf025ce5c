// The probe is nsrig's own code, run inside the container with the host's node. When the nsrig
// tree is not visible there (it lives under /tmp or /run, which the host root view leaves out, or
// under one of the profile's own mounts), it is bound read-only at its own path, last, the way the
// OCI bundle writer adds its rig mounts.
import path from 'node:path';
import type { Profile } from '../policy/profile/types.js';
import { readonlyBind } from '../policy/profile/mounts.js';
import { HOST_ROOT_HIDDEN } from '../core/setup-steps.js';
import { projectRoot } from './targets/oci/host-root-view.js';

function hiddenInContainer(profile: Profile, dir: string): boolean {
  if (profile.rootfs.path !== '/') return true;
  const top = dir.split('/')[1] ?? '';
  if (HOST_ROOT_HIDDEN.has(top)) return true;
  return profile.mounts.some((m) => dir === m.destination || dir.startsWith(m.destination.endsWith('/') ? m.destination : `${m.destination}/`));
}

export function withNsrigTree(profile: Profile): Profile {
  const root = projectRoot();
  if (!profile.namespaces.includes('mnt') || !hiddenInContainer(profile, path.resolve(root))) return profile;
  return { ...profile, mounts: [...profile.mounts, readonlyBind(root, root)] };
}
