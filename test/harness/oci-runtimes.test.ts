// The OCI target against the real runc and crun installed on this host: output, exit codes,
// signals, timeouts, refusals, hangs, and that every path leaves nothing behind. Serial: the
// leftover checks look at the whole host.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadProfileFile, parseProfile } from '../../policy/profile/load.js';
import type { Profile } from '../../policy/profile/types.js';
import { TargetError, type ExitStatus } from '../../harness/target.js';
import { cgroupsOfContainer } from '../../harness/targets/oci/runtime-cgroups.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import type { OciSession } from '../../harness/targets/oci/oci-session.js';
import { readCgroupLayout, type CgroupLayout } from '../../harness/targets/oci/cgroup-layout.js';
import {
  crunHostProblem, prepareHostForCrun, undoHostPreparation, HostPreparationError, type HostPreparation,
} from '../../harness/targets/oci/crun-host-preparation.js';
import { projectRoot } from '../../harness/targets/oci/host-root-view.js';
import { NEWER_FIELDS, versionBefore } from '../../harness/targets/oci/runtime-spec-version.js';
import { DENIABLE_SYSCALLS } from '../../harness/generators/seccomp-policy.js';
import { wrapperRuntimePath } from '../../harness/targets/runtime-wrappers/wrapper-runtimes.js';
import { runCheck } from '../../harness/check.js';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { knownDefectsFor } from '../../harness/known-defects.js';

const THOROUGH = process.env.NSRIG_THOROUGH === '1';
/** The controllers crun's host preparation mounts here; none on a pure v1 or v2 host. */
const UNIFIED_CONTROLLERS = crunHostProblem() === undefined ? [] : readCgroupLayout().unifiedControllers;

// Every bundle and state root of this file lands here, so "nothing left" means "this is empty".
const privateTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-oci-runtimes-test-'));
// The containers' root users (host uid 100000 and up) must get through to the bundles, and read it:
// mnt.recursive-readonly-submounts binds the directory holding the fixture directory (this one, as
// TMPDIR), and crun opens that bind's target inside the container as a directory.
fs.chmodSync(privateTmp, 0o755);
process.env.TMPDIR = privateTmp;
test.after.always(() => fs.rmSync(privateTmp, { recursive: true, force: true }));

let preparation: HostPreparation | undefined;
let layoutBefore: CgroupLayout;
let crunPreflightBefore: string[];
let cgroupEntriesBefore: string[];
test.before(async () => {
  layoutBefore = readCgroupLayout();
  cgroupEntriesBefore = fs.readdirSync('/sys/fs/cgroup');
  crunPreflightBefore = await new OciTarget('crun').preflight();
  preparation = prepareHostForCrun();
});
test.after.always(() => {
  if (preparation !== undefined) undoHostPreparation(preparation);
});

const RUNTIMES = ['runc', 'crun'] as const;
const STRICT_EXAMPLE = path.join(projectRoot(), 'policy', 'examples', 'strict.yaml');

function profileOf(script: string, doc: object = {}): Profile {
  return parseProfile({ name: 'oci-test', hostname: 'oci-test', process: { args: ['/bin/sh', '-c', script] }, ...doc }, '<oci-runtimes-test>', { checkPaths: false });
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => (text += s));
    stream.on('end', () => resolve(text));
    stream.on('close', () => resolve(text));
  });
}

function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (s: string) => {
      text += s;
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
  });
}

interface Ran {
  status: ExitStatus;
  stdout: string;
  stderr: string;
  session: OciSession;
}

async function runToEnd(target: OciTarget, profile: Profile): Promise<Ran> {
  const session = await target.start({ profile, stdin: 'null' });
  const [stdout, stderr, status] = await Promise.all([collect(session.stdout), collect(session.stderr), session.wait()]);
  await session.destroy();
  return { status, stdout, stderr, session };
}

/**
 * Running, as opposed to gone or a zombie. A container whose runtime was killed is reparented to
 * the host's pid 1, which on some hosts (this VM's) never reaps it: its exit status is all that is left.
 */
function isRunning(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Host processes whose command line names this file's private temp directory (runtimes, wrappers). */
function processesUsingPrivateTmp(): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(privateTmp)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

function assertNothingLeft(t: ExecutionContext, session?: OciSession): void {
  t.deepEqual(fs.readdirSync(privateTmp), [], 'no bundle, state root or log left in the temp directory');
  t.deepEqual(processesUsingPrivateTmp(), [], 'no runtime process left');
  t.deepEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(privateTmp)), [], 'no mount left');
  if (session === undefined) return;
  if (session.hostPid !== undefined) t.false(isRunning(session.hostPid), `container pid ${session.hostPid} is gone`);
  t.deepEqual(cgroupsOfContainer(session.id), [], 'no cgroup left');
}

test.serial('crun on this host: refused before preparation exactly when cgroup2 holds controllers, with a hint that names them', (t) => {
  const problem = crunHostProblem(layoutBefore);
  if (problem === undefined) {
    t.deepEqual(crunPreflightBefore, []);
    return;
  }
  t.is(layoutBefore.mode, 'hybrid');
  t.is(crunPreflightBefore.length, 1);
  t.regex(crunPreflightBefore[0]!, /cgroups in hybrid mode not supported/, 'crun\'s own message');
  t.true(crunPreflightBefore[0]!.includes('--prepare-host'), 'what to do');
  for (const controller of layoutBefore.unifiedControllers) t.true(crunPreflightBefore[0]!.includes(controller), controller);
  t.is(crunHostProblem(), undefined, 'prepared now');
  t.deepEqual(readCgroupLayout().unifiedControllers, []);
});

for (const runtime of RUNTIMES) {
  const target = new OciTarget(runtime);

  test.serial(`${runtime}: preflight finds nothing missing; info names the runtime and its version`, async (t) => {
    t.deepEqual(await target.preflight(), []);
    const info = await target.info();
    t.is(info.kind, 'oci');
    t.is(info.name, runtime);
    t.regex(info.version, /^\d+\.\d+\.\d+/);
    const printed = spawnSync(info.path!, ['--version'], { encoding: 'utf8' }).stdout;
    t.true(printed.includes(info.version));
    assertNothingLeft(t);
  });

  // Checked with containers of their own (other values than the target's trials): a newer field
  // is a limit exactly when the runtime claims an older spec and really ignores it.
  test.serial(`${runtime}: a field newer than its claimed runtime-spec is a limit exactly when a container shows it ignored`, async (t) => {
    const claim = (await target.specVersionClaim())!;
    t.regex(claim.version, /^1\.\d+\.\d+/);
    const printed = spawnSync(runtime, claim.source.includes('features') ? ['features'] : ['--version'], { encoding: 'utf8' }).stdout;
    t.true(printed.includes(claim.version), `${claim.source} says ${claim.version}`);
    const { excludeNamespaces, excludeFields = [] } = await target.constraints();
    const applied = {
      domainname: async () => (await runToEnd(target, profileOf('cat /proc/sys/kernel/domainname', {
        namespaces: ['user', 'pid', 'mnt', 'uts'], domainname: 'independent.check',
      }))).stdout.trim() === 'independent.check',
      timeOffsets: async () => (await runToEnd(target, profileOf('cat /proc/self/timens_offsets', {
        namespaces: ['user', 'pid', 'mnt', 'uts', 'time'], timeOffsets: { monotonic: 777, boottime: 0 },
      }))).stdout.split('\n')[0]!.split(/\s+/)[1] === '777',
    };
    for (const field of NEWER_FIELDS) {
      const reason = excludeFields.find((e) => e.field === field.field)?.reason;
      if (field.field === 'timeOffsets' && excludeNamespaces.some((e) => e.namespace === 'time')) {
        t.is(reason, undefined, 'a refused time namespace already keeps offsets out');
        continue;
      }
      const ignored = versionBefore(claim.version, field.since) && !(await applied[field.field]());
      t.is(reason !== undefined, ignored, `${runtime} ${field.field}: ${reason ?? 'held to it'}`);
      if (reason) t.true(reason.includes(claim.version) && reason.includes(field.since), reason);
    }
    assertNothingLeft(t);
  });

  test.serial(`${runtime}: a call is undeniable exactly when a container whose policy denies it, without noNewPrivileges, does not start`, async (t) => {
    const { undeniableSyscalls = [] } = await target.constraints();
    const refused: string[] = [];
    for (const name of DENIABLE_SYSCALLS) {
      const profile = profileOf('exit 0', {
        seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [name], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }] },
      });
      profile.process.noNewPrivileges = false;
      try {
        t.is((await runToEnd(target, profile)).status.code, 0, `${name} denied`);
      } catch (error) {
        if (!(error instanceof TargetError)) throw error;
        refused.push(name);
      }
    }
    t.deepEqual(undeniableSyscalls.map((u) => u.name), refused);
    for (const u of undeniableSyscalls) t.true(u.reason.startsWith(`${runtime} `) && u.reason.includes(u.name), u.reason);
    assertNothingLeft(t);
  });

  test.serial(`${runtime}: runs a program, relays its output and exit code, and leaves nothing behind`, async (t) => {
    const ran = await runToEnd(target, profileOf('echo hi; hostname'));
    t.deepEqual(ran.status, { code: 0, signal: null, timedOut: false });
    t.is(ran.stdout, 'hi\noci-test\n');
    t.is(ran.stderr, '');
    t.true(Number.isInteger(ran.session.hostPid) && ran.session.hostPid! > 1);
    assertNothingLeft(t, ran.session);
  });

  test.serial(`${runtime}: a non-zero exit code comes back as it is`, async (t) => {
    const ran = await runToEnd(target, profileOf('echo oops >&2; exit 3'));
    t.deepEqual(ran.status, { code: 3, signal: null, timedOut: false });
    t.is(ran.stderr, 'oops\n');
    assertNothingLeft(t, ran.session);
  });

  test.serial(`${runtime}: a container killed from the host reports SIGKILL`, async (t) => {
    const session = await target.start({ profile: profileOf('echo ready; exec sleep 1000'), stdin: 'null' });
    t.is(await firstLine(session.stdout), 'ready');
    await session.kill('SIGKILL');
    t.deepEqual(await session.wait(), { code: null, signal: 'SIGKILL', timedOut: false });
    await session.destroy();
    assertNothingLeft(t, session);
  });

  test.serial(`${runtime}: a program that kills itself with SIGKILL reports SIGKILL`, async (t) => {
    // As pid 1 of a pid namespace the shell could not be killed by its own SIGKILL, so no pid
    // namespace; and no user namespace, which could not mount the /proc runc insists on without one.
    const profile = profileOf('kill -KILL $$', {
      namespaces: ['mnt', 'uts', 'ipc', 'net'],
      mounts: [{ type: 'proc' }, { type: 'dev' }, { type: 'tmpfs', destination: '/tmp' }],
    });
    const ran = await runToEnd(target, profile);
    t.deepEqual(ran.status, { code: null, signal: 'SIGKILL', timedOut: false });
    assertNothingLeft(t, ran.session);
  });

  test.serial(`${runtime}: outliving the profile's timeout kills the container and says so`, async (t) => {
    const profile = profileOf('echo ready; exec sleep 1000', { process: { args: ['/bin/sh', '-c', 'echo ready; exec sleep 1000'], timeout: 1 } });
    const session = await target.start({ profile, stdin: 'null' });
    t.is(await firstLine(session.stdout), 'ready');
    t.deepEqual(await session.wait(), { code: null, signal: 'SIGKILL', timedOut: true });
    await session.destroy();
    assertNothingLeft(t, session);
  });

  test.serial(`${runtime}: stdin reaches the program`, async (t) => {
    const session = await target.start({ profile: profileOf('cat; echo done'), stdin: 'pipe' });
    const stdout = collect(session.stdout);
    session.stdin!.end('ping\n');
    t.deepEqual(await session.wait(), { code: 0, signal: null, timedOut: false });
    t.is(await stdout, 'ping\ndone\n');
    await session.destroy();
    assertNothingLeft(t, session);
  });

  test.serial(`${runtime}: two containers run at the same time, each with its own state and namespaces`, async (t) => {
    const start = (name: string) => target.start({ profile: profileOf('hostname; readlink /proc/self/ns/uts; cat', { hostname: name }), stdin: 'pipe' });
    const [a, b] = await Promise.all([start('first'), start('second')]);
    const [outA, outB] = [collect(a.stdout), collect(b.stdout)];
    // Both are alive now: each holds on until its stdin closes.
    t.true(isRunning(a.hostPid!) && isRunning(b.hostPid!));
    t.not(a.id, b.id);
    a.stdin!.end();
    b.stdin!.end();
    t.deepEqual(await Promise.all([a.wait(), b.wait()]), [{ code: 0, signal: null, timedOut: false }, { code: 0, signal: null, timedOut: false }]);
    const [linesA, linesB] = [(await outA).split('\n'), (await outB).split('\n')];
    t.deepEqual([linesA[0], linesB[0]], ['first', 'second']);
    t.not(linesA[1], linesB[1], 'separate uts namespaces');
    await Promise.all([a.destroy(), b.destroy()]);
    assertNothingLeft(t, a);
    assertNothingLeft(t, b);
  });

  test.serial(`${runtime}: a config the runtime refuses is a TargetError carrying the runtime's own message`, async (t) => {
    const missing = '/nsrig-oci-test-no-such-source';
    const profile = profileOf('echo never', { mounts: [{ type: 'bind', source: missing, destination: '/srv' }] });
    const error = await t.throwsAsync(target.start({ profile, stdin: 'null' }), { instanceOf: TargetError });
    t.is(error!.target, runtime);
    t.true(error!.message.includes(missing), error!.message);
    // The message is the runtime's own, from its log, which the detail shows in full.
    const logged = error!.detail!.split('\n').filter((l) => /^(error|fatal): /.test(l)).map((l) => l.replace(/^\w+: /, ''));
    t.true(logged.length > 0);
    t.true(logged.some((l) => error!.message.includes(l)), `${error!.message} quotes the log`);
    assertNothingLeft(t);
  });

  test.serial(`${runtime}: when the runtime process dies, destroy still kills and deletes the container`, async (t) => {
    const session = await target.start({ profile: profileOf('echo ready; exec sleep 1000'), stdin: 'null' });
    t.is(await firstLine(session.stdout), 'ready');
    const [runtimePid] = processesUsingPrivateTmp().map((l) => Number(l.split(':')[0]));
    process.kill(runtimePid!, 'SIGKILL');
    t.deepEqual(await session.wait(), { code: null, signal: 'SIGKILL', timedOut: false });
    const stateRoot = path.join(session.bundle.dir, 'runtime', 'state');
    const listed = spawnSync(runtime, ['--root', stateRoot, 'list', '-q'], { encoding: 'utf8' }).stdout.trim();
    t.is(listed, session.id, 'the orphaned container is still there before destroy');
    t.true(isRunning(session.hostPid!));
    await session.destroy();
    assertNothingLeft(t, session);
  });
}

/** strict.yaml runs `id; cat /proc/self/status`: uid 1000, no capabilities, no_new_privs, a seccomp filter. */
function assertRanStrict(t: ExecutionContext, ran: Ran): void {
  t.is(ran.status.code, 0, ran.stderr);
  t.regex(ran.stdout, /^uid=1000\b/);
  t.regex(ran.stdout, /^NoNewPrivs:\t1$/m);
  t.regex(ran.stdout, /^Seccomp:\t2$/m);
  t.regex(ran.stdout, /^CapBnd:\t0+$/m);
  assertNothingLeft(t, ran.session);
}

test.serial('runc: the strict example profile is refused for its time namespace (runc 1.1 has none); without it, it runs', async (t) => {
  const target = new OciTarget('runc');
  const strict = loadProfileFile(STRICT_EXAMPLE);
  const error = await t.throwsAsync(target.start({ profile: strict, stdin: 'null' }), { instanceOf: TargetError });
  t.regex(error!.message, /time/);
  const withoutTime: Profile = { ...strict, namespaces: strict.namespaces.filter((ns) => ns !== 'time') };
  delete withoutTime.timeOffsets;
  const ran = await runToEnd(target, withoutTime);
  assertRanStrict(t, ran);
});

test.serial('crun: the strict example profile runs as asked, time namespace included', async (t) => {
  const ran = await runToEnd(new OciTarget('crun'), loadProfileFile(STRICT_EXAMPLE));
  assertRanStrict(t, ran);
});

test.serial('a process that dies with a live session (a failing test) still tears it down on exit', (t) => {
  const module = (file: string): string => JSON.stringify(new URL(file, import.meta.url).href);
  const script = [
    `import { OciTarget } from ${module('../../harness/targets/oci/oci-target.js')};`,
    `import { parseProfile } from ${module('../../policy/profile/load.js')};`,
    `const profile = parseProfile({ process: { args: ['/bin/sh', '-c', 'exec sleep 1000'] } }, '<exit-test>', { checkPaths: false });`,
    `const session = await new OciTarget('runc').start({ profile, stdin: 'null' });`,
    `console.log(JSON.stringify({ pid: session.hostPid, dir: session.bundle.dir }));`,
    `throw new Error('a test failing with its container still running');`,
  ].join('\n');
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env }, timeout: 60_000 });
  t.not(child.status, 0);
  t.regex(child.stderr, /a test failing with its container still running/);
  const { pid, dir } = JSON.parse(child.stdout) as { pid: number; dir: string };
  t.true(dir.startsWith(privateTmp));
  t.false(isRunning(pid));
  assertNothingLeft(t);
});

test.serial('a runtime that hangs is killed after the start timeout and reported as a TargetError', async (t) => {
  const target = new OciTarget(wrapperRuntimePath('runc-hangs'), { startTimeoutMs: 500 });
  const error = await t.throwsAsync(target.start({ profile: profileOf('echo never'), stdin: 'null' }), { instanceOf: TargetError });
  t.regex(error!.message, /^runc-hangs: did not start the container within 500 ms/);
  assertNothingLeft(t);
});

test.serial('a runtime that does not exist fails preflight and start with what to do', async (t) => {
  const target = new OciTarget('nsrig-no-such-runtime');
  const missing = await target.preflight();
  t.is(missing.length, 1);
  t.regex(missing[0]!, /"nsrig-no-such-runtime" not found on PATH/);
  await t.throwsAsync(target.start({ profile: profileOf('true'), stdin: 'null' }), { instanceOf: TargetError, message: /not found on PATH/ });
  t.is((await target.info()).version, 'unknown');
});

// The whole catalogue on each real runtime: nothing fails or errs that the runtime does not really
// get wrong, and every skip says why. What a runtime version really gets wrong is listed in
// harness/known-defects.json (runc before 1.1.8: opencontainers/runc#3911).
for (const runtime of RUNTIMES) {
  (THOROUGH ? test.serial : test.skip)(`${runtime}: the whole catalogue holds but for the runtime's own known defects, and each skip gives its reason (NSRIG_THOROUGH=1)`, async (t) => {
    const target = new OciTarget(runtime);
    const version = (await target.info()).version;
    const results = await runCheck({ target, targetFlag: `--runtime ${runtime}`, invariants: [...INVARIANTS], runs: 3, seed: 1, jobs: 2 });
    const defects = knownDefectsFor(runtime, version);
    // A race recorded as occurring sometimes may fail this run or not; every other record must fail.
    const failedRaces = new Set(results.invariants.filter((r) => r.status === 'fail').map((r) => r.id));
    const expected = defects.filter((d) => d.occurs !== 'sometimes' || failedRaces.has(d.invariant));
    const expectedFailures = expected.map((d) => `${d.invariant} fail`).sort();
    t.deepEqual(results.invariants.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.id} ${r.status}`).sort(), expectedFailures,
      results.invariants.filter((r) => r.status === 'fail' || r.status === 'error').map((r) => `${r.id}: ${r.counterexample?.observed ?? r.reason}`).join('; '));
    // Each failure a recorded defect explains says so, with the upstream issue and the fixing release.
    for (const d of expected) {
      t.like(results.invariants.find((r) => r.id === d.invariant)?.knownDefect, { reference: d.reference, url: d.url, ...(d.fixedIn === undefined ? {} : { fixedIn: d.fixedIn }) });
    }
    for (const r of results.invariants.filter((i) => i.status === 'skip')) t.true((r.reason ?? '').length > 20, `${r.id}: ${r.reason}`);
    // Beyond the recorded defects, at most four invariants may skip (each with its reason, above).
    const passed = results.invariants.filter((r) => r.status === 'pass').length;
    t.true(passed >= INVARIANTS.length - expectedFailures.length - 4, `${passed} of ${INVARIANTS.length} passed, ${expectedFailures.length} recorded defects`);
    t.regex(results.target.version, /^\d+\.\d+/);
  });
}

test.serial('undoing the crun preparation gives the host its cgroup layout back', (t) => {
  const undone = undoHostPreparation(preparation!);
  preparation = undefined;
  const after = readCgroupLayout();
  t.deepEqual(after.unifiedControllers, layoutBefore.unifiedControllers);
  t.deepEqual([...after.v1Mounts], [...layoutBefore.v1Mounts]);
  if (crunHostProblem(layoutBefore) !== undefined) t.true(undone.length > 0, 'this file was the only holder, so it unmounted');
  // Nor is any directory left on /sys/fs/cgroup that was not there (an emptied, unmounted hugetlb/ was).
  t.deepEqual(fs.readdirSync('/sys/fs/cgroup').filter((e) => !cgroupEntriesBefore.includes(e)), []);
  t.false(fs.existsSync('/run/nsrig-crun-host-preparation'));
});

// crun 1.8 looks for a v1 controller at /sys/fs/cgroup/NAME only; with the hierarchy mounted
// elsewhere it wrote plain directories there (each with a plain cgroup.procs) that nothing removed.
const STRAYS = 'crun preparation: a plain /sys/fs/cgroup/NAME holding what crun wrote there is emptied and mounted on; anything else stops it';
(UNIFIED_CONTROLLERS.length > 0 ? test.serial : test.skip)(
  UNIFIED_CONTROLLERS.length > 0 ? STRAYS : `${STRAYS} (skipped: cgroup2 holds no controller to prepare, or another process holds the preparation)`, (t) => {
    const controller = UNIFIED_CONTROLLERS[0]!;
    const dir = path.join('/sys/fs/cgroup', controller);
    const stray = path.join(dir, `nsrig-oci-${process.pid}-stray`);
    fs.mkdirSync(stray, { recursive: true });
    fs.writeFileSync(path.join(stray, 'cgroup.procs'), `${process.pid}\n`);
    const prep = prepareHostForCrun();
    try {
      t.deepEqual(readCgroupLayout().v1Mounts.get(controller), [dir], 'mounted where crun looks');
    } finally {
      undoHostPreparation(prep);
    }
    t.false(fs.existsSync(stray), 'the stray directory went before the mount');
    // The emptied mount point was adopted: the host is left without a /sys/fs/cgroup/NAME it never had.
    t.false(fs.existsSync(dir), `${dir} went with the unmount`);
    fs.mkdirSync(dir);
    const foreign = path.join(dir, 'not-made-by-nsrig');
    fs.writeFileSync(foreign, '');
    try {
      t.throws(() => prepareHostForCrun(), { instanceOf: HostPreparationError, message: /not-made-by-nsrig/ });
      t.true(fs.existsSync(foreign), 'what nsrig did not make stays');
    } finally {
      fs.rmSync(foreign);
      fs.rmdirSync(dir);
    }
    t.deepEqual(readCgroupLayout().unifiedControllers, UNIFIED_CONTROLLERS, 'the host is as it was');
  });
