// Loading a profile with its seccomp policy checked by policy/seccomp: what the CLI and the
// harness use, so an inline or referenced policy is validated with the same field paths.
import { loadProfileFile, validateProfileFile } from './profile/load.js';
import type { ProfileError } from './profile/profile-error.js';
import type { Profile } from './profile/types.js';
import { loadPolicyFile, parsePolicy } from './seccomp/index.js';

const withPolicy = {
  validatePolicy: (policy: unknown, file: string) => {
    parsePolicy(policy, file);
  },
  loadPolicyFile: (path: string) => loadPolicyFile(path),
};

/** warn hears what a config.json asks for that is carried out as runc and crun do rather than as written. */
export function loadProfile(path: string, warn?: (message: string) => void): Profile {
  return loadProfileFile(path, { ...withPolicy, ...(warn === undefined ? {} : { warn }) });
}

export function validateProfile(path: string, warn?: (message: string) => void): ProfileError[] {
  return validateProfileFile(path, { ...withPolicy, ...(warn === undefined ? {} : { warn }) });
}
