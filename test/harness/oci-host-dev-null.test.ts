// The rig must never weaken its host. crun 1.8.1 fchowns a container's standard streams to the
// container's user before it joins the user namespace (containers/crun#1845), so a runtime given
// the host's /dev/null as stdin hands that node to the container's user. The OCI target gives
// runtimes an empty pipe instead. The check runs in a private mount namespace (unshare(1)) whose
// /dev/null is a node of our own, so what a runtime does to "/dev/null" is seen there alone.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { NSRIG } from '../cli/nsrig-cli.js';

const missing = ['unshare', 'crun', 'mknod'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const maybe = missing.length === 0 ? test : test.skip;
if (missing.length > 0) console.log(`oci-host-dev-null: skipped, ${missing.join(', ')} not found`);

maybe('a check on crun leaves /dev/null as it was: the runtime gets an empty pipe as stdin, never the node', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-dev-null-test-'));
  try {
    const node = path.join(dir, 'null');
    // env.exact on seed 1 generates a user namespace and a non-root user: where crun 1.8.1 chowned the node.
    const script = [
      `mknod -m 666 "${node}" c 1 3`,
      `mount --bind "${node}" /dev/null`,
      `"${process.execPath}" "${NSRIG}" check --runtime crun --prepare-host --only env.exact,user.ids-equal-profile --runs 4 --seed 1`,
    ].join(' && ');
    const run = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 150_000, input: '' });
    t.is(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const st = fs.statSync(node);
    t.is(`${st.uid}:${st.gid} ${(st.mode & 0o777).toString(8)}`, '0:0 666', 'the /dev/null the runtime saw changed owner or mode');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
