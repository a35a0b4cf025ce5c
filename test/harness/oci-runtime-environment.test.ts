// A runtime given with --runtime runs with the caller's environment (a wrapper's or a rootless
// runtime's own variables reach it), while the container's environment is config.json's alone.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseProfile } from '../../policy/profile/load.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';

const privateTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-oci-env-test-'));
// The container's root user (a host uid such as 100000) must get through to the bundle.
fs.chmodSync(privateTmp, 0o711);
const bundles = fs.mkdtempSync(path.join(privateTmp, 'bundles-'));
fs.chmodSync(bundles, 0o711);
const records = fs.mkdtempSync(path.join(privateTmp, 'records-'));
process.env.TMPDIR = bundles;
test.after.always(() => fs.rmSync(privateTmp, { recursive: true, force: true }));

const runc = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();

/** A runtime that writes its command line and environment to a file of its own, then becomes runc. */
function recordingRuntime(): string {
  const file = path.join(privateTmp, 'runc-records-env');
  fs.writeFileSync(file, `#!/bin/sh\n{ printf '%s\\n' "$*"; env; } > '${records}'/invocation.$$\nexec '${runc}' "$@"\n`, { mode: 0o755 });
  return file;
}

/** The environment the runtime was given for its `run` command, as NAME → value. */
function runInvocationEnvironment(): Map<string, string> {
  const runs = fs.readdirSync(records).map((f) => fs.readFileSync(path.join(records, f), 'utf8').split('\n'))
    .filter(([commandLine]) => / run --pid-file /.test(commandLine ?? ''));
  if (runs.length !== 1) throw new Error(`expected one recorded run invocation, found ${runs.length}`);
  return new Map(runs[0]!.slice(1).filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

const CALLER = {
  XDG_RUNTIME_DIR: path.join(privateTmp, 'xdg-runtime'),
  RUNTIME_WRAPPER_SETTING: 'kept for the runtime',
  NSRIG_WRAPPER_KNOB: 'also kept',
};
// What runc and crun would carry into the container (and NOTIFY_SOCKET would make them wait for READY=1).
const CONTAINER_BOUND = { NOTIFY_SOCKET: path.join(privateTmp, 'notify.sock'), LISTEN_FDS: '1', LISTEN_PID: '1', LISTEN_FDNAMES: 'web' };

(runc ? test.serial : test.skip)('the runtime gets the caller\'s environment, the container only config.json\'s', async (t) => {
  if (!runc) return;
  const saved = { ...process.env };
  Object.assign(process.env, CALLER, CONTAINER_BOUND);
  try {
    const declared = { PATH: '/usr/bin:/bin', DECLARED_IN_PROFILE: 'yes' };
    const profile = parseProfile({ name: 'env-test', process: { args: ['/usr/bin/env'], env: declared } }, '<env-test>', { checkPaths: false });
    const session = await new OciTarget(recordingRuntime()).start({ profile, stdin: 'null' });
    let stdout = '';
    session.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    const status = await session.wait();
    await session.destroy();
    t.is(status.code, 0, JSON.stringify(status));

    const runtimeEnv = runInvocationEnvironment();
    for (const [name, value] of Object.entries(CALLER)) t.is(runtimeEnv.get(name), value, `the runtime sees ${name}`);
    t.is(runtimeEnv.get('PATH'), saved.PATH);
    for (const name of Object.keys(CONTAINER_BOUND)) t.false(runtimeEnv.has(name), `${name} is withheld from the runtime`);

    // runc sets HOME when config.json has none (harness/targets/oci/README.md, "Conventions").
    const containerEnv = stdout.split('\n').filter(Boolean).filter((line) => !line.startsWith('HOME='));
    t.deepEqual(containerEnv.sort(), Object.entries(declared).map(([n, v]) => `${n}=${v}`).sort());
  } finally {
    for (const name of [...Object.keys(CALLER), ...Object.keys(CONTAINER_BOUND)]) delete process.env[name];
    Object.assign(process.env, saved);
  }
  t.deepEqual(fs.readdirSync(bundles), [], 'no bundle left');
});
