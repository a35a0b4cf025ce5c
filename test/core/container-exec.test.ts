// The engine's exec (core/container-exec.ts) on real containers: the joined process is where the
// container's first process is (namespaces, cgroups) and as restricted (capabilities,
// NoNewPrivileges, seccomp), with the cwd, environment and user it was given and only fds 0-2; a
// join that cannot happen fails with ExecError and runs nothing; nothing is left behind.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchContainer, type Container } from '../../core/container.js';
import { ExecError, execInContainer } from '../../core/container-exec.js';
import { joinedProcessSteps } from '../../core/exec-steps.js';
import { compilePlan } from '../../core/plan.js';
import { runSteps } from '../../core/launch-interpreter.js';
import { recordingKernel } from '../../core/recording-kernel.js';
import { nativeKernel } from '../../core/native/native-kernel.js';
import { NamespaceJoinError } from '../../core/launch-error.js';
import { loadProfileFile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { projectRoot, RIG_DIR } from '../../harness/probe-rig.js';
import { shell, HOLD, heldReady, profileOf, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-exec-test-'));
fs.chmodSync(dir, 0o777);
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const NAMESPACES = ['user', 'mnt', 'pid', 'uts', 'ipc', 'net', 'cgroup', 'time'];

/** All eight namespaces, a two-range id map, no capabilities, NoNewPrivileges, a seccomp policy. */
function strict(): Profile {
  return loadProfileFile(path.join(projectRoot(), 'policy', 'examples', 'strict.yaml'));
}

/** Starts a container whose first process holds until stdin closes. */
async function held(profile: Profile): Promise<Container> {
  const container = await launchContainer(profile, { nsrigTreeAt: RIG_DIR, stdio: 'pipe', stdin: 'pipe', args: shell(HOLD) });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    container.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (heldReady(out)) resolve();
    });
    container.stdout!.on('end', () => reject(new Error(`the first process ended before it held: ${out}`)));
  });
  return container;
}

const statusLines = (pid: number) => fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')
  .filter((l) => /^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):/.test(l));
const idLines = (pid: number) => fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').filter((l) => /^(Uid|Gid|Groups):/.test(l)).map((l) => l.trimEnd());

test.serial('a joined process has the first process\'s namespaces, cgroups, capabilities, NoNewPrivs and seccomp mode, and what it was given', async (t) => {
  const container = await held(strict());
  try {
    const joined = await execInContainer(container, {
      args: ['/bin/sleep', '30'], env: { PATH: '/usr/bin:/bin', NSRIG_EXEC: 'joined' }, cwd: RIG_DIR, user: { uid: 1001, gid: 1002 },
    });
    // Told once the program is found, right before the filter and execve: its own environment is then the one given.
    while (fs.readFileSync(`/proc/${joined.pid}/cmdline`, 'utf8') !== '/bin/sleep\x0030\x00') await new Promise((r) => setTimeout(r, 20));
    const init = container.pid;
    for (const ns of NAMESPACES) t.is(fs.readlinkSync(`/proc/${joined.pid}/ns/${ns}`), fs.readlinkSync(`/proc/${init}/ns/${ns}`), ns);
    t.is(fs.readFileSync(`/proc/${joined.pid}/cgroup`, 'utf8'), fs.readFileSync(`/proc/${init}/cgroup`, 'utf8'));
    t.deepEqual(statusLines(joined.pid), statusLines(init));
    t.true(statusLines(joined.pid).includes('Seccomp:\t2'), 'the strict profile\'s filter is on');
    // The strict map: container 1000.. is host 301000..; gid 0.. is host 300000..
    t.deepEqual(idLines(joined.pid), ['Uid:\t301001\t301001\t301001\t301001', 'Gid:\t301002\t301002\t301002\t301002', 'Groups:']);
    t.deepEqual(fs.readdirSync(`/proc/${joined.pid}/fd`).sort(), ['0', '1', '2']);
    t.is(fs.readlinkSync(`/proc/${joined.pid}/cwd`), `${fs.readlinkSync(`/proc/${init}/root`)}${RIG_DIR}`.replace(/^\/\//, '/'));
    const environ = fs.readFileSync(`/proc/${joined.pid}/environ`, 'utf8').split('\0').filter(Boolean).sort();
    t.deepEqual(environ, ['HOME=/', 'NSRIG_EXEC=joined', 'PATH=/usr/bin:/bin']);
    await container.destroy();
    t.is((await joined.wait()).signal, 'SIGKILL', 'it dies with the container');
  } finally {
    await container.destroy();
  }
});

test.serial('a joined process is never given a capability the first process\'s bounding set lacks', async (t) => {
  const base = profileOf({ name: 'exec-caps', namespaces: ['user', 'pid', 'mnt'], rootfs: { path: '/', readonly: true }, mounts: [{ type: 'proc', destination: '/proc' }],
    process: { args: ['true'], capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'], inheritable: [], ambient: [] } } });
  const container = await held(base);
  try {
    // The profile the exec is compiled from is widened after launch: the init's bounding set still rules.
    const widened = { ...base.process.capabilities, bounding: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], effective: ['CAP_CHOWN', 'CAP_SYS_ADMIN'], permitted: ['CAP_CHOWN', 'CAP_SYS_ADMIN'] };
    container.launchedFrom = { profile: { ...base, process: { ...base.process, capabilities: widened } }, noNewKeyring: false };
    const joined = await execInContainer(container, { args: shell('echo joined; exec sleep 30') });
    await new Promise<void>((resolve) => joined.stdout.once('data', () => resolve()));
    t.deepEqual(statusLines(joined.pid), statusLines(container.pid));
    t.true(statusLines(joined.pid).includes('CapBnd:\t0000000000000001'), statusLines(joined.pid).join(' '));
  } finally {
    await container.destroy();
  }
});

test.serial('a container whose first process has exited cannot be joined: ExecError, and nothing runs', async (t) => {
  const marker = path.join(dir, 'ran-after-exit');
  const container = await launchContainer(strict(), { nsrigTreeAt: RIG_DIR, stdio: 'pipe', stdin: 'null', args: shell('exit 0') });
  try {
    // Exited, not yet reaped: the container still says running.
    while (!fs.readFileSync(`/proc/${container.pid}/stat`, 'utf8').includes(') Z ')) await new Promise((r) => setTimeout(r, 20));
    t.is(container.state, 'running');
    const error = await t.throwsAsync(execInContainer(container, { args: shell(`touch ${marker}`) }), { instanceOf: ExecError });
    t.regex(error!.message, /has exited/);
    await container.wait();
    const again = await t.throwsAsync(execInContainer(container, { args: shell(`touch ${marker}`) }), { instanceOf: ExecError });
    t.regex(again!.message, /destroyed, not running/);
    t.false(fs.existsSync(marker));
  } finally {
    await container.destroy();
  }
});

test.serial('a joined process that cannot start inside the container runs nothing: ExecError, the container untouched', async (t) => {
  // No procfs at /proc inside: stage 2, reached through /proc/self/fd, cannot even load there.
  const marker = path.join(dir, 'ran-unstarted');
  const container = await held(profileOf({ name: 'exec-no-proc', namespaces: ['user', 'pid', 'mnt'], rootfs: { path: '/', readonly: true }, mounts: [], process: { args: ['true'] } }));
  try {
    const error = await t.throwsAsync(execInContainer(container, { args: shell(`touch ${marker}`) }), { instanceOf: ExecError });
    t.is(error!.step, 'stage2');
    t.regex(error!.message, /died before exec/);
    t.false(fs.existsSync(marker));
    t.is(container.state, 'running');
  } finally {
    await container.destroy();
  }
});

test('the joined process proves its joins before any other step: a namespace that is not the expected one stops it', (t) => {
  // The filter's content is not looked at by the recording kernel.
  const plan = compilePlan(strict(), { report: 3, stdin: 4, stdout: 5, stderr: 6 }, { seccompPrograms: [Buffer.alloc(8)] });
  const expected = Object.fromEntries(NAMESPACES.map((ns) => [ns, `${ns}:[1]`]));
  const steps = joinedProcessSteps(plan, expected);
  const kernel = recordingKernel();
  runSteps(steps, kernel);
  t.deepEqual(kernel.calls[0], { call: 'expect_namespaces', args: { links: expected } });
  t.is(kernel.calls.at(-1)!.call, 'execve');
  // Nothing that builds a container: those are the first process's and already there.
  for (const made of ['mount', 'pivot_root', 'sethostname', 'unshare', 'run_hook']) t.false(kernel.calls.some((c) => c.call === made), made);
  t.true(['seccomp', 'capset', 'setresuid'].every((c) => kernel.calls.some((k) => k.call === c)));
  // Carried out for real, on this very process: its own links pass, another's do not.
  const own = Object.fromEntries(NAMESPACES.map((ns) => [ns, fs.readlinkSync(`/proc/self/ns/${ns}`)]));
  t.notThrows(() => nativeKernel.expect_namespaces({ links: own }));
  const error = t.throws(() => nativeKernel.expect_namespaces({ links: { ...own, net: 'net:[1]' } }), { instanceOf: NamespaceJoinError });
  t.regex(error!.message, /net namespace .* not the container's net:\[1\].*nothing was run/);
});
