import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostObjectsInvisible: SingleInvariant = {
  id: 'ipc.host-objects-invisible',
  level: 'MUST',
  title: "The host's System V shared memory, semaphore and message queue objects and its POSIX message queue cannot be looked up from inside (ENOENT).",
  reference: manSection('ipc_namespaces', 7, 'DESCRIPTION', 'Objects created in an IPC namespace are visible to all other processes that are members of that namespace, but are not visible to processes in other IPC namespaces.'),
  anchors: {
    crun: ['test_namespaces.py::test_ipc_namespace'],
    ltp: ['shmnstest_clone', 'sem_nstest_clone', 'mesgq_nstest_clone', 'mqns_01', 'mqns_02'],
  },
  generate: requiresNamespaces('ipc'),
  scenario: 'single',
  request: (_profile, host) => ({ ipc: { lookup: host.ipc } }),
  check: (o) => expectEqual(
    { shm: 'ENOENT', sem: 'ENOENT', msg: 'ENOENT', mqueue: 'ENOENT' },
    Object.fromEntries(['shm', 'sem', 'msg', 'mqueue'].map((k) => [k, o.ipcLookup[k] ? o.ipcLookup[k].code ?? 'found' : 'not looked up'])),
  ),
};
