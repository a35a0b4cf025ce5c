// nsrig plan PROFILE [--json]: the calls a launch will make, in order, printed without making any.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nsrig, printed } from './nsrig-cli.js';
import { loadProfile } from '../../policy/load-profile.js';
import { compileProfilePolicy } from '../../core/seccomp-program.js';
import { CLONE } from '../../policy/kernel/clone-flags.js';
import { MS } from '../../policy/kernel/mount-flags.js';

const STRICT = fileURLToPath(new URL('../../../policy/examples/strict.yaml', import.meta.url));

interface Call { call: string; args: Record<string, unknown> }
interface View { profile: string; parent: { name: string; calls: Call[] }[]; child: { name: string; why?: string; calls: Call[] }[] }

async function planOf(file: string): Promise<View> {
  const r = await nsrig(['plan', file, '--json']);
  if (r.code !== 0) throw new Error(printed(r));
  return JSON.parse(r.stdout) as View;
}

test('--json: the parent clones with the profile\'s namespaces and writes its id maps before the release', async (t) => {
  const view = await planOf(STRICT);
  t.deepEqual(view.parent.map((s) => s.name), ['clone', 'place-in-cgroup', 'write-id-maps', 'release']);
  t.is(view.parent[0]!.calls[0]!.args.flags,
    CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWNS | CLONE.PIDFD | 17);
  t.deepEqual(view.parent[2]!.calls.map((c) => c.args), [
    { path: '/proc/PID/setgroups', data: 'deny' },
    { path: '/proc/PID/uid_map', data: '0 300000 1000\n1000 301000 64536\n' },
    { path: '/proc/PID/gid_map', data: '0 300000 65536\n' },
  ]);
});

test('--json: stage 2\'s steps and, from the mounts on, exactly its calls in order', async (t) => {
  const view = await planOf(STRICT);
  t.deepEqual(view.child.map((s) => s.name), [
    'clone-bind-sources', 'make-mounts-private', 'enter-cgroup-namespace', 'enter-time-namespace', 'build-host-root-view',
    'mount-filesystems', 'mask-paths', 'make-paths-readonly', 'make-root-readonly', 'pivot-root', 'set-root-propagation', 'set-hostname',
    'set-domainname', 'bring-loopback-up', 'set-rlimits', 'set-home', 'change-directory', 'new-session', 'prepare-stdio', 'reset-signals',
    'drop-bounding-set', 'switch-credentials', 'join-session-keyring', 'set-capabilities', 'set-parent-death-signal',
    'set-no-new-privileges', 'resolve-executable', 'install-seccomp', 'execve',
  ]);
  const calls = view.child.slice(view.child.findIndex((s) => s.name === 'pivot-root')).flatMap((s) => s.calls);
  const names = calls.map((c) => c.call);
  t.deepEqual(names.slice(0, 14), ['chdir', 'pivot_root', 'umount2', 'chdir', 'mount_setattr', 'sethostname', 'setdomainname',
    'bring_interface_up', 'prlimit', 'prlimit', 'prlimit', 'prlimit', 'env_with_home_from_passwd', 'chdir']);
  t.deepEqual(names.slice(14, 20), ['setsid', 'dup2', 'dup2', 'dup2', 'close_range', 'reset_signals']);
  // No capability is kept: all 41 leave the bounding set.
  t.deepEqual(names.slice(20, 61), Array(41).fill('prctl'));
  t.deepEqual(names.slice(61), ['prctl', 'setresgid', 'setresuid', 'keyctl_join_session_keyring', 'capset', 'prctl', 'prctl', 'prctl',
    'find_executable', 'report_ready', 'seccomp', 'execve']);
  const program = compileProfilePolicy(loadProfile(STRICT))!;
  t.deepEqual(calls.find((c) => c.call === 'seccomp')!.args, { program: program.toString('base64') });
  t.deepEqual(calls.at(-1)!.args, { path: { ref: 'executable' }, argv: ['/bin/sh', '-c', 'id; cat /proc/self/status'], env: { ref: 'env' } });
  // The profile sets no HOME, so stage 2 adds it from the container's /etc/passwd.
  t.deepEqual(calls.find((c) => c.call === 'env_with_home_from_passwd')!.args, { env: ['PATH=/usr/bin:/bin'], uid: 1000, passwd: '/etc/passwd' });
  const proc = view.child.find((s) => s.name === 'mount-filesystems')!.calls[1]!;
  t.deepEqual(proc, { call: 'mount', args: { source: 'proc', target: '/tmp/proc', fstype: 'proc', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: null } });
});

test('the text form names flags, capabilities and the seccomp program\'s size', async (t) => {
  const r = await nsrig(['plan', STRICT]);
  t.is(r.code, 0, printed(r));
  const instructions = compileProfilePolicy(loadProfile(STRICT))!.length / 8;
  for (const line of [
    'clone(flags=CLONE_PIDFD|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET|SIGCHLD)',
    'mount(source=null, target="/", fstype=null, flags=MS_REC|MS_PRIVATE, data=null)',
    'pivot_root(newRoot=".", putOld=".")',
    'umount2(target=".", flags=MNT_DETACH)',
    'sethostname(name="strict")',
    'prctl(option=PR_CAPBSET_DROP, value=CAP_SYS_ADMIN)',
    'capset(effective=[], permitted=[], inheritable=[])',
    'prctl(option=PR_SET_PDEATHSIG, value=SIGKILL)',
    `seccomp(program=${instructions} BPF instructions)`,
    'execve(path=<executable>, argv=["/bin/sh","-c","id; cat /proc/self/status"], env=<env>)',
  ]) t.true(r.stdout.includes(`       ${line}\n`), line);
  t.regex(r.stdout, /\d+\. pivot-root — pivot_root\("\.", "\."\) stacks the old root under the new one/);
});

test('a bad profile: exit 2 with the file, the field path and what was expected; nothing printed on stdout', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-plan-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'bad profile.yaml');
  fs.writeFileSync(file, 'namespaces: [user, bogus]\nprocess: { args: [/bin/true] }\n');
  const r = await nsrig(['plan', file]);
  t.is(r.code, 2, printed(r));
  t.true(r.stderr.includes(`${file}: namespaces[1]: expected one of user, pid, uts, ipc, net, cgroup, mnt, time, got "bogus"`), printed(r));
  t.is(r.stdout, '');
  const usage = await nsrig(['plan']);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /usage: nsrig plan PROFILE/);
});
