import { HOLDS, violated, type ExecInvariant } from '../../invariant.js';
import { execUnsupported } from '../../exec-scenario.js';
import { cve } from '../references.js';
import type { ReachedProcess } from '../../probe/protocol.js';

export const execJoiningProcessUnreachable: ExecInvariant = {
  id: 'exec.joining-process-unreachable',
  level: 'MUST',
  title: 'Until a process joined with exec runs the program it was given, no process of the container can open its /proc/PID/exe, '
    + '/proc/PID/mem or /proc/PID/fd: the runtime\'s files, memory and descriptors stay out of reach.',
  reference: cve('CVE-2016-9962', "RunC allowed additional container processes via 'runc exec' to be ptraced by the pid 1 of the container. "
    + 'This allows the main processes of the container, if running as root, to gain access to file-descriptors of these new processes during the initialization'),
  generate: { requireNamespaces: ['pid'], root: true, withCapabilities: ['CAP_SYS_PTRACE'] },
  scenario: 'exec',
  watchJoins: { memory: true },
  skipWhen: execUnsupported,
  check: (_init, _joined, _given, _profile, _host, window) => {
    if (window === undefined) return violated('the init\'s watch of the join', 'no watch was made');
    const program = window.joinedArgs.join('\0');
    // A command line read right after the reach that is not yet the program's proves the reach came
    // before the exec (a process never goes back). An unreadable or empty one proves nothing: a
    // process in the middle of execve, or exited, shows an empty one (the probe then tries again).
    const early = (r: ReachedProcess) => r.cmdline !== null && r.cmdline.join('') !== '' && r.cmdline.join('\0') !== program;
    const reached = [
      ...window.watched.exe.filter(early).map((r) => `exe of pid ${r.pid} (dev ${r.dev} ino ${r.ino}) while it ran ${JSON.stringify(r.cmdline)}`),
      ...window.watched.memory.filter(early).map((r) => `mem of pid ${r.pid} while it ran ${JSON.stringify(r.cmdline)}`),
      // A listing whose every link is refused (host root with no user namespace may list the
      // directory of a non-dumpable process, not read what it holds) reached no descriptor.
      ...window.watched.descriptors.filter((r) => early(r) && r.fds.some((fd) => !/^\([A-Z0-9]+\)$/.test(fd))).map((r) => `fds of pid ${r.pid} while it ran ${JSON.stringify(r.cmdline)}: ${r.fds.join(', ')}`),
    ];
    return reached.length === 0 ? HOLDS : violated('the joining process out of reach until it runs the program', reached.join('; '));
  },
};
