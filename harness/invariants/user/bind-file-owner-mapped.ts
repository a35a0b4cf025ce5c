import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { expectEqual, violated, type SingleInvariant } from '../../invariant.js';
import { fixtureDestination } from '../../host-facts.js';
import { manSection } from '../references.js';
import { hostIdOf } from './id-map.js';

export const bindFileOwnerMapped: SingleInvariant = {
  id: 'user.bind-file-owner-mapped',
  level: 'MUST',
  title: "A file the process creates in a read-write bind mount belongs, on the host, to the host ids its uid and gid map to.",
  reference: manSection('user_namespaces', 7, 'Defining user and group ID mappings', 'Each line in the uid_map file specifies a 1-to-1 mapping of a range of contiguous user IDs between two user namespaces.'),
  anchors: { crun: ['test_uid_gid.py::test_regular_files_chowned'] },
  generate: { rwBind: true, ownUserMappings: true },
  scenario: 'single',
  request: (profile, host) => {
    const dest = fixtureDestination(profile, host);
    return { createFile: dest ? [`${dest}/owner-${randomBytes(6).toString('hex')}`] : [] };
  },
  check: (o, profile, host) => {
    const dest = fixtureDestination(profile, host);
    const created = o.created[0];
    if (!dest || !created) return violated(`a read-write bind of ${host.fixtureDir}`, 'the profile has none');
    if (created.errno !== null) return violated(`creating ${created.path} inside succeeds`, created.code ?? 'failed');
    const onHost = path.join(host.fixtureDir, path.relative(dest, created.path));
    let st: fs.Stats;
    try {
      st = fs.statSync(onHost);
    } catch (e) {
      return violated(`${onHost} on the host`, (e as NodeJS.ErrnoException).code ?? 'missing');
    } finally {
      fs.rmSync(onHost, { force: true });
    }
    return expectEqual(
      { uid: hostIdOf(profile.user.uidMappings, profile.process.uid), gid: hostIdOf(profile.user.gidMappings, profile.process.gid) },
      { uid: st.uid, gid: st.gid },
    );
  },
};
