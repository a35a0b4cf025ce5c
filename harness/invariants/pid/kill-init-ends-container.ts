import { randomBytes } from 'node:crypto';
import { HOLDS, requiresNamespaces, violated, type SingleInvariant } from '../../invariant.js';
import { processesWithArgument } from '../../host-facts.js';
import { manSection } from '../references.js';

export const killInitEndsContainer: SingleInvariant = {
  id: 'pid.kill-init-ends-container',
  level: 'MUST',
  title: "Killing the container's PID 1 ends every process of the container, including one started in a session of its own.",
  reference: manSection('pid_namespaces', 7, 'The namespace "init" process', 'If the "init" process of a PID namespace terminates, the kernel terminates all of the processes in the namespace via a SIGKILL signal.'),
  anchors: { runtimeTools: ['kill'], contest: ['kill'], ltp: ['pidns05', 'pidns16', 'pidns17'] },
  generate: requiresNamespaces('pid'),
  scenario: 'single',
  // The probe starts a detached process carrying a fresh marker and then lingers until the
  // target's teardown kills it (SIGKILL to PID 1). The kernel empties the PID namespace before
  // PID 1 can be reaped, so once the teardown has returned no process may carry the marker.
  request: () => ({ orphan: `nsrig-orphan-${randomBytes(8).toString('hex')}`, linger: true }),
  check: (o, _profile, host) => {
    if (!o.orphan || o.orphan.errno !== null) {
      return violated('a second process started inside', `starting it failed: ${o.orphan?.code ?? 'not attempted'}`);
    }
    if (o.self.namespaces.pid === host.namespaces.pid) return violated('a PID namespace of its own', `the host's PID namespace (${o.self.namespaces.pid})`);
    const left = processesWithArgument(o.orphan.marker);
    return left.length === 0
      ? HOLDS
      : violated('no process of the container left after PID 1 was killed', `the detached process (pid ${o.orphan.pid} inside) still runs as host pid ${left.join(', ')}`);
  },
};
