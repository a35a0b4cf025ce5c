// The engine's create/start split: create is everything up to releasing stage 2 (cloned into its
// namespaces and cgroup, ids mapped), start is the release. Before it the program has not run,
// and a container destroyed while created leaves nothing behind.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchContainer, LaunchError, type Container, type ContainerState } from '../../core/container.js';
import { profileOf, shell, assertNoLeftovers } from './container-run.js';
import { processArgs } from '../../harness/host-facts.js';

test.afterEach.always(assertNoLeftovers);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-create-start-test-'));
fs.chmodSync(dir, 0o777);
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

test.serial('created: the program has not run; started: it runs; then it stops', async (t) => {
  const marker = path.join(dir, 'ran');
  const args = shell(`touch ${marker}; echo started`);
  const seen: { state: ContainerState; ran: boolean; initArgs: string[] | undefined }[] = [];
  const container = await launchContainer(profileOf({ name: 'create-start', namespaces: ['pid', 'uts', 'ipc'], process: { args } }), {
    stdio: 'pipe', stdin: 'null',
    created: (c: Container) => {
      seen.push({ state: c.state, ran: fs.existsSync(marker), initArgs: processArgs(c.pid) });
    },
  });
  try {
    t.is(seen.length, 1, 'created once');
    t.is(seen[0]!.state, 'created');
    t.false(seen[0]!.ran, 'the program had not run at create');
    t.notDeepEqual(seen[0]!.initArgs, args);
    t.true((seen[0]!.initArgs?.length ?? 0) > 0, 'the created init exists');
    t.true(['running', 'exited'].includes(container.state));
    const exit = await container.wait();
    t.is(exit.code, 0);
    t.true(fs.existsSync(marker), 'the program ran after start');
  } finally {
    await container.destroy();
  }
});

test.serial('a container destroyed while created never runs its program and leaves nothing behind', async (t) => {
  const marker = path.join(dir, 'never');
  const launch = launchContainer(profileOf({ name: 'create-start', namespaces: ['pid', 'mnt'], process: { args: shell(`touch ${marker}`) } }), {
    stdio: 'pipe', stdin: 'null',
    created: (c: Container) => c.destroy(),
  });
  const error = await t.throwsAsync(launch, { instanceOf: LaunchError });
  t.regex(error!.message, /destroyed before start/);
  t.false(fs.existsSync(marker));
});
