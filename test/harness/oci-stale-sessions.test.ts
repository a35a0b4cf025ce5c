// An nsrig SIGKILLed in the middle of an OCI case never tears its session down: the runtime and
// the container go on running, the state root and bundle stay in $TMPDIR. The next run sweeps
// them (sweepStaleSessions, called by OciTarget before its first start); a live run's sessions
// are never touched.
import test from 'ava';
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { sweepStaleSessions } from '../../harness/targets/oci/session-dir.js';
import { parseProfile } from '../../policy/profile/load.js';

const TARGET_MODULE = fileURLToPath(new URL('../../harness/targets/oci/oci-target.js', import.meta.url));
const PROFILE_MODULE = fileURLToPath(new URL('../../policy/profile/load.js', import.meta.url));
const hasRunc = spawnSync('sh', ['-c', 'command -v runc']).status === 0;
if (!hasRunc) console.log('oci-stale-sessions: skipped, runc not on PATH');
const withRunc = hasRunc ? test.serial : test.serial.skip;

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`);

/** A separate nsrig process that starts a long container on runc, says where, and waits to be killed. */
const OWNER_SCRIPT = `
import { OciTarget } from ${JSON.stringify(TARGET_MODULE)};
import { parseProfile } from ${JSON.stringify(PROFILE_MODULE)};
const profile = parseProfile({ process: { args: ['/bin/sleep', '300'] } }, 'stale.yaml', { checkPaths: false });
const session = await new OciTarget('runc').start({ profile, stdin: 'null' });
console.log(JSON.stringify({ dir: session.bundle.dir, pid: session.hostPid }));
setInterval(() => {}, 1000);
`;

withRunc('a SIGKILLed owner\'s container is deleted and its session directory removed; a live owner\'s is left', async (t) => {
  const owner = spawn(process.execPath, ['--input-type=module', '-e', OWNER_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(owner.stdout!, 'data')) as [Buffer];
  const { dir, pid } = JSON.parse(line.toString()) as { dir: string; pid: number };
  owner.kill('SIGKILL');
  await once(owner, 'exit');
  t.true(alive(pid), 'the container outlives its SIGKILLed nsrig');

  const profile = parseProfile({ process: { args: ['/bin/sleep', '300'] } }, 'live.yaml', { checkPaths: false });
  // This process's first OCI start sweeps before it adds a container of its own.
  const live = await new OciTarget('runc').start({ profile, stdin: 'null' });
  try {
    t.false(fs.existsSync(dir), 'the stale session directory is gone');
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 10));
    t.false(alive(pid), 'its container was killed');
    const swept = sweepStaleSessions();
    t.false(swept.includes(live.bundle.dir));
    t.true(fs.existsSync(live.bundle.dir), 'a live owner\'s session stays');
    t.true(alive(live.hostPid!), 'and its container runs on');
  } finally {
    await live.destroy();
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    spawnSync('rm', ['-rf', dir]);
  }
});
