// A container the runtime refuses after it has made its cgroups leaves no cgroup behind in any
// hierarchy, named ones (name=systemd) included: the runtime no longer knows the container, so nsrig
// removes them. runc and crun refusing a memory limit too low for their own init, and a wrapper that
// fails half-way as crun 1.8.1 does on a host without blkio.weight, making cgroups its delete leaves.
import test from 'ava';
import path from 'node:path';
import { parseProfile } from '../../policy/profile/load.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { TargetError } from '../../harness/target.js';
import { wrapperRuntimePath } from '../../harness/targets/runtime-wrappers/wrapper-runtimes.js';
import { cgroupsNamedLike } from '../../harness/targets/oci/runtime-cgroups.js';
import { OciTestHost } from './oci-test-host.js';

OciTestHost.create('oci-failed-start-test', { crun: true });

/** This process's containers' cgroups (nsrig-oci-PID-*), anywhere in any cgroup hierarchy. */
function ownContainerCgroups(): string[] {
  const prefix = `nsrig-oci-${process.pid}-`;
  return cgroupsNamedLike((name) => name.startsWith(prefix));
}

for (const runtime of ['runc', 'crun', wrapperRuntimePath('runc-fails-leaving-cgroups')]) {
  test.serial(`${path.basename(runtime)}: a start refused while the runtime sets up the container's cgroups leaves no cgroup behind`, async (t) => {
    const target = new OciTarget(runtime);
    // The wrapper cannot pass a preflight, which starts a container: the runtime it wraps must.
    const problems = await new OciTarget(runtime.includes('/') ? 'runc' : runtime).preflight();
    if (problems.length > 0) {
      t.log(`skipped: ${runtime} cannot run here: ${problems.join('; ')}`);
      t.pass();
      return;
    }
    const profile = parseProfile({
      name: 'failed-start', namespaces: ['user', 'pid', 'mnt', 'uts', 'ipc'],
      process: { args: ['/bin/true'] }, resources: { memory: { limit: 4096 } },
    }, '<oci-failed-start-test>', { checkPaths: false });
    const error = await t.throwsAsync(async () => {
      const session = await target.start({ profile, stdin: 'null' });
      // A runtime that starts it anyway: its exit is the failure.
      await session.wait();
      await session.destroy();
      throw new Error(`${path.basename(runtime)} started a container limited to 4096 bytes of memory`);
    });
    t.true(error instanceof TargetError, error?.message);
    t.deepEqual(ownContainerCgroups(), []);
  });
}
