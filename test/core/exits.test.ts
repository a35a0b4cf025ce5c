// How a container ends: a signal, a non-zero exit, a program that cannot be exec'd, a setup
// step that fails, the timeout (every process of the container killed, background grandchildren
// included, with and without a PID namespace), destroy() while it runs. After each, nothing of
// it is left on the host.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchContainer, LaunchError, type Container } from '../../core/container.js';
import { profileOf, run, shell, assertNoLeftovers } from './container-run.js';
import { CGROUP_PARENT, processRuns } from '../../harness/host-leftovers.js';

test.afterEach.always(assertNoLeftovers);

const NO_PID_NAMESPACE = ['user', 'mnt', 'uts', 'ipc', 'net'];

function launch(doc: Record<string, unknown>, args?: string[]): Promise<Container> {
  return launchContainer(profileOf(doc), { stdio: 'pipe', stdin: 'null', args });
}

function cgroupProcs(c: Container): number[] {
  return fs.readFileSync(path.join(CGROUP_PARENT, c.id, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
}

/** Polls a condition that the kernel makes true soon; gives up after `ms` so a bug fails rather than hangs. */
async function eventually(condition: () => boolean, ms = 5000): Promise<boolean> {
  for (const start = Date.now(); Date.now() - start < ms; await sleep(10)) if (condition()) return true;
  return condition();
}

async function launchError(doc: Record<string, unknown>, args?: string[]): Promise<LaunchError> {
  try {
    const c = await launch(doc, args);
    await c.destroy();
  } catch (e) {
    if (e instanceof LaunchError) return e;
    throw e;
  }
  throw new Error('the launch succeeded');
}

test.serial('a program that exits non-zero: its code, no signal', async (t) => {
  const { exit } = await run({ process: { args: ['/bin/true'] } }, { args: shell('exit 42') });
  t.deepEqual(exit, { code: 42, signal: null, timedOut: false });
});

test.serial('killed by a signal from the host: the signal\'s name, no code', async (t) => {
  const c = await launch({ process: { args: ['/bin/sleep', '100'] } });
  c.kill('SIGKILL');
  t.deepEqual(await c.wait(), { code: null, signal: 'SIGKILL', timedOut: false });
  t.is(c.state, 'destroyed');
});

test.serial('killed by its own signal (no PID namespace, so the kernel delivers it to the program): the signal\'s name', async (t) => {
  const { exit } = await run({ namespaces: NO_PID_NAMESPACE, process: { args: ['/bin/true'] } }, { args: shell('kill -TERM $$; sleep 5') });
  t.deepEqual(exit, { code: null, signal: 'SIGTERM', timedOut: false });
});

test.serial('a program given by path that does not exist: LaunchError naming it', async (t) => {
  const e = await launchError({ process: { args: ['/nonexistent/nsrig-missing-program', 'arg'] } });
  t.is(e.step, 'resolve-executable');
  t.true(e.message.includes('/nonexistent/nsrig-missing-program'), e.message);
  t.is(e.detail?.code, 'ENOENT');
  t.is(e.detail?.object, '/nonexistent/nsrig-missing-program');
});

test.serial('a program name not found on the container\'s PATH: LaunchError naming it and the PATH searched', async (t) => {
  const e = await launchError({ process: { args: ['nsrig-no-such-program'], env: { PATH: '/usr/bin:/bin' } } });
  t.is(e.step, 'resolve-executable');
  t.regex(e.message, /nsrig-no-such-program.*PATH=\/usr\/bin:\/bin/);
});

test.serial('a file without execute permission: LaunchError with EACCES naming it', async (t) => {
  const e = await launchError({ process: { args: ['/etc/passwd'] } });
  t.is(e.detail?.code, 'EACCES');
  t.true(e.message.includes('/etc/passwd'), e.message);
});

test.serial('a setup step that fails: LaunchError names the step, the call, the errno and the object', async (t) => {
  const cwd = await launchError({ process: { args: ['/bin/true'], cwd: '/nonexistent-cwd' } });
  t.is(cwd.step, 'change-directory');
  t.like(cwd.detail, { call: 'chdir', code: 'ENOENT', object: '/nonexistent-cwd' });
  t.regex(cwd.message, /change-directory.*chdir \/nonexistent-cwd: ENOENT/);

  // The host's /usr is there read-only: a mount point cannot be created in it.
  const mountPoint = await launchError({ mounts: [{ type: 'tmpfs', destination: '/usr/nsrig-missing-dir' }], process: { args: ['/bin/true'] } });
  t.is(mountPoint.step, 'mount-filesystems');
  t.regex(mountPoint.message, /\/usr\/nsrig-missing-dir does not exist and cannot be created/);

  // A negative boottime offset larger than the host's uptime: refused before the kernel's ERANGE.
  const offset = await launchError({ namespaces: ['user', 'pid', 'mnt', 'time'], timeOffsets: { boottime: -4611686018 }, process: { args: ['/bin/true'] } });
  t.is(offset.step, 'check-time-offsets');
  t.regex(offset.message, /timeOffsets\.boottime: -4611686018 s would put the container's CLOCK_BOOTTIME below zero/);
});

for (const [title, namespaces] of [['with a PID namespace', undefined], ['without a PID namespace (the cgroup kills)', NO_PID_NAMESPACE]] as const) {
  test.serial(`outliving its timeout, ${title}: timedOut, and every process of the container is killed`, async (t) => {
    const c = await launch({ ...(namespaces ? { namespaces } : {}), process: { args: ['/bin/true'], timeout: 1.5 } },
      ['/bin/sh', '-c', 'sleep 100 & sleep 100']);
    // sh, the background sleep and the foreground one.
    t.true(await eventually(() => cgroupProcs(c).length === 3), `processes in the cgroup: ${cgroupProcs(c).join(' ')}`);
    const pids = cgroupProcs(c);
    const exit = await c.wait();
    t.deepEqual(exit, { code: null, signal: 'SIGKILL', timedOut: true });
    t.false(fs.existsSync(path.join(CGROUP_PARENT, c.id)), 'the cgroup was not removed');
    // Dead already; orphans of a container without a PID namespace may still wait for the host's
    // init to reap them, which is init's business, not ours.
    t.deepEqual(pids.filter(processRuns), [], 'processes of the container still run');
  });
}

test.serial('destroy() while the program runs: killed, reaped, removed; destroy and wait again are harmless', async (t) => {
  const c = await launch({ process: { args: ['/bin/true'] } }, ['/bin/sh', '-c', 'sleep 100 & sleep 100']);
  t.is(c.state, 'running');
  t.true(await eventually(() => cgroupProcs(c).length === 3));
  const pids = cgroupProcs(c);
  await c.destroy();
  t.is(c.state, 'destroyed');
  t.deepEqual(pids.filter(processRuns), [], 'processes of the container still run');
  t.false(fs.existsSync(path.join(CGROUP_PARENT, c.id)));
  await c.destroy();
  t.deepEqual(await c.wait(), { code: null, signal: 'SIGKILL', timedOut: false });
  t.notThrows(() => c.kill('SIGTERM'));
  t.notThrows(() => c.killAll());
});

test.serial('stdin, stdout and stderr are the container\'s pipes', async (t) => {
  const c = await launchContainer(profileOf({ process: { args: ['/bin/true'] } }), {
    stdio: 'pipe', stdin: 'pipe', args: ['/bin/sh', '-c', 'tr a-z A-Z; echo err >&2'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  c.stdout!.on('data', (b: Buffer) => out.push(b));
  c.stderr!.on('data', (b: Buffer) => err.push(b));
  const ended = Promise.all([new Promise((r) => c.stdout!.once('end', r)), new Promise((r) => c.stderr!.once('end', r))]);
  c.stdin!.end('hello from the host\n');
  t.deepEqual(await c.wait(), { code: 0, signal: null, timedOut: false });
  await ended;
  t.is(Buffer.concat(out).toString(), 'HELLO FROM THE HOST\n');
  t.is(Buffer.concat(err).toString(), 'err\n');
});
