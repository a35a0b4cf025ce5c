import { HOLDS, violated, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { cve } from '../references.js';

export const execCwdInside: ExecInvariant = {
  id: 'exec.cwd-inside',
  level: 'MUST',
  title: "A process joined with exec starts in the cwd it was given, on one of the container's own mounts, with the container's root.",
  reference: cve('CVE-2024-21626', 'due to an internal file descriptor leak, an attacker could cause a newly-spawned container process (from runc exec) to have a working directory in the host filesystem namespace'),
  scenario: 'exec',
  skipWhen: execUnsupported,
  // A mount id missing from the container's mountinfo belongs to another mount namespace (the host's).
  check: (_init, joined, given) => {
    const ids = new Set(joined.mounts.map((m) => m.id));
    const wrong: string[] = [];
    if (given.cwd !== undefined && joined.self.cwd !== given.cwd) wrong.push(`cwd ${joined.self.cwd}, not ${given.cwd}`);
    if (joined.self.cwdMountId === null || !ids.has(joined.self.cwdMountId)) wrong.push(`cwd on mount ${joined.self.cwdMountId}, not the container's`);
    if (joined.self.rootMountId === null || !ids.has(joined.self.rootMountId)) wrong.push(`root ${joined.self.root} on mount ${joined.self.rootMountId}, not the container's`);
    return wrong.length === 0 ? HOLDS : violated(`cwd ${given.cwd ?? '(the container\'s)'} on the container's mounts`, wrong.join('; '));
  },
};
