// The engine on a pure cgroup v2 host, on any host: nsrig runs in a private mount namespace whose
// /sys/fs/cgroup is only a fresh cgroup2 mount (the kernel's one unified hierarchy, as a v2-only
// host mounts it), so every v1 code path is out of reach. There it must find the layout v2,
// place the container in its v2 cgroup, apply what the unified hierarchy offers (a controller the
// host binds to a v1 hierarchy is not offered there: refused by name, and skipped with the reason
// by check), enforce the device allow-list with its BPF program, and leave nothing behind.
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readCgroupLayout } from '../../core/cgroup-layout.js';
import { readMountinfo } from '../../core/mountinfo.js';
import { nsrigOnPureV2, printed, type CliRun } from './nsrig-cli.js';

const layout = readCgroupLayout();
/** What the unified hierarchy offers: the same in the pure-v2 view, whose cgroup2 mount is that hierarchy. */
const OFFERED = layout.unifiedControllers;
const noCgroup2 = layout.unifiedMount === undefined ? 'this host mounts no cgroup2 hierarchy' : undefined;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-pure-v2-test-'));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The engine's containers of nsrig processes that are gone, and the cgroup2 root's delegation: what a run must not change. */
function hostCgroupState(): { stale: string[]; subtreeControl: string; cgroupMounts: string[] } {
  const parent = path.join(layout.unifiedMount!, 'nsrig');
  const stale = fs.existsSync(parent)
    ? fs.readdirSync(parent).filter((n) => /^nsrig-\d+-/.test(n) && !fs.existsSync(`/proc/${n.split('-')[1]}`)) : [];
  return {
    stale,
    subtreeControl: fs.readFileSync(path.join(layout.unifiedMount!, 'cgroup.subtree_control'), 'utf8'),
    // The view's own cgroup2 mount must not reach the host (a crun preparation beside this file may mount a v1 hierarchy below).
    cgroupMounts: readMountinfo().filter((m) => m.mountPoint === '/sys/fs/cgroup').map((m) => `${m.mountPoint} ${m.fsType}`),
  };
}

/**
 * The run left none of its cgroups (named after its pid: the view's sh and unshare exec it) and
 * changed neither the delegation nor the mounts. Other dead owners' cgroups may come and go
 * meanwhile: a test file beside this one kills nsrig runs on purpose, and this run's sweep removes them.
 */
function assertHostAsBefore(t: ExecutionContext, before: ReturnType<typeof hostCgroupState>, run: CliRun): void {
  const after = hostCgroupState();
  t.truthy(run.pid);
  t.deepEqual(after.stale.filter((n) => n.startsWith(`nsrig-${run.pid}-`)), [], `the run (pid ${run.pid}) left its cgroup`);
  t.deepEqual({ ...after, stale: [] }, { ...before, stale: [] });
}

function profile(name: string, body: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `name: ${name}\nnamespaces: [pid, mnt, uts, ipc, cgroup]\nrootfs: { path: /, readonly: true }\n${body}`);
  return file;
}

const DEVICES = `mounts:
  - { type: proc, destination: /proc }
  - { type: dev, destination: /dev, devices: ["null"] }
  - { type: cgroup, destination: /sys/fs/cgroup, options: [ro] }
resources:
  devices:
    - { allow: false, access: rwm }
    - { allow: true, type: c, major: 1, minor: 3, access: rw }
`;
// Inside: where the container is (its cgroup namespace makes that "/"), what its cgroup mount is,
// and the device program's verdict on an allowed node (/dev/null) and on 240:0, a char major for
// local use with no driver: ENXIO where the cgroup lets the open through, EPERM where it refuses.
const SCRIPT = 'grep "^0::" /proc/self/cgroup; stat -f -c %T /sys/fs/cgroup; : < /dev/null && echo "null open"; ' +
  'mknod /dev/deny c 240 0 && cat /dev/deny 2>&1 | sed "s/^.*: //"';

(noCgroup2 ? test.skip : test.serial)(`nsrig run in a pure-v2 view: placed in its v2 cgroup, the device program enforced, nothing left${noCgroup2 ? ` (skipped: ${noCgroup2})` : ''}`, async (t) => {
  const before = hostCgroupState();
  const file = profile('pure-v2-devices', `${DEVICES}process:\n  args: [/bin/sh, -c, '${SCRIPT}']\n  env: { PATH: /usr/bin:/bin }\n  capabilities: [CAP_MKNOD, CAP_DAC_OVERRIDE]\n`);
  const run = await nsrigOnPureV2(['run', file]);
  t.is(run.code, 0, printed(run));
  t.deepEqual(run.stdout.trim().split('\n'), ['0::/', 'cgroup2fs', 'null open', 'Operation not permitted'], printed(run));
  assertHostAsBefore(t, before, run);
});

for (const [controller, body, inside] of [
  ['pids', 'resources: { pids: { limit: 40 } }', ['40']],
  ['memory', 'resources: { memory: { limit: 67108864 } }', ['67108864']],
] as const) {
  const read = controller === 'pids' ? 'pids.max' : 'memory.max';
  const offered = OFFERED.includes(controller);
  const why = noCgroup2 ?? (offered ? undefined : `${controller} is bound to a v1 hierarchy on this host, so its unified hierarchy does not offer it`);
  (why === undefined ? test.serial : test.skip)(`a ${controller} limit in a pure-v2 view is written to ${read} and read back inside${why === undefined ? '' : ` (skipped: ${why})`}`, async (t) => {
    const before = hostCgroupState();
    const file = profile(`pure-v2-${controller}`, `mounts:\n  - { type: proc, destination: /proc }\n  - { type: cgroup, destination: /sys/fs/cgroup, options: [ro] }\n${body}\n` +
      `process:\n  args: [/bin/cat, /sys/fs/cgroup/${read}]\n  env: { PATH: /usr/bin:/bin }\n`);
    const run = await nsrigOnPureV2(['run', file]);
    t.is(run.code, 0, printed(run));
    t.deepEqual(run.stdout.trim().split('\n'), [...inside], printed(run));
    assertHostAsBefore(t, before, run);
  });
  if (noCgroup2 === undefined && !offered) {
    test.serial(`a ${controller} limit the pure-v2 view cannot apply is refused naming the field and the controller, and nothing is left`, async (t) => {
      const before = hostCgroupState();
      const file = profile(`pure-v2-${controller}-refused`, `${body}\nprocess:\n  args: [/bin/true]\n`);
      const run = await nsrigOnPureV2(['run', file]);
      t.is(run.code, 125, printed(run));
      t.regex(run.stderr, new RegExp(`resources: this host has no ${controller} controller mounted \\(neither a v1 hierarchy nor in /sys/fs/cgroup\\)`), printed(run));
      assertHostAsBefore(t, before, run);
    });
  }
}

(noCgroup2 ? test.skip : test.serial)(`nsrig check --only resources,cgroup in a pure-v2 view: every invariant holds or says why it cannot be tried here${noCgroup2 ? ` (skipped: ${noCgroup2})` : ''}`, async (t) => {
  const before = hostCgroupState();
  const json = path.join(dir, 'results.json');
  const run = await nsrigOnPureV2(['check', '--target', 'builtin', '--only', 'resources,cgroup', '--runs', '2', '--seed', '5', '--json', json]);
  t.is(run.code, 0, printed(run));
  const results = JSON.parse(fs.readFileSync(json, 'utf8')) as { invariants: { id: string; status: string; reason?: string }[] };
  t.true(results.invariants.length > 0);
  for (const r of results.invariants) {
    t.true(r.status === 'pass' || r.status === 'skip', `${r.id}: ${r.status} ${r.reason ?? ''}`);
    if (r.status === 'skip') t.regex(r.reason ?? '', /controller/, `${r.id} skips with the controller it lacks`);
  }
  // The cgroup invariants need no controller: they run in this view on every host.
  t.true(results.invariants.filter((r) => r.id.startsWith('cgroup.')).every((r) => r.status === 'pass'));
  const skipped = results.invariants.filter((r) => r.status === 'skip').map((r) => `${r.id}: ${r.reason}`);
  if (skipped.length > 0) t.log(`not testable in this host's pure-v2 view:\n${skipped.join('\n')}`);
  assertHostAsBefore(t, before, run);
});
