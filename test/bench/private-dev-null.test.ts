// The bench's crun rows leave the host's /dev/null alone. crun 1.8.1 fchowns its standard streams
// to the container root's host uid before joining the user namespace, and hyperfine hands every
// command /dev/null: the bench runs hyperfine in a mount namespace whose /dev/null is its own.
// This test stands one more private /dev/null in for the host's (an outer namespace), so even a
// regression changes only a node of the test's.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { withPrivateDevNull } from '../../bench/private-dev-null.js';
import { quoteArgv, runHyperfine } from '../../bench/hyperfine.js';
import { Teardown } from '../../bench/teardown.js';
import { EQUIVALENT_PROFILE } from '../../bench/equivalent-containers.js';
import { parseProfile } from '../../policy/profile/load.js';
import { writeBundle } from '../../harness/targets/oci/bundle-writer.js';

const absent = (tools: string[]) => tools.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const missing = absent(['unshare', 'mknod', 'hyperfine']);
const missingForCrun = [...missing, ...absent(['crun'])];
const withTools = missing.length === 0 ? test : test.skip;
const withCrun = missingForCrun.length === 0 ? test : test.skip;
if (missingForCrun.length > 0) console.log(`private-dev-null: skipped, ${missingForCrun.join(', ')} not found`);

function owner(file: string): string {
  const st = fs.statSync(file);
  return `${st.uid}:${st.gid} ${(st.mode & 0o777).toString(8)}`;
}

withTools('a command the bench times under hyperfine sees a /dev/null of its own, the node made in the work directory', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-dev-null-test-'));
  const teardown = new Teardown();
  t.teardown(() => {
    teardown.runAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const seen = path.join(dir, 'seen');
  const command = { name: 'stat /dev/null', argv: ['sh', '-c', `stat -L -c '%d:%i %t:%T' /dev/null > '${seen}'`] };
  await runHyperfine([command], { runs: 1, warmup: 0, workDir: dir, interactive: false, teardown });
  const host = fs.statSync('/dev/null');
  const ours = fs.statSync(path.join(dir, 'dev-null'));
  t.is(fs.readFileSync(seen, 'utf8').trim(), `${ours.dev}:${ours.ino} 1:3`);
  t.not(`${host.dev}:${host.ino}`, `${ours.dev}:${ours.ino}`);
});

withCrun('crun run under hyperfine, as the bench runs it, chowns only the bench\'s own /dev/null', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'private-dev-null-test-'));
  const id = `private-dev-null-${process.pid}`;
  const state = path.join(dir, 'state');
  t.teardown(() => {
    spawnSync('crun', ['--root', state, 'delete', '--force', id], { input: '' });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  fs.chmodSync(dir, 0o711); // the container's root (host uid 100000) reaches the bundle through it
  const profile = parseProfile(EQUIVALENT_PROFILE, path.join(dir, 'profile.json'));
  const bundle = writeBundle(profile, path.join(dir, 'bundle'), { args: ['true'], probe: false });
  const standIn = path.join(dir, 'host-null');
  const benchNull = path.join(dir, 'bench-null');
  // Without cgroups: crun 1.8.1 refuses a hybrid host's, but only after the chown this is about.
  const crun = ['crun', '--cgroup-manager=disabled', '--root', state, 'run', '--bundle', bundle.dir, id];
  const hyperfine = ['hyperfine', '-N', '--runs', '1', '--ignore-failure', '--style', 'none', '--output', 'null', quoteArgv(crun)];
  const [file, ...args] = withPrivateDevNull(withPrivateDevNull(hyperfine, benchNull), standIn);
  const run = spawnSync(file!, args, { encoding: 'utf8', input: '', timeout: 60_000 });
  t.is(run.status, 0, run.stderr);
  t.is(owner(standIn), '0:0 666', 'the /dev/null hyperfine was started with changed owner or mode');
  // crun did chown the node it was given (else this test could not fail): to the container root's host ids.
  t.is(owner(benchNull), '100000:100000 666');
});
