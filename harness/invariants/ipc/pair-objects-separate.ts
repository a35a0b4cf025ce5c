import { randomInt } from 'node:crypto';
import { HOLDS, requiresNamespaces, violated, type PairInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import type { IpcObjects } from '../../probe/protocol.js';
import { sysvGet, sysvRemove, mqueueOpen, mqueueRemove, type SysvKind } from '../../../core/host-kernel.js';
import { manSection } from '../references.js';

/** Fresh keys per case, shared by its two requests through the profile object both receive. */
const keysOf = new WeakMap<Profile, Required<IpcObjects>>();

function keysFor(profile: Profile): Required<IpcObjects> {
  let keys = keysOf.get(profile);
  if (!keys) {
    const key = () => 0x6e740000 + randomInt(0xffff);
    keys = { shmKey: key(), semKey: key(), msgKey: key(), mqueue: `/nsrig-pair-${process.pid}-${randomInt(1e9)}` };
    keysOf.set(profile, keys);
  }
  return keys;
}

/**
 * Objects that exist on the host under the pair's keys can only have leaked there from the first
 * container: remove them (the host must not keep them) and report them.
 */
function removeLeaked(keys: Required<IpcObjects>): string[] {
  const leaked: string[] = [];
  for (const [kind, key] of [['shm', keys.shmKey], ['sem', keys.semKey], ['msg', keys.msgKey]] as [SysvKind, number][]) {
    const found = sysvGet(kind, key, false);
    if (found.id !== null) {
      leaked.push(kind);
      sysvRemove(kind, found.id);
    }
  }
  if (mqueueOpen(keys.mqueue, false).errno === null) {
    leaked.push('mqueue');
    mqueueRemove(keys.mqueue);
  }
  return leaked;
}

export const pairObjectsSeparate: PairInvariant = {
  id: 'ipc.pair-objects-separate',
  level: 'MUST',
  title: 'System V and POSIX message queue objects one container creates cannot be looked up from a second container alive at the same time (ENOENT).',
  reference: manSection('ipc_namespaces', 7, 'DESCRIPTION', 'Each IPC namespace has its own set of System V IPC identifiers and its own POSIX message queue filesystem.'),
  anchors: { ltp: ['shm_comm', 'msg_comm', 'sem_comm', 'shmem_2nstest_clone', 'semtest_2ns_clone', 'mqns_03_clone', 'mqns_04_clone'] },
  generate: requiresNamespaces('ipc'),
  scenario: 'pair',
  request: (profile, which) => (which === 0 ? { ipc: { create: keysFor(profile) } } : { ipc: { lookup: keysFor(profile) } }),
  check: ([a, b], profile) => {
    const leaked = removeLeaked(keysFor(profile));
    const kinds = ['shm', 'sem', 'msg', 'mqueue'];
    const wrong: string[] = [];
    for (const k of kinds) {
      const created = a.ipcCreated[k];
      const looked = b.ipcLookup[k];
      // POSIX queues are charged to RLIMIT_MSGQUEUE of the user that created the user namespace
      // (nsrig's root, for every container alike), and a dead IPC namespace frees its queues
      // late: a busy host can run out. Nothing was created then, so nothing can be judged.
      if (k === 'mqueue' && created?.code === 'EMFILE') continue;
      if (!created || created.errno !== null) wrong.push(`container 0 could not create ${k} (${created?.code ?? 'not attempted'})`);
      else if (!looked || looked.code !== 'ENOENT') wrong.push(`container 1 looking up ${k}: ${looked ? looked.code ?? 'found' : 'not attempted'}`);
    }
    if (leaked.length > 0) wrong.push(`found on the host: ${leaked.join(', ')}`);
    return wrong.length === 0 ? HOLDS : violated('each object created by container 0 unknown to container 1 (ENOENT)', wrong.join('; '));
  },
};
