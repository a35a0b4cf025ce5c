// The profile's seccomp policy, compiled for this kernel and this container's capabilities.
import os from 'node:os';
import type { Profile } from '../policy/profile/types.js';
import { parsePolicy, compilePolicy } from '../policy/seccomp/index.js';

/** warn hears, in one line, the names no ABI the policy covers knows: skipped as libseccomp skips them, but never silently. */
export function compileProfilePolicy(profile: Profile, warn: (message: string) => void = () => {}): Buffer | undefined {
  if (!profile.seccomp) return undefined;
  const where = profile.seccomp.path ?? `${profile.source}: seccomp`;
  const policy = parsePolicy(profile.seccomp.policy, where);
  // includes/excludes by capability are judged against what the container may ever hold: its bounding set.
  const compiled = compilePolicy(policy, { arch: 'x86_64', capabilities: profile.process.capabilities.bounding, kernel: os.release() });
  const skippedEverywhere = compiled.skippedNames.filter((n) => Object.values(compiled.skippedByAbi).every((names) => names.includes(n)));
  if (skippedEverywhere.length > 0) {
    warn(`${where}: ${skippedEverywhere.length} system call names that no architecture of the policy knows are skipped: ${skippedEverywhere.join(', ')}`);
  }
  return compiled.program;
}
