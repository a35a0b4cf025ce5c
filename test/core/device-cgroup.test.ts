// The cgroup v2 device filter on a real cgroup: a shell moves itself into a fresh cgroup with the
// filter attached and tries device nodes; each outcome is what deviceAllowed (the rules' meaning,
// last match wins) predicts, and a refused open or mknod fails with EPERM.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { attachDeviceFilter } from '../../core/device-cgroup.js';
import { readCgroupLayout } from '../../core/cgroup-layout.js';
import { deviceAllowed, deviceProgram, DeviceRuleError, type DeviceRequest, type DeviceRule } from '../../policy/ebpf/device-cgroup.js';
import { disassemble } from '../../policy/ebpf/disassemble.js';

const V2 = readCgroupLayout().unifiedMount;
const runs = V2 === undefined ? test.serial.skip : test.serial;
if (V2 === undefined) console.log('skipped: no cgroup v2 mount on this host');

interface Probe {
  name: string;
  request: DeviceRequest;
  /** Shell that succeeds when the access is let through. */
  shell: string;
}

const PROBES: Probe[] = [
  { name: 'read /dev/null', request: { type: 'c', major: 1, minor: 3, access: 'r' }, shell: 'cat /dev/null' },
  { name: 'write /dev/null', request: { type: 'c', major: 1, minor: 3, access: 'w' }, shell: 'echo x > /dev/null' },
  { name: 'read /dev/zero', request: { type: 'c', major: 1, minor: 5, access: 'r' }, shell: 'head -c1 /dev/zero >&2' },
  { name: 'mknod c 1:3', request: { type: 'c', major: 1, minor: 3, access: 'm' }, shell: 'mknod "$TMPD/node" c 1 3 && rm "$TMPD/node"' },
];

/** Runs every probe in a new cgroup carrying `rules`; returns name → the error text, or 'ok'. */
function probeIn(rules: DeviceRule[]): Map<string, string> {
  const dir = path.join(V2!, 'nsrig', `nsrig-${process.pid}-${randomBytes(4).toString('hex')}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `nsrig-${process.pid}-dev`));
  fs.mkdirSync(dir, { recursive: true });
  try {
    attachDeviceFilter(dir, rules);
    const script = [`echo $$ > '${dir}/cgroup.procs'`, ...PROBES.map((p) => `if out=$( (${p.shell}) 2>&1 ); then echo '${p.name}|ok'; else echo "${p.name}|$out" | tr '\\n' ' '; echo; fi`)].join('\n');
    const r = spawnSync('sh', ['-c', script], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', TMPD: tmp }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the probe shell failed: ${r.stderr}`);
    return new Map(r.stdout.trim().split('\n').map((l) => l.split('|') as [string, string]));
  } finally {
    fs.rmdirSync(dir);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function check(t: import('ava').ExecutionContext, rules: DeviceRule[]): void {
  const seen = probeIn(rules);
  for (const p of PROBES) {
    const outcome = seen.get(p.name)!;
    if (deviceAllowed(rules, p.request)) t.is(outcome, 'ok', p.name);
    else t.regex(outcome, /Operation not permitted/, p.name);
  }
}

runs('deny all, then allow /dev/null: null opens, zero and mknod get EPERM', (t) => {
  const rules: DeviceRule[] = [{ allow: false, type: 'a' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rw' }];
  t.false(deviceAllowed(rules, PROBES[2]!.request));
  t.false(deviceAllowed(rules, PROBES[3]!.request));
  check(t, rules);
});

runs('the last matching rule wins: a later deny of 1:5 beats an earlier allow of 1:*, not the other way round', (t) => {
  const allowThenDeny: DeviceRule[] = [{ allow: true, type: 'c', major: 1, minor: -1, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 5, access: 'rwm' }];
  t.false(deviceAllowed(allowThenDeny, PROBES[2]!.request));
  check(t, allowThenDeny);
  const denyThenAllow = [...allowThenDeny].reverse();
  t.true(deviceAllowed(denyThenAllow, PROBES[2]!.request));
  check(t, denyThenAllow);
});

runs('access letters: "r" on /dev/null lets reading through, not writing or mknod; type b never matches a char device', (t) => {
  const rules: DeviceRule[] = [{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: true, type: 'b', access: 'rwm' }];
  t.true(deviceAllowed(rules, PROBES[0]!.request));
  t.false(deviceAllowed(rules, PROBES[1]!.request));
  check(t, rules);
});

test('a rule with a bad field is refused naming its index; the program reads as rules, last first', (t) => {
  t.throws(() => deviceProgram([{ allow: true, type: 'a' }, { allow: true, type: 'c', access: 'rwx' }]), { instanceOf: DeviceRuleError, message: /devices\[1\]: access "rwx" has "x"/ });
  t.throws(() => deviceProgram([{ allow: true, type: 'x' as 'a' }]), { message: /devices\[0\]: type "x"/ });
  t.throws(() => deviceProgram([{ allow: true, type: 'c', major: -2 }]), { message: /devices\[0\]: major -2/ });
  const text = disassemble(deviceProgram([{ allow: false, type: 'a' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]));
  // The first rule matches everything: it ends the program, with no default after it.
  t.regex(text, /jne32 r2, 2, .*\n.*jne32 r4, 1, .*\n.*jne32 r5, 3, .*\n.*mov64 r0, 1\n.*exit\n.*mov64 r0, 0\n.*exit\n$/);
});
