// nsrig check --config: the configs runc spec and Podman wrote (host paths adapted as the
// differential test adapts them), checked as declared on the built-in engine, runc and crun,
// through the real command line. The reports name the file and its sha256; what the config does not
// declare skips with the reason; a config that breaks isolation fails with one replay command each.
import test from 'ava';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nsrig, printed, type CliRun } from './nsrig-cli.js';
import { checkableBundle, type CheckableBundle } from '../fixtures/oci-configs/checkable-bundle.js';
import { tinyRootfsProblem } from '../fixtures/oci-configs/tiny-rootfs.js';
import { describeHost } from '../../harness/host-facts.js';
import { crunHostProblem } from '../../harness/targets/oci/crun-host-preparation.js';
import type { Results } from '../../harness/results.js';

const top = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-check-config-'));
fs.chmodSync(top, 0o711);
const cgroupPrefix = `/nsrig-check-config-${process.pid}`;
test.after.always(() => {
  fs.rmSync(top, { recursive: true, force: true });
  removeCgroupPrefix();
});

/** The parents of the per-container cgroups below the adapted cgroupsPath (the engine and runtimes remove their own leaves). */
function removeCgroupPrefix(): void {
  const roots = ['/sys/fs/cgroup', ...fs.readdirSync('/sys/fs/cgroup').map((d) => path.join('/sys/fs/cgroup', d))];
  const removeTree = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeTree(path.join(dir, e.name));
    fs.rmdirSync(dir);
  };
  for (const root of roots) {
    try {
      removeTree(path.join(root, cgroupPrefix));
    } catch {
      // absent in this hierarchy
    }
  }
}

const missing = ['runc', 'crun', 'ldd'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const problem = missing.length > 0 ? `not installed: ${missing.join(', ')}` : tinyRootfsProblem();
const maybe = problem === undefined ? test.serial : test.skip;
if (problem !== undefined) test('check --config on real configs', (t) => t.pass(`skipped: ${problem}`));

/** On a host with cgroup v1 hierarchies, runc 1.1.5 and crun 1.8.1 mount a declared ro cgroup filesystem over a writable tmpfs. */
const V1_CGROUP_TMPFS = describeHost().cgroupMode !== 'v2';

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function bundle(name: 'runc spec' | 'podman', dir: string, change?: (c: Record<string, any>) => void): CheckableBundle {
  fs.mkdirSync(path.join(top, dir), { recursive: true });
  return checkableBundle(name, path.join(top, dir), cgroupPrefix, change);
}

function results(file: string): Results[] {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Results | Results[];
  return Array.isArray(parsed) ? parsed : [parsed];
}

const failing = (r: Results) => r.invariants.filter((i) => i.status === 'fail').map((i) => i.id).sort();
/** Failures not explained by a recorded upstream defect of the runtime's version (harness/known-defects.json). */
const unexplained = (r: Results) => r.invariants.filter((i) => i.status === 'fail' && i.knownDefect === undefined).map((i) => i.id).sort();

/** What every run of an unbroken real config shows: named by file and hash, user.* skipped for want of a user namespace, no errors. */
function assertNamedAndSkipped(t: import('ava').ExecutionContext, run: CliRun, b: CheckableBundle, all: Results[]): void {
  const hash = sha256(b.configPath);
  for (const r of all) {
    t.deepEqual(r.config, { file: b.configPath, sha256: hash });
    t.deepEqual(r.invariants.filter((i) => i.status === 'error').map((i) => `${i.id}: ${i.reason}`), [], printed(run));
    for (const id of ['user.maps-equal-profile', 'user.setgroups-as-declared', 'user.unmapped-shows-overflow']) {
      t.is(r.invariants.find((i) => i.id === id)?.reason, 'not applicable to this config: it declares no user namespace', `${r.target.name} ${id}`);
    }
    t.true(r.summary.passed >= 25, `${r.target.name}: only ${r.summary.passed} passed\n${printed(run)}`);
  }
  t.regex(run.stdout, new RegExp(`config ${b.configPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(sha256 ${hash}\\)`));
  t.deepEqual(fs.readdirSync(path.join(b.rootfs, 'run')).filter((n) => n.startsWith('nsrig-')), [], 'the rig mount points are removed from the rootfs again');
}

/** runc spec's config keeps its terminal: the probe reports through a pty on every target. */
function assertTerminal(t: import('ava').ExecutionContext, b: CheckableBundle): void {
  t.is((JSON.parse(fs.readFileSync(b.configPath, 'utf8')) as { process: { terminal?: boolean } }).process.terminal, true, 'runc spec declares process.terminal: true');
}

maybe("runc spec's config as declared (terminal true) holds every applicable invariant on the built-in engine; the reports name it and its sha256", async (t) => {
  const b = bundle('runc spec', 'runc-spec');
  assertTerminal(t, b);
  for (const line of b.adapted) t.log(`adapted: ${line}`);
  const out = path.join(top, 'runc-spec-builtin');
  const run = await nsrig(['check', '--config', b.configPath, '--target', 'builtin', '--runs', '1',
    '--json', `${out}.json`, '--junit', `${out}.xml`, '--html', `${out}.html`], { timeoutMs: 170_000 });
  t.is(run.code, 0, printed(run));
  const [r] = results(`${out}.json`);
  assertNamedAndSkipped(t, run, b, [r!]);
  t.is(r!.summary.failed, 0);
  const hash = sha256(b.configPath);
  t.true(fs.readFileSync(`${out}.xml`, 'utf8').includes(`<property name="config.sha256" value="${hash}"/>`));
  const html = fs.readFileSync(`${out}.html`, 'utf8');
  t.true(html.includes(hash) && html.includes(b.configPath), 'the HTML report names the config and its hash');
});

for (const runtime of ['runc', 'crun'] as const) {
  maybe(`runc spec's (terminal true, through a console socket) and Podman's configs as declared on ${runtime}: every applicable invariant holds but for the cgroup tmpfs left writable on a v1 host and recorded upstream defects`, async (t) => {
    for (const name of ['runc spec', 'podman'] as const) {
      const b = bundle(name, `${name.replace(/ /g, '-')}-${runtime}`);
      if (name === 'runc spec') assertTerminal(t, b);
      const out = path.join(top, `${name.replace(/ /g, '-')}-${runtime}.json`);
      const run = await nsrig(['check', '--config', b.configPath, '--runtime', runtime, '--runs', '1', '--json', out,
        ...(runtime === 'crun' && crunHostProblem() !== undefined ? ['--prepare-host'] : [])], { timeoutMs: 170_000 });
      const [r] = results(out);
      assertNamedAndSkipped(t, run, b, [r!]);
      // Both configs declare /sys/fs/cgroup read-only; on v1 hierarchies both runtimes mount it as a
      // writable tmpfs holding the read-only hierarchies (see the differential test's NOT_YET).
      if (V1_CGROUP_TMPFS) {
        t.deepEqual(unexplained(r!), ['mnt.no-writable-host-fs'], printed(run));
        t.regex(run.stderr, /observed: \/sys\/fs\/cgroup \(tmpfs [a-z]+\) is writable/);
        t.is(run.code, 1);
      } else {
        t.deepEqual(unexplained(r!), [], printed(run));
      }
      for (const id of failing(r!).filter((f) => !unexplained(r!).includes(f))) t.log(`${runtime} ${name}: ${id} fails with a recorded upstream defect`);
    }
  });
}

maybe("Podman's config as declared holds every applicable invariant on the built-in engine", async (t) => {
  const b = bundle('podman', 'podman-builtin');
  const out = path.join(top, 'podman-builtin.json');
  const run = await nsrig(['check', '--config', b.configPath, '--runs', '1', '--json', out], { timeoutMs: 170_000 });
  t.is(run.code, 0, printed(run));
  assertNamedAndSkipped(t, run, b, results(out));
  t.is(results(out)[0]!.invariants.find((i) => i.id === 'seccomp.mode-filter-when-declared')?.status, 'pass');
});

maybe("runc spec's config joining the host's network namespace fails on the engine and runc, each failure with one replay command that fails again", async (t) => {
  // The namespace of this test's own process: the host's, as far as the check can tell.
  const b = bundle('runc spec', 'host-net', (c) => {
    for (const ns of c.linux.namespaces) if (ns.type === 'network') ns.path = `/proc/${process.pid}/ns/net`;
  });
  const out = path.join(top, 'host-net.json');
  const run = await nsrig(['check', '--config', b.configPath, '--target', 'builtin', '--runtime', 'runc', '--only', 'net,ns,pid', '--runs', '2', '--json', out], { timeoutMs: 170_000 });
  t.is(run.code, 1, printed(run));
  for (const r of results(out)) {
    t.deepEqual(failing(r).filter((id) => ['net.host-listener-unreachable', 'ns.unshared-types-differ'].includes(id)),
      ['net.host-listener-unreachable', 'ns.unshared-types-differ'], `${r.target.name}\n${printed(run)}`);
    t.false(failing(r).some((id) => id.startsWith('pid.')), 'the pid namespace is still the container\'s own');
  }
  const failures = (run.stderr.match(/^\[\d+\/\d+\] FAIL /gm) ?? []).length;
  const replays = run.stderr.match(/^ {4}replay: .*$/gm) ?? [];
  t.is(replays.length, failures, 'one replay command per failure');
  t.true(replays.every((l) => l.includes(`--config ${b.configPath}`)));
  const replay = replays.find((l) => l.includes('--only ns.unshared-types-differ') && l.includes('--target builtin'))!;
  const args = replay.replace(/^ {4}replay: nsrig /, '').split(' ').map((a) => a.replace(/^'(.*)'$/, '$1'));
  const again = await nsrig(args, { timeoutMs: 170_000 });
  t.is(again.code, 1, printed(again));
  t.regex(again.stderr, /FAIL ns\.unshared-types-differ/);
});

maybe('a rootfs without node is refused before anything runs, naming the config and what the rootfs lacks', async (t) => {
  const dir = path.join(top, 'no-node');
  fs.mkdirSync(path.join(dir, 'rootfs/bin'), { recursive: true });
  fs.chmodSync(dir, 0o755);
  const config = JSON.parse(fs.readFileSync(bundle('runc spec', 'for-no-node').configPath, 'utf8')) as Record<string, any>;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const run = await nsrig(['check', '--config', path.join(dir, 'config.json'), '--runs', '1']);
  t.is(run.code, 2, printed(run));
  t.true(run.stderr.includes(`${path.join(dir, 'config.json')}: the probe cannot run in rootfs ${path.join(dir, 'rootfs')}: it has no ${process.execPath}`), run.stderr);
  t.deepEqual(fs.readdirSync(path.join(dir, 'rootfs')), ['bin'], 'nothing was made in the rootfs');
});

maybe('--config takes what nsrig run takes: a YAML profile on the host root is checked as declared', async (t) => {
  const file = path.join(top, 'profile with space.yaml');
  fs.writeFileSync(file, [
    'name: checked', 'namespaces: [mnt, pid, uts]', 'hostname: checked-box',
    'rootfs: { path: /, readonly: true }', 'mounts: [{ type: proc, destination: /proc }, { type: dev, destination: /dev }]',
    'process: { args: [/bin/true], user: { uid: 0, gid: 0 } }', '',
  ].join('\n'));
  const run = await nsrig(['check', '--config', file, '--only', 'pid,uts,user', '--runs', '1']);
  t.is(run.code, 0, printed(run));
  t.regex(run.stdout, new RegExp(`config ${file} \\(sha256 ${sha256(file)}\\)`));
});
