// The profile's seccomp policy, compiled for this kernel and this container's capabilities.
import os from 'node:os';
import type { Profile } from '../policy/profile/types.js';
import { parsePolicy, compilePolicy } from '../policy/seccomp/index.js';

export function compileProfilePolicy(profile: Profile): Buffer | undefined {
  if (!profile.seccomp) return undefined;
  const policy = parsePolicy(profile.seccomp.policy, profile.seccomp.path ?? `${profile.source}: seccomp`);
  // includes/excludes by capability are judged against what the container may ever hold: its bounding set.
  const compiled = compilePolicy(policy, { arch: 'x86_64', capabilities: profile.process.capabilities.bounding, kernel: os.release() });
  return compiled.program;
}
