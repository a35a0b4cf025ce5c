// The device allow-list on cgroup v2: the BPF_PROG_TYPE_CGROUP_DEVICE program attached to a real
// cgroup2 directory (a hybrid host's cgroup2 tree has no controllers, but device programs attach
// to any cgroup2 directory), and a process in it refused what the list leaves out, as root. The
// reduction of ordered rules the program rests on is checked against the kernel's own v1 devices
// controller with random rule lists.
import test from 'ava';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readCgroupLayout } from '../../core/cgroup-layout.js';
import { attachDeviceProgram } from '../../core/cgroup-device-program.js';
import { DEFAULT_DEVICE_RULES, deviceRuleText } from '../../core/cgroup-resource-writes.js';
import { reduceDeviceRules } from '../../policy/ebpf/device-program.js';
import { ContainerCgroups } from '../../core/cgroup-resources.js';
import { parseProfile } from '../../policy/profile/load.js';
import type { DeviceRule } from '../../policy/profile/types.js';

const layout = readCgroupLayout();
const v2 = layout.unifiedMount;
const v1Devices = layout.v1Mounts.get('devices')?.[0];

/** Opens each device from a process that first moves itself into `dir`; errno 0 when it opened. */
function opensIn(dir: string, attempts: [string, 'r' | 'rw'][]): number[] {
  const script = `
import os, json
open(${JSON.stringify(path.join(dir, 'cgroup.procs'))}, "w").write(str(os.getpid()))
out = []
for p, m in ${JSON.stringify(attempts)}:
  try:
    os.close(os.open(p, os.O_RDWR if m == "rw" else os.O_RDONLY)); out.append(0)
  except OSError as e:
    out.append(e.errno)
print(json.dumps(out))`;
  return JSON.parse(execFileSync('/usr/bin/python3', ['-S', '-c', script]).toString()) as number[];
}

(v2 ? test.serial : test.serial.skip)('a process in a cgroup2 directory with the device program: denied what the list leaves out (EPERM), as root', (t) => {
  const dir = path.join(v2!, `nsrig-test-${process.pid}-devices`);
  fs.mkdirSync(dir);
  try {
    const rules: DeviceRule[] = [
      { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'r' },
      // A later rule wins: /dev/urandom loses its read again, /dev/zero never had one.
      { allow: false, type: 'c', major: 1, minor: 9, access: 'r' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'r' },
    ];
    attachDeviceProgram(dir, rules);
    t.deepEqual(opensIn(dir, [['/dev/random', 'r'], ['/dev/random', 'rw'], ['/dev/urandom', 'r'], ['/dev/zero', 'r']]), [0, 1, 1, 1]);
  } finally {
    fs.rmdirSync(dir);
  }
});

(v2 ? test.serial : test.serial.skip)('with runc\'s default rules after a deny-all, as the engine attaches it: the default devices open, others do not', (t) => {
  const dir = path.join(v2!, `nsrig-test-${process.pid}-defaults`);
  fs.mkdirSync(dir);
  try {
    attachDeviceProgram(dir, [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }, ...DEFAULT_DEVICE_RULES]);
    // /dev/kmsg (1:11) and the block device /dev/loop0 (7:0, mknod only) are not among them; /dev/tty
    // is, and fails only for want of a controlling terminal (ENXIO), not with the program's EPERM.
    const [nul, zero, tty, kmsg, loop0] = opensIn(dir, [['/dev/null', 'rw'], ['/dev/zero', 'r'], ['/dev/tty', 'r'], ['/dev/kmsg', 'r'], ['/dev/loop0', 'r']]);
    t.deepEqual([nul, zero, kmsg, loop0], [0, 0, 1, 1]);
    t.not(tty, 1);
  } finally {
    fs.rmdirSync(dir);
  }
});

const ruleArbitrary: fc.Arbitrary<DeviceRule> = fc.record({
  allow: fc.boolean(),
  type: fc.constantFrom('a', 'c', 'b', 'c') as fc.Arbitrary<DeviceRule['type']>,
  major: fc.constantFrom(-1, 1, 5, 8),
  minor: fc.constantFrom(-1, 3, 5),
  access: fc.subarray(['r', 'w', 'm'], { minLength: 1 }).map((l) => l.join('')),
});

function listLine(e: { type: string; major: number; minor: number; access: number }): string {
  const n = (x: number) => (x === -1 ? '*' : String(x));
  const access = ['r', 'w', 'm'].filter((c) => e.access & { m: 1, r: 2, w: 4 }[c as 'm']).join('');
  return `${e.type} ${n(e.major)}:${n(e.minor)} ${access}`;
}

(v1Devices ? test.serial : test.serial.skip)('property: the reduction of ordered rules is what the kernel\'s v1 devices controller makes of them', (t) => {
  let run = 0;
  fc.assert(fc.property(fc.array(ruleArbitrary, { maxLength: 8 }), (rules) => {
    const dir = path.join(v1Devices!, `nsrig-test-${process.pid}-reduce-${run++}`);
    fs.mkdirSync(dir);
    try {
      // Each test starts from "deny all", as an allow-list does; the v1 list shows only that mode's exceptions.
      const all: DeviceRule[] = [{ allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' }, ...rules];
      for (const rule of all) fs.writeFileSync(path.join(dir, rule.allow ? 'devices.allow' : 'devices.deny'), deviceRuleText(rule));
      const kernel = fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').split('\n').filter(Boolean).sort();
      const reduced = reduceDeviceRules(all);
      const ours = reduced.defaultAllow ? ['a *:* rwm'] : reduced.exceptions.map(listLine).sort();
      return JSON.stringify(kernel) === JSON.stringify(ours);
    } finally {
      fs.rmdirSync(dir);
    }
  }), { numRuns: 60 });
  t.pass();
});

(v2 ? test.serial : test.serial.skip)('the engine\'s cgroups on a layout whose devices controller is not v1: the allow-list goes to the cgroup2 directory as a program', async (t) => {
  // This host's devices controller is on v1, so the engine would use it; the same layout without it is what a pure v2 host gives.
  const v1Mounts = new Map([...layout.v1Mounts].filter(([c]) => c !== 'devices'));
  const v1Hierarchies = layout.v1Hierarchies.filter((h) => !h.controllers.includes('devices'));
  const profile = parseProfile({ namespaces: ['pid', 'mnt'], resources: { devices: [{ allow: false, access: 'rwm' }] }, process: { args: ['/bin/true'] } }, 'p.yaml');
  const groups = ContainerCgroups.create(`nsrig-${process.pid}-devtest`, profile, { ...layout, v1Mounts, v1Hierarchies });
  try {
    t.is(groups.directories[0], path.join(v2!, 'nsrig', `nsrig-${process.pid}-devtest`));
    t.false(groups.directories.some((d) => layout.v1Mounts.get('devices')?.some((m) => d.startsWith(`${m}/`))), 'no v1 devices cgroup');
    t.deepEqual(opensIn(groups.directories[0]!, [['/dev/null', 'rw'], ['/dev/kmsg', 'r']]), [0, 1]);
  } finally {
    await groups.remove();
  }
  t.false(fs.existsSync(groups.directories[0]!));
});
