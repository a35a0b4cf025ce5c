// nsrig run --name, exec, state, list and kill as a user runs them, each verb its own process, on
// real containers: a joined process is where the first process is and as restricted, with what it
// was given; its exit status comes back; Ctrl-C of the exec client ends only the program; ids are
// refused as documented; a record outlives a SIGKILLed owner only until the next command sweeps it.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../../harness/probe-rig.js';
import {
  baselineMounts, childrenOf, ourCgroupDirs, ourTempEntries, processesInOurCgroups, processRuns, suspectHostMounts,
} from '../../harness/host-leftovers.js';
import { NSRIG, nsrig, printed } from './nsrig-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-exec-cli-test-'));
const registry = path.join(dir, 'registry');
const env = { ...process.env, NSRIG_CONTAINERS_DIR: registry };
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

// The strict example (all eight namespaces, a two-range id map, no capabilities, NoNewPrivileges,
// a seccomp policy) holding a long sleep.
const examples = path.join(projectRoot(), 'policy', 'examples');
fs.cpSync(path.join(examples, 'policies'), path.join(dir, 'policies'), { recursive: true });
const sleeper = path.join(dir, 'sleeper.yaml');
fs.writeFileSync(sleeper, fs.readFileSync(path.join(examples, 'strict.yaml'), 'utf8')
  .replace(/^ {2}args: .*$/m, '  args: [/bin/sleep, "600"]').replace(/^ {2}timeout: .*$/m, '  timeout: 900'));

const NAMESPACES = ['user', 'mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'time'];
const statusLines = (pid: number) => fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')
  .filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):/.test(l));
const cmdline = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
};

interface Record {
  status: string;
  init?: { pid: number };
  cgroupDirectories: string[];
}
const recordFile = (id: string) => path.join(registry, id, 'state.json');
const readRecord = (id: string) => JSON.parse(fs.readFileSync(recordFile(id), 'utf8')) as Record;

interface Owner {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
  record: Record;
}

const owners: number[] = [];

/** `nsrig run --name ID` of a profile (the sleeper), once its record says running. */
async function startNamed(id: string, profile = sleeper): Promise<Owner> {
  const child = spawn(process.execPath, [NSRIG, 'run', '--name', id, profile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  owners.push(child.pid!);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    if (done) throw new Error(`nsrig run --name ${id} ended before it ran: ${stderr}`);
    try {
      const record = readRecord(id);
      if (record.status === 'running') return { child, exited, stderr: () => stderr, record };
    } catch {
      // not there yet
    }
    await sleep(50);
  }
}

/** What the named containers' owners left: processes, cgroups, temp entries, host mounts, children of this test. */
function leftBehind(): string[] {
  const found = childrenOf().map((c) => `child process ${c.pid} (${c.command}) in state ${c.state}`);
  for (const owner of owners) {
    const prefix = `nsrig-${owner}-`;
    for (const p of processesInOurCgroups(prefix)) found.push(`process ${p} in a container cgroup of nsrig ${owner}`);
    for (const d of ourCgroupDirs(prefix)) found.push(`cgroup ${d}`);
    for (const e of ourTempEntries(prefix)) found.push(`temp entry ${e}`);
  }
  for (const line of suspectHostMounts()) if (!baselineMounts.has(line)) found.push(`host mount ${line}`);
  return found;
}

test.afterEach.always((t: ExecutionContext) => {
  t.deepEqual(leftBehind(), [], 'something was left on the host');
  t.deepEqual(fs.existsSync(registry) ? fs.readdirSync(registry) : [], [], 'a record was left in the registry');
});

test.serial('nsrig exec joins the running container as its first process is, with what it was given; Ctrl-C of the client ends only the program', async (t) => {
  const owner = await startNamed('joined');
  const init = owner.record.init!.pid;
  const client = spawn(process.execPath, [NSRIG, 'exec', 'joined', '--env', 'NSRIG_EXEC=joined', '--cwd', '/', '--user', '1001:1002', '--', '/bin/sleep', '61'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let clientErr = '';
  client.stderr!.setEncoding('utf8').on('data', (s: string) => (clientErr += s));
  const clientExit = new Promise<number | null>((resolve) => client.on('close', (code) => resolve(code)));
  try {
    // The joined process is the client's child; it is told apart by its program, once it has exec'd it.
    let joined: number | undefined;
    while (joined === undefined) {
      if (client.exitCode !== null) throw new Error(`nsrig exec ended: ${clientErr}`);
      joined = childrenOf(client.pid).find((c) => cmdline(c.pid) === '/bin/sleep\x0061\x00')?.pid;
      await sleep(50);
    }
    for (const ns of NAMESPACES) t.is(fs.readlinkSync(`/proc/${joined}/ns/${ns}`), fs.readlinkSync(`/proc/${init}/ns/${ns}`), ns);
    t.is(fs.readFileSync(`/proc/${joined}/cgroup`, 'utf8'), fs.readFileSync(`/proc/${init}/cgroup`, 'utf8'));
    t.deepEqual(statusLines(joined), statusLines(init), 'capabilities within the init\'s bounding set, NoNewPrivs and seccomp as the init\'s');
    t.true(statusLines(joined).includes('Seccomp:\t2'));
    // The strict map: container 1000.. is host 301000..; gid 0.. is host 300000..
    const ids = fs.readFileSync(`/proc/${joined}/status`, 'utf8').split('\n').filter((l) => /^(Uid|Gid):/.test(l)).map((l) => l.trimEnd());
    t.deepEqual(ids, ['Uid:\t301001\t301001\t301001\t301001', 'Gid:\t301002\t301002\t301002\t301002']);
    t.deepEqual(fs.readdirSync(`/proc/${joined}/fd`).sort(), ['0', '1', '2']);
    t.is(fs.readlinkSync(`/proc/${joined}/cwd`), fs.readlinkSync(`/proc/${init}/root`));
    // The launch's environment with --env over it (HOME comes from the container's passwd, as at launch).
    const environ = fs.readFileSync(`/proc/${joined}/environ`, 'utf8').split('\0').filter((e) => e && !e.startsWith('HOME=')).sort();
    t.deepEqual(environ, ['NSRIG_EXEC=joined', 'PATH=/usr/bin:/bin']);

    client.kill('SIGINT');
    t.is(await clientExit, 130, clientErr);
    t.false(processRuns(joined), 'the program ended with its client');
    t.true(processRuns(init), 'the container runs on');

    const status = await nsrig(['exec', 'joined', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 7'], { env });
    t.is(status.code, 7, printed(status));
    t.is(status.stdout, 'out\n');
    t.is(status.stderr, 'err\n');
    const piped = await nsrig(['exec', 'joined', '--', '/bin/cat'], { env, input: 'through stdin\n' });
    t.is(piped.stdout, 'through stdin\n', printed(piped));
    const signalled = await nsrig(['exec', 'joined', '--', '/bin/sh', '-c', 'kill -TERM $$'], { env });
    t.is(signalled.code, 128 + 15, printed(signalled));
    const missing = await nsrig(['exec', 'joined', '--', '/nonexistent'], { env });
    t.is(missing.code, 127, printed(missing));

    // The first process is the pid namespace's init: from outside only SIGKILL reaches it (pid_namespaces(7)).
    const killed = await nsrig(['kill', 'joined', 'KILL'], { env });
    t.is(killed.code, 0, printed(killed));
    t.is(await owner.exited, 128 + 9, owner.stderr());
    t.false(fs.existsSync(path.join(registry, 'joined')), 'the record goes with the container');
  } finally {
    client.kill('SIGKILL');
    owner.child.kill('SIGINT');
    await Promise.all([clientExit, owner.exited]);
  }
});

test.serial('ids: a taken one is refused (125) and its holder runs on, an unknown one gives 125 or 1, an invalid one 2; state and list show the running one', async (t) => {
  const owner = await startNamed('taken');
  try {
    const again = await nsrig(['run', '--name', 'taken', sleeper], { env });
    t.is(again.code, 125, printed(again));
    t.regex(again.stderr, /container id "taken" is taken by a container of nsrig pid \d+, running/);
    t.true(processRuns(owner.record.init!.pid));

    const state = await nsrig(['state', 'taken'], { env });
    t.is(state.code, 0, printed(state));
    t.like(JSON.parse(state.stdout), { ociVersion: '1.0.2', id: 'taken', status: 'running', pid: owner.record.init!.pid, bundle: dir });
    const listed = await nsrig(['list', '--json'], { env });
    t.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id), ['taken'], printed(listed));

    const unknown = await nsrig(['exec', 'nosuch', '--', '/bin/true'], { env });
    t.is(unknown.code, 125, printed(unknown));
    t.regex(unknown.stderr, /no container "nosuch"/);
    t.is((await nsrig(['state', 'nosuch'], { env })).code, 1);
    t.is((await nsrig(['kill', 'nosuch'], { env })).code, 1);
    // A launch that fails gives its id back (the registry is checked empty after each test).
    const failed = await nsrig(['run', '--name', 'failed', sleeper, '--', '/nonexistent'], { env });
    t.is(failed.code, 127, printed(failed));
    for (const bad of ['../x', 'a/b', '.hidden', 'x'.repeat(129)]) {
      const exec = await nsrig(['exec', bad, '--', '/bin/true'], { env });
      t.is(exec.code, 2, printed(exec));
      t.regex(exec.stderr, /is not valid: 1 to 128 characters/);
      t.is((await nsrig(['run', '--name', bad, sleeper], { env })).code, 2, bad);
    }
  } finally {
    owner.child.kill('SIGINT');
    t.is(await owner.exited, 130, owner.stderr());
  }
  t.is((await nsrig(['state', 'taken'], { env })).code, 1, 'gone once its nsrig tore it down');
});

test.serial('the record goes when the profile\'s timeout ends the container', async (t) => {
  const brief = path.join(dir, 'brief.yaml');
  fs.writeFileSync(brief, fs.readFileSync(sleeper, 'utf8').replace(/^ {2}timeout: .*$/m, '  timeout: 6'));
  const owner = await startNamed('brief', brief);
  t.is(await owner.exited, 128 + 9, owner.stderr());
  t.regex(owner.stderr(), /killed after the profile's timeout of 6 s/);
  t.false(fs.existsSync(path.join(registry, 'brief')));
});

// No pid namespace, and a process forked beside the first one: the parent-death signal ends only the
// first process with its owner, the other is the sweep's to find (in the container's cgroup) and kill.
const forks = path.join(dir, 'forks.yaml');
fs.writeFileSync(forks, 'name: forks\nnamespaces: [mnt, uts, ipc, net]\nprocess:\n  args: [/bin/sh, -c, "sleep 600 & exec sleep 601"]\n  timeout: 900\n');

test.serial('the record of a SIGKILLed owner is swept by the next command, with everything of its container', async (t) => {
  const owner = await startNamed('orphan', forks);
  const { init, cgroupDirectories } = owner.record;
  t.true(cgroupDirectories.length > 0);
  let inside: number[] = [];
  while (inside.length < 2) {
    inside = fs.readFileSync(path.join(cgroupDirectories[0]!, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    await sleep(50);
  }
  owner.child.kill('SIGKILL');
  await owner.exited;
  t.true(fs.existsSync(recordFile('orphan')), 'a SIGKILLed owner cannot remove its record');
  const state = await nsrig(['state', 'orphan'], { env });
  t.is(state.code, 1, printed(state));
  t.regex(state.stderr, /container "orphan" belonged to an nsrig process that is gone; its remains were swept/);
  t.false(fs.existsSync(path.join(registry, 'orphan')));
  t.false(processRuns(init!.pid));
  for (const pid of inside) t.false(processRuns(pid), `process ${pid} of the container`);
  for (const d of cgroupDirectories) t.false(fs.existsSync(d), d);
  const exec = await nsrig(['exec', 'orphan', '--', '/bin/true'], { env });
  t.is(exec.code, 125, printed(exec));
});
