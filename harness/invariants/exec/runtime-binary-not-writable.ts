import { HOLDS, violated, type ExecInvariant } from '../../invariant.js';
import { execUnsupported, type FileIdentity } from '../../exec-scenario.js';
import { cve } from '../references.js';

/**
 * Content by sha256 and modification time (a write that puts the same bytes back still moves
 * mtime). The host hashes each binary again only when its status, ctime included, moved since its
 * last hash (exec-scenario.ts fileIdentity, which says why no write through /proc/PID/exe can leave
 * ctime as it was): the first case hashes Node, later ones stat it, a changed file is read in full.
 */
function sameContent(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.sha256 === b.sha256;
}

export const execRuntimeBinaryNotWritable: ExecInvariant = {
  id: 'exec.runtime-binary-not-writable',
  level: 'MUST',
  title: 'No process of the container can open the host binary that joins a process to it (the runtime, the engine\'s Node) for writing: '
    + 'whatever /proc/PID/exe it grabs during the exec cannot be reopened writable through /proc/self/fd, and the binary is unchanged after.',
  reference: cve('CVE-2019-5736', 'runc through 1.0-rc6, as used in Docker before 18.09.2 and other products, allows attackers to overwrite the host runc binary '
    + '(and consequently obtain host root access) by leveraging the ability to execute a command as root within one of these types of containers'),
  // The strongest attacker a user-namespaced container holds: its root, with CAP_SYS_PTRACE there.
  generate: { requireNamespaces: ['pid'], root: true, withCapabilities: ['CAP_SYS_PTRACE'] },
  scenario: 'exec',
  watchJoins: { memory: false },
  skipWhen: execUnsupported,
  check: (_init, _joined, _given, _profile, _host, window) => {
    if (window === undefined) return violated('the init\'s watch of the join', 'no watch was made');
    const changed = window.executables.filter((e) => !sameContent(e.before, e.after));
    if (changed.length > 0) {
      return violated('the host binaries unchanged', changed.map((e) => `${e.path}: ${JSON.stringify(e.before)} became ${JSON.stringify(e.after)}`).join('; '));
    }
    const host = (dev: number, ino: number) => window.executables.find((e) => e.before.dev === dev && e.before.ino === ino);
    const writable = window.watched.exe.filter((g) => g.reopenForWriting.code === null && host(g.dev, g.ino) !== undefined);
    return writable.length === 0 ? HOLDS : violated(
      'no host binary reopened for writing from a grabbed /proc/PID/exe',
      writable.map((g) => `${host(g.dev, g.ino)!.path} (dev ${g.dev} ino ${g.ino}) through pid ${g.pid}'s exe, grabbed while it ran ${JSON.stringify(g.cmdline)}`).join('; '),
    );
  },
};
