// The engine's OCI hooks, run for real: each hook is a shell script that writes where it ran and
// what it read on stdin into a temp dir of the host. Which hooks run where, with which state and
// environment, what a timeout and a failure do, and that a failed start leaves nothing behind.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchContainer, LaunchError } from '../../core/container.js';
import { parseProfile } from '../../policy/profile/load.js';
import { leftovers, processRuns } from '../../harness/host-leftovers.js';

// Not below /tmp: the engine's staging root covers it where createContainer hooks run (see harness/hook-recorder.ts).
const dir = fs.mkdtempSync(path.join(fs.existsSync('/run') ? '/run' : os.tmpdir(), 'nsrig-hooks-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A hook that appends "KIND NS-MNT NS-PID STDIN" and its environment to LOG, then exits with CODE. */
const SCRIPT = path.join(dir, 'record.sh');
fs.writeFileSync(SCRIPT, [
  '#!/bin/sh',
  'log=$1; kind=$2; code=$3',
  'state=$(cat)',
  'printf "%s %s %s %s env=%s\\n" "$kind" "$(readlink /proc/self/ns/mnt)" "$(readlink /proc/self/ns/pid)" "$state" "$(env | sort | tr "\\n" ",")" >>"$log"',
  'exit "$code"',
].join('\n'), { mode: 0o755 });

let counter = 0;
function logFile(): string {
  return path.join(dir, `log-${++counter}`);
}

function hook(log: string, kind: string, code = 0, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { path: SCRIPT, args: ['record.sh', log, kind, String(code)], env: ['PATH=/usr/bin:/bin', `HOOK_KIND=${kind}`], ...extra };
}

function profile(hooks: Record<string, unknown>, args = ['/bin/true']) {
  return parseProfile({ name: 'hooks', namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'], process: { args }, hooks }, path.join(dir, 'hooks.yaml'));
}

/** With the test's directory bound in at its own path: startContainer's path resolves in the container. */
function inContainerProfile(hooks: Record<string, unknown>, args = ['/bin/true']) {
  return parseProfile({
    name: 'hooks', namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'],
    mounts: [{ type: 'proc', destination: '/proc' }, { type: 'dev', destination: '/dev' }, { type: 'bind', source: dir, destination: dir, readonly: false }],
    process: { args }, hooks,
  }, path.join(dir, 'hooks.yaml'));
}

function records(log: string): { kind: string; mnt: string; pid: string; state: Record<string, unknown>; env: string }[] {
  if (!fs.existsSync(log)) return [];
  return fs.readFileSync(log, 'utf8').trim().split('\n').map((line) => {
    const m = /^(\S+) (\S+) (\S+) (\{.*\}) env=(.*)$/.exec(line);
    if (m === null) throw new Error(`unexpected record: ${line}`);
    return { kind: m[1]!, mnt: m[2]!, pid: m[3]!, state: JSON.parse(m[4]!) as Record<string, unknown>, env: m[5]! };
  });
}

// The state's bundle is the profile file's directory: the file must exist for that.
fs.writeFileSync(path.join(dir, 'hooks.yaml'), '# the profiles are built in the test\n');

const hostNs = (type: string) => fs.readlinkSync(`/proc/self/ns/${type}`);

test.serial('prestart, createRuntime, poststart and poststop run in order, on the host, with the state and only their own environment', async (t) => {
  const log = logFile();
  const container = await launchContainer(profile({
    prestart: [hook(log, 'prestart')], createRuntime: [hook(log, 'createRuntime')],
    poststart: [hook(log, 'poststart')], poststop: [hook(log, 'poststop')],
  }, ['/bin/sh', '-c', 'read line']), { stdio: 'pipe', stdin: 'pipe' });
  t.deepEqual(records(log).map((r) => r.kind), ['prestart', 'createRuntime', 'poststart'], 'all but poststop once started');
  container.stdin!.end();
  await container.wait();
  const all = records(log);
  t.deepEqual(all.map((r) => r.kind), ['prestart', 'createRuntime', 'poststart', 'poststop']);
  for (const r of all) {
    t.is(r.mnt, hostNs('mnt'), r.kind);
    t.is(r.pid, hostNs('pid'), r.kind);
    t.like(r.state, { ociVersion: '1.0.2', id: container.id, bundle: dir }, r.kind);
    // The hook's environment is its env list and nothing of nsrig's (PWD and SHLVL are the shell's own).
    // While c8 collects coverage, Node's child_process adds NODE_V8_COVERAGE to every child's given
    // environment (lib/child_process.js); a run without coverage has no such variable to add.
    const own = (v: string) => v !== '' && !/^(PWD|SHLVL|_)=/.test(v) && !(process.env.NODE_V8_COVERAGE !== undefined && v.startsWith('NODE_V8_COVERAGE='));
    t.deepEqual(r.env.split(',').filter(own), [`HOOK_KIND=${r.kind}`, 'PATH=/usr/bin:/bin'], r.kind);
  }
  t.deepEqual(all.map((r) => r.state.status), ['creating', 'creating', 'running', 'stopped']);
  t.deepEqual(all.map((r) => r.state.pid), [container.pid, container.pid, container.pid, undefined]);
  t.false(processRuns(container.pid));
});

test.serial('a failing createRuntime hook stops the start: a LaunchError naming it, no later hook but poststop, nothing left', async (t) => {
  const log = logFile();
  const error = await t.throwsAsync(launchContainer(profile({
    prestart: [hook(log, 'prestart')], createRuntime: [hook(log, 'createRuntime', 3)], poststart: [hook(log, 'poststart')],
    poststop: [hook(log, 'poststop')],
  }), { stdio: 'pipe' }), { instanceOf: LaunchError });
  t.is(error?.step, 'hooks.createRuntime');
  t.regex(error?.message ?? '', /^hooks\.createRuntime\[0\] \(.*record\.sh\) failed: exit code 3$/);
  // runtime.md: a failed create hook stops the container and the lifecycle goes on at step 12, then 13 (poststop).
  const all = records(log);
  t.deepEqual(all.map((r) => r.kind), ['prestart', 'createRuntime', 'poststop']);
  t.false(processRuns(all[0]!.state.pid as number));
  t.deepEqual(leftovers(), []);
});

test.serial('a hook past its timeout is killed, with whatever it started, and counts as failed', async (t) => {
  const log = logFile();
  const marker = `nsrig-hook-sleeper-${process.pid}`;
  const started = Date.now();
  const error = await t.throwsAsync(launchContainer(profile({
    // The sleeper is a child of the hook: its process group goes with it.
    prestart: [{ path: '/bin/sh', args: ['sh', '-c', 'sh -c "sleep 600; :" "$0" & wait', marker], timeout: 1 }],
    poststop: [hook(log, 'poststop')],
  }), { stdio: 'pipe' }), { instanceOf: LaunchError });
  t.regex(error?.message ?? '', /^hooks\.prestart\[0\] \(\/bin\/sh\) failed: still running after its timeout of 1 s; killed$/);
  t.true(Date.now() - started < 20_000);
  const sleepers = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
    } catch {
      return false;
    }
  });
  t.deepEqual(sleepers, []);
  t.deepEqual(records(log).map((r) => r.kind), ['poststop']);
  t.deepEqual(leftovers(), []);
});

test.serial('a failing poststart or poststop hook is one warning each, and the container runs and ends as usual', async (t) => {
  const log = logFile();
  const warnings: string[] = [];
  const container = await launchContainer(profile({
    poststart: [hook(log, 'poststart', 1), hook(log, 'poststart-after')],
    poststop: [{ path: path.join(dir, 'no-such-hook') }, hook(log, 'poststop')],
  }), { stdio: 'pipe', warn: (m) => warnings.push(m) });
  const exit = await container.wait();
  t.is(exit.code, 0);
  t.deepEqual(records(log).map((r) => r.kind), ['poststart', 'poststart-after', 'poststop']);
  t.is(warnings.length, 2);
  t.regex(warnings[0]!, /^hooks\.poststart\[0\] \(.*record\.sh\) failed: exit code 1$/);
  t.regex(warnings[1]!, /^hooks\.poststop\[0\] \(.*no-such-hook\) failed: cannot run it \(ENOENT\)$/);
});

test.serial('createContainer runs in the container\'s namespaces before pivot_root, startContainer inside it after, each with the state as the container sees it', async (t) => {
  const log = logFile();
  const container = await launchContainer(inContainerProfile({
    // /bin/true reads no stdin: the state it never takes is no failure.
    createRuntime: [hook(log, 'createRuntime')], createContainer: [{ path: '/bin/true' }, hook(log, 'createContainer')],
    startContainer: [{ path: '/bin/true' }, hook(log, 'startContainer')], poststart: [hook(log, 'poststart')],
  }, ['/bin/sh', '-c', 'readlink /proc/self/ns/mnt /proc/self/ns/pid; read line']), { stdio: 'pipe', stdin: 'pipe' });
  let out = '';
  container.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  const all = records(log);
  container.stdin!.end();
  await container.wait();
  const [programMnt, programPid] = out.trim().split('\n');
  t.deepEqual(all.map((r) => r.kind), ['createRuntime', 'createContainer', 'startContainer', 'poststart']);
  const byKind = Object.fromEntries(all.map((r) => [r.kind, r]));
  for (const kind of ['createContainer', 'startContainer']) {
    t.is(byKind[kind]!.mnt, programMnt, `${kind} in the container's mount namespace`);
    t.is(byKind[kind]!.pid, programPid, `${kind} in the container's pid namespace`);
    // The pid as the container sees it: stage 2 is its pid namespace's init.
    t.like(byKind[kind]!.state, { ociVersion: '1.0.2', id: container.id, pid: 1, bundle: dir }, kind);
  }
  t.is(byKind.createContainer!.state.status, 'creating');
  t.is(byKind.startContainer!.state.status, 'created');
  t.not(programMnt, hostNs('mnt'));
  t.is(byKind.createRuntime!.mnt, hostNs('mnt'));
});

test.serial('a failing startContainer hook stops the start: a LaunchError naming it, and nothing left', async (t) => {
  const log = logFile();
  const error = await t.throwsAsync(launchContainer(inContainerProfile({
    startContainer: [hook(log, 'startContainer', 4)], poststart: [hook(log, 'poststart')], poststop: [hook(log, 'poststop')],
  }), { stdio: 'pipe' }), { instanceOf: LaunchError });
  t.regex(error?.message ?? '', /run-start-container-hooks failed: hooks\.startContainer\[0\] \(.*record\.sh\) failed: exit code 4/);
  t.deepEqual(records(log).map((r) => r.kind), ['startContainer', 'poststop']);
  t.deepEqual(leftovers(), []);
});

test.serial('a createContainer hook whose path is below /tmp (which the staging root covers there) runs, opened as the runtime sees it', async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-hooks-tmp-'));
  try {
    const script = path.join(tmp, 'record.sh');
    fs.copyFileSync(SCRIPT, script);
    fs.chmodSync(script, 0o755);
    const log = logFile();
    const c = await launchContainer(profile({
      createContainer: [{ path: script, args: ['record.sh', log, 'createContainer', '0'], env: ['PATH=/usr/bin:/bin'] }],
    }), { stdio: 'pipe' });
    await c.wait();
    const seen = records(log);
    t.is(seen.length, 1);
    t.is(seen[0]!.kind, 'createContainer');
    // In the container's mount namespace, not the host's.
    t.not(seen[0]!.mnt, hostNs('mnt'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** A hook that copies the mount table of the state's pid (or, with "self", its own) to LOG.KIND. */
const MOUNTS_SCRIPT = path.join(dir, 'mounts.sh');
fs.writeFileSync(MOUNTS_SCRIPT, [
  '#!/bin/sh',
  'log=$1; kind=$2; whose=$3',
  'pid=$(sed -n \'s/.*"pid":\\([0-9]*\\).*/\\1/p\')',
  '[ "$whose" = self ] && pid=self',
  'cat "/proc/$pid/mountinfo" >"$log.$kind"',
].join('\n'), { mode: 0o755 });

/** Mount points and filesystem types of a mountinfo copy (fields 5 and the one after the "-"). */
function mountPoints(file: string): Map<string, string> {
  return new Map(fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => {
    const fields = line.split(' ');
    return [fields[4]!, fields[fields.indexOf('-') + 1]!];
  }));
}

test.serial('config.md\'s createRuntime point: prestart and createRuntime see the container\'s mounts made and its root not yet pivoted; startContainer sees it pivoted', async (t) => {
  const log = logFile();
  const mountsHook = (kind: string, whose = 'state') => ({ path: MOUNTS_SCRIPT, args: ['mounts.sh', log, kind, whose] });
  const doc = {
    name: 'hooks', namespaces: ['pid', 'mnt', 'uts', 'ipc', 'net'],
    mounts: [
      // /tmp is in every host root view; the mark is a mount point of a tmpfs made earlier, so it needs no host directory.
      { type: 'proc', destination: '/proc' }, { type: 'tmpfs', destination: '/tmp' }, { type: 'tmpfs', destination: '/tmp/stage-mark', size: '64k' },
      { type: 'bind', source: dir, destination: dir, readonly: false },
    ],
    process: { args: ['/bin/true'] },
    hooks: { prestart: [mountsHook('prestart')], createRuntime: [mountsHook('createRuntime')], startContainer: [mountsHook('startContainer', 'self')] },
  };
  const container = await launchContainer(parseProfile(doc, path.join(dir, 'hooks.yaml')), { stdio: 'pipe' });
  await container.wait();
  for (const kind of ['prestart', 'createRuntime']) {
    const seen = mountPoints(`${log}.${kind}`);
    // The staging root still at /tmp, the host's root above it: the mounts are made, pivot_root not yet.
    t.is(seen.get('/tmp/tmp/stage-mark'), 'tmpfs', `${kind}: the declared tmpfs is mounted in the new root`);
    t.is(seen.get('/tmp/proc'), 'proc', `${kind}: so is /proc`);
    t.false(seen.has('/tmp/stage-mark'), `${kind}: the root is not pivoted`);
  }
  const inside = mountPoints(`${log}.startContainer`);
  t.is(inside.get('/tmp/stage-mark'), 'tmpfs');
  t.false(inside.has('/tmp/tmp/stage-mark'));
});
