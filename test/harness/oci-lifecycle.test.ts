// The create-start lifecycle on real runc and crun: state transitions as `state` reports them, an
// init that has not run the program before start, a config.json edited after create that changes
// nothing, kill delivering the signal asked for, and delete leaving nothing behind.
import test from 'ava';
import fs from 'node:fs';
import { parseProfile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { OciTarget, resolveRuntime } from '../../harness/targets/oci/oci-target.js';
import type { OciSession } from '../../harness/targets/oci/oci-session.js';
import { OciTestHost } from './oci-test-host.js';
import { containerLeftovers } from '../../harness/host-leftovers.js';

const host = OciTestHost.create('oci-lifecycle-test', { crun: true });
const privateTmp = host.tmpdir;

const RUNTIMES = ['runc', 'crun'] as const;

function profileOf(script: string, doc: object = {}): Profile {
  return parseProfile({
    name: 'lifecycle-test', namespaces: ['user', 'pid', 'mnt', 'uts', 'ipc'], hostname: 'before-start',
    process: { args: ['/bin/sh', '-c', script], env: { PATH: '/usr/bin:/bin', MARK: 'before-start' } }, ...doc,
  }, '<oci-lifecycle-test>', { checkPaths: false });
}

/** Resolves with everything read once `line` has been printed; rejects when the stream ends first. */
function untilLine(stream: NodeJS.ReadableStream, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString();
      if (text.split('\n').includes(line)) {
        stream.off('data', onData);
        resolve(text);
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new Error(`the stream ended before printing ${line}; it printed ${JSON.stringify(text)}`)));
  });
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
    stream.once('end', () => resolve(text));
  });
}

async function statusOf(session: OciSession): Promise<string> {
  return (await session.state())?.status ?? 'no state';
}

async function destroyLeavingNothing(t: import('ava').ExecutionContext, session: OciSession): Promise<void> {
  await session.destroy();
  t.deepEqual(containerLeftovers(session.id, session.bundle.dir), [], 'delete left nothing behind');
  t.is(await session.state(), undefined, 'the runtime no longer knows the container');
}

for (const runtime of RUNTIMES) {
  const found = resolveRuntime(runtime);
  if ('problem' in found) console.log(`oci-lifecycle: ${runtime} tests skipped: ${found.problem}`);
  const serial = 'problem' in found ? test.skip : test.serial;
  // Installed but unable to run a container here is a failure, not a skip.
  let preflight: Promise<string[]> | undefined;
  const ready = async (t: import('ava').ExecutionContext): Promise<boolean> => {
    const problems = await (preflight ??= new OciTarget(runtime).preflight());
    t.deepEqual(problems, [], `${runtime} runs containers here`);
    return problems.length === 0;
  };

  serial(`${runtime}: created, then running after start, then stopped; the init is not the program before start`, async (t) => {
    if (!(await ready(t))) return;
    const profile = profileOf('echo started; read line; exit 0');
    const session = await new OciTarget(runtime).start({ profile, stdin: 'pipe', lifecycle: 'create-start' });
    try {
      const record = session.lifecycle!;
      t.is(record.created.status, 'created');
      t.true(record.created.initArgs.length > 0, 'the init existed before start');
      t.notDeepEqual(record.created.initArgs, profile.process.args, `before start the init ran ${record.created.initArgs.join(' ')}`);
      t.is(record.started.status, 'running');
      await untilLine(session.stdout, 'started');
      t.is(await statusOf(session), 'running');
      t.deepEqual(fs.readFileSync(`/proc/${session.hostPid}/cmdline`, 'utf8').split('\0').slice(0, -1), profile.process.args);
      session.stdin!.end('go\n');
      t.deepEqual(await session.wait(), { code: 0, signal: null, timedOut: false });
      t.is(await statusOf(session), 'stopped');
    } finally {
      await destroyLeavingNothing(t, session);
    }
  });

  serial(`${runtime}: a config.json edited after create changes nothing in the started container`, async (t) => {
    if (!(await ready(t))) return;
    const profile = profileOf('hostname; echo "$MARK"');
    const session = await new OciTarget(runtime).start({
      profile, stdin: 'null', lifecycle: 'create-start', editAfterCreate: { hostname: 'after-create', env: { PATH: '/usr/bin:/bin', MARK: 'after-create' } },
    });
    try {
      const output = collect(session.stdout);
      const edited = JSON.parse(fs.readFileSync(session.bundle.configPath, 'utf8')) as { hostname: string; process: { env: string[] } };
      t.is(edited.hostname, 'after-create', 'the edit reached config.json');
      t.true(edited.process.env.includes('MARK=after-create'));
      t.is((await session.wait()).code, 0);
      t.is(await output, 'before-start\nbefore-start\n');
    } finally {
      await destroyLeavingNothing(t, session);
    }
  });

  serial(`${runtime}: kill delivers the signal asked for`, async (t) => {
    if (!(await ready(t))) return;
    // PID 1 of a pid namespace ignores signals it has no handler for: the traps are its handlers.
    const profile = profileOf('trap "echo got-USR1" USR1; trap "echo got-HUP; exit 9" HUP; echo armed; while :; do sleep 0.1; done');
    const session = await new OciTarget(runtime).start({ profile, stdin: 'null', lifecycle: 'create-start' });
    try {
      await untilLine(session.stdout, 'armed');
      const usr1 = untilLine(session.stdout, 'got-USR1');
      await session.kill('SIGUSR1');
      t.false((await usr1).includes('got-HUP'));
      const hup = untilLine(session.stdout, 'got-HUP');
      await session.kill('SIGHUP');
      await hup;
      t.deepEqual(await session.wait(), { code: 9, signal: null, timedOut: false });
    } finally {
      await destroyLeavingNothing(t, session);
    }
  });

  serial(`${runtime}: a launch refused on the way from create to start leaves nothing behind`, async (t) => {
    if (!(await ready(t))) return;
    const profile = profileOf('true', { process: { args: ['/nonexistent-program'] } });
    const error = await t.throwsAsync(new OciTarget(runtime).start({ profile, stdin: 'null', lifecycle: 'create-start' }));
    t.regex(error!.message, /nonexistent-program|no such file/i);
    t.deepEqual(fs.readdirSync(privateTmp).filter((e) => e.startsWith('nsrig-bundle-')), [], 'no bundle left');
    t.deepEqual(containerLeftovers(`nsrig-oci-${process.pid}-`), [], 'no cgroup, process or mount left');
  });
}
