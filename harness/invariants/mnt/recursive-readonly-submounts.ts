import fs from 'node:fs';
import path from 'node:path';
import { expectEqual, type HostChangeInvariant } from '../../invariant.js';
import { makeHarnessMountDir } from '../../host-facts.js';
import { mount, unmountDetached } from '../../../core/host-kernel.js';
import { MS } from '../../../policy/kernel/mount-flags.js';
import { RECURSIVE_READONLY_BIND } from '../../generators/mount-set.js';
import { manSection } from '../references.js';

// The profile binds the directory holding the harness's fixture directory recursively read-only
// (rbind, ro, rro); the fixture directory is a mount point there, and the harness mounts a tmpfs any
// uid may write inside it before the container starts. A plain ro makes only the top of the tree
// read-only: either submount would take the file the probe tries to create. Nothing changes while
// the container runs; the second look is unused.
export const recursiveReadonlySubmounts: HostChangeInvariant = {
  id: 'mnt.recursive-readonly-submounts',
  level: 'MUST',
  title: 'A bind declared recursive and recursively read-only (rbind, rro) shows the filesystems mounted below its source on the host, and refuses to create a file with EROFS at its top and in each of them.',
  reference: manSection('mount_setattr', 2, 'AT_RECURSIVE', 'Change the mount properties of the entire mount tree.'),
  anchors: { contest: ['rro_test'], crun: ['test_mounts.py::test_mount_rro'] },
  generate: { recursiveReadonlyBind: true },
  scenario: 'host-change',
  prepare: (_profile, host) => {
    const onHost = makeHarnessMountDir(host);
    let mounted = false;
    const undo = () => {
      if (mounted) unmountDetached(onHost);
      fs.rmSync(onHost, { recursive: true, force: true });
    };
    try {
      mount('tmpfs', onHost, 'tmpfs', MS.NOSUID | MS.NODEV, 'size=64k,mode=1777');
      mounted = true;
    } catch (e) {
      undo();
      throw e;
    }
    const fixture = path.join(RECURSIVE_READONLY_BIND, path.basename(host.fixtureDir));
    return { request: { writeInto: [RECURSIVE_READONLY_BIND, fixture, path.join(fixture, path.basename(onHost))] }, change: () => {}, undo };
  },
  check: (before) => {
    const outcome = (o: (typeof before.writeInto)[number] | undefined) => (o === undefined ? 'not tried' : o.code === null ? 'created' : `refused: ${o.code}`);
    const seen = (o: (typeof before.writeInto)[number] | undefined) => before.mounts.some((m) => m.mountPoint === o?.path);
    const [top, fixture, tmpfs] = before.writeInto;
    return expectEqual(
      { top: 'refused: EROFS', fixtureMount: { seen: true, create: 'refused: EROFS' }, tmpfsBelowIt: { seen: true, create: 'refused: EROFS' } },
      { top: outcome(top), fixtureMount: { seen: seen(fixture), create: outcome(fixture) }, tmpfsBelowIt: { seen: seen(tmpfs), create: outcome(tmpfs) } },
    );
  },
};
