// A container with process.terminal (runc spec's real config) on the built-in engine, runc and
// crun: the probe's reports come through its pty (the engine's own, or the master runc and crun send
// to nsrig's console socket), lines written reach it and ending the input ends its input, and
// nothing is left behind (no pty or socket descriptor in this process, no socket file, session
// directory or runtime state) when the program ends, when the container cannot start, and when it
// outlives its timeout.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { OciTestHost } from './oci-test-host.js';
import { checkableBundle } from '../fixtures/oci-configs/checkable-bundle.js';
import { tinyRootfsProblem } from '../fixtures/oci-configs/tiny-rootfs.js';
import { loadCheckedConfig, makeRigMountPoints } from '../../harness/checked-config.js';
import { BuiltinTarget } from '../../harness/targets/builtin.js';
import { OciTarget } from '../../harness/targets/oci/oci-target.js';
import { startProbe, probeCommand } from '../../harness/scenario.js';
import { TargetError, type Target } from '../../harness/target.js';
import type { Profile } from '../../policy/profile/types.js';

const host = OciTestHost.create('terminal-sessions-test', { crun: true, mode: 0o755 });
const fixture = path.join(host.tmpdir, 'fixture');
const missing = ['runc', 'crun', 'ldd'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const problem = missing.length > 0 ? `not installed: ${missing.join(', ')}` : tinyRootfsProblem();
if (problem !== undefined) test('terminal sessions', (t) => t.pass(`skipped: ${problem}`));
const maybe = problem === undefined ? test.serial : test.skip;

let profile: Profile;
test.before(() => {
  if (problem !== undefined) return;
  fs.mkdirSync(fixture);
  const b = checkableBundle('runc spec', fixture, `/nsrig-terminal-sessions-${process.pid}`);
  const config = loadCheckedConfig(b.configPath);
  profile = config.profile;
  host.defer(makeRigMountPoints(config));
});

/** This process's descriptors of ptys and sockets, by number and what they lead to. */
function ptyAndSocketFds(): string[] {
  return fs.readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      return /ptmx|pts|^socket:/.test(target) ? [`${fd} ${target}`] : [];
    } catch {
      return [];
    }
  });
}

/** What a session may leave: descriptors here, files in the test's TMPDIR, processes naming it. */
function leftovers(before: string[]): { fds: string[]; files: string[]; processes: string[] } {
  return {
    fds: ptyAndSocketFds().filter((fd) => !before.includes(fd)),
    files: fs.readdirSync(host.tmpdir).filter((name) => name !== 'fixture'),
    processes: host.processesUsingIt(),
  };
}
const NOTHING = { fds: [], files: [], processes: [] };

const targets: [string, () => Target][] = [
  ['builtin', () => new BuiltinTarget()],
  ['runc', () => new OciTarget('runc')],
  ['crun', () => new OciTarget('crun')],
];

for (const [name, make] of targets) {
  maybe(`${name}: the probe reports through its terminal, reads a line from it, ends at its end of file, and leaves nothing`, async (t) => {
    const target = make();
    const before = ptyAndSocketFds();
    const probe = await startProbe(target, profile, { hold: true, lookAgain: true });
    try {
      const first = await probe.nextReport();
      for (const fd of [0, 1, 2]) {
        const seen = first.self.fds.find((f) => f.fd === fd);
        t.regex(seen?.target ?? '', /^\/dev\/pts\/\d+$/, `fd ${fd} is the container's pty: ${JSON.stringify(seen)}`);
      }
      t.true(first.mounts.some((m) => m.mountPoint === '/dev/console' && m.fsType === 'devpts'), '/dev/console is the pty bound from the container\'s devpts');
      probe.session.stdin!.write('\n');
      const second = await probe.nextReport();
      t.is(second.self.pid, first.self.pid, 'a line written to the terminal made the same probe look again');
      probe.session.stdin!.end();
      const exit = await probe.session.wait();
      t.deepEqual({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, 'the end of file ended the probe\'s input, and with it the probe');
    } finally {
      await probe.session.destroy();
    }
    t.deepEqual(leftovers(before), NOTHING);
  });

  maybe(`${name}: a container with a terminal whose program cannot start is refused and leaves nothing`, async (t) => {
    const target = make();
    const before = ptyAndSocketFds();
    const error = await t.throwsAsync(async () => {
      const session = await target.start({ profile, args: ['/nonexistent/program'], stdin: 'pipe' });
      // An engine may report the failed execve as the program's end: that is a refusal too.
      const exit = await session.wait();
      await session.destroy();
      // A program that ran to success was not refused: that must fail this test, not pass as a refusal.
      if (exit.code === 0) return;
      throw new TargetError(name, `the program ended with ${JSON.stringify(exit)}`);
    });
    t.true(error instanceof TargetError, error?.message);
    t.deepEqual(leftovers(before), NOTHING);
  });

  maybe(`${name}: a container with a terminal that outlives its timeout is killed and leaves nothing`, async (t) => {
    const target = make();
    const before = ptyAndSocketFds();
    const session = await target.start({
      profile: { ...profile, process: { ...profile.process, timeoutMs: 1500 } },
      args: probeCommand({ linger: true }), stdin: 'pipe',
    });
    try {
      const exit = await session.wait();
      t.true(exit.timedOut, JSON.stringify(exit));
    } finally {
      await session.destroy();
    }
    t.deepEqual(leftovers(before), NOTHING);
  });
}
