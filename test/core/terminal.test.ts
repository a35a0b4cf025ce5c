// process.terminal: the program's stdio is a pty from the container's own devpts, its controlling
// terminal; the master comes back to nsrig, which relays it (nsrig run, raw mode on a terminal) or
// hands it to a console socket as runc does. Seen from inside (tty, stty size, the controlling
// terminal in /proc/self/stat) and from the host (the master's devpts is not the host's; the fd a
// console socket receives is a pty master).
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { spawn, spawnSync } from 'node:child_process';
import { launchContainer } from '../../core/container.js';
import { acceptUnix, closeFd, listenUnix, ptyNumber, receiveFd } from '../../core/host-kernel.js';
import { assertNoLeftovers, profileOf } from './container-run.js';
import { NSRIG } from '../cli/nsrig-cli.js';

test.afterEach.always(assertNoLeftovers);

const MOUNTS = [
  { type: 'proc' },
  { type: 'dev', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
  { type: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
];
// The seventh field of /proc/PID/stat is the controlling terminal's device number.
const INSIDE = 'tty; stty size; cut -d" " -f7 /proc/self/stat';
const PTS0 = String((136 << 8) | 0);

/** Everything read from a pty master until it hangs up (EIO once every slave descriptor is closed). */
function readUntilHangup(master: number): Promise<string> {
  const stream = new tty.ReadStream(master);
  let text = '';
  return new Promise((resolve) => {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    const done = () => {
      stream.destroy();
      resolve(text);
    };
    stream.on('error', done);
    stream.on('close', done);
  });
}

const lines = (text: string) => text.replace(/\r/g, '').trim().split('\n');

test.serial('the engine: stdio is /dev/pts/0 of the container\'s devpts, its controlling terminal, sized as declared, bound at /dev/console', async (t) => {
  const profile = profileOf({
    mounts: MOUNTS, process: { args: ['/bin/sh', '-c', `${INSIDE}; stat -c %t:%T /dev/console /dev/pts/0`], terminal: true, consoleSize: { height: 33, width: 101 } },
  });
  const container = await launchContainer(profile, { stdio: 'pipe' });
  const master = container.takeConsole();
  t.not(master, undefined);
  // From the host: a master of pty 0 of its own devpts instance, not of the host's /dev/pts.
  t.is(ptyNumber(master!), 0);
  t.not(fs.fstatSync(master!).dev, fs.statSync('/dev/pts/ptmx').dev);
  const output = readUntilHangup(master!);
  const exit = await container.wait();
  t.deepEqual(exit.code, 0);
  // /dev/console is pts 0 itself (major 136 = 0x88, minor 0), as runc and crun bind it.
  t.deepEqual(lines(await output), ['/dev/pts/0', '33 101', PTS0, '88:0', '88:0']);
});

test.serial('without terminal the engine opens no pty and hands out no master', async (t) => {
  const container = await launchContainer(profileOf({ mounts: MOUNTS, process: { args: ['/bin/sh', '-c', 'tty || true'] } }), { stdio: 'pipe' });
  t.is(container.takeConsole(), undefined);
  let out = '';
  container.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  await container.wait();
  t.is(out.trim(), 'not a tty');
});

const haveScript = spawnSync('sh', ['-c', 'command -v script'], { env: { PATH: '/usr/bin:/bin' } }).status === 0;
const withScript = haveScript ? test.serial : test.skip;
if (!haveScript) console.log('skipping the nsrig run relay test: util-linux script(1), which gives it a real terminal, is missing');

withScript('nsrig run on a real terminal: the pty follows its size, output is byte-exact, and the terminal is back in cooked mode afterwards', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-terminal-'));
  try {
    const profile = path.join(dir, 'p.json');
    fs.writeFileSync(profile, JSON.stringify({ mounts: MOUNTS, process: { args: ['/bin/sh', '-c', INSIDE], terminal: true } }));
    // script(1) gives nsrig run a terminal of its own; the outer shell sizes it and records its modes before and after.
    const inner = `stty cols 91 rows 27; stty -g > before; ${JSON.stringify(process.execPath)} ${JSON.stringify(NSRIG)} run p.json; echo "rc=$?"; stty -g > after`;
    const result = spawnSync('script', ['-qec', inner, '/dev/null'], { cwd: dir, encoding: 'utf8', input: '', timeout: 60_000, env: { PATH: '/usr/bin:/bin' } });
    const said = lines(result.stdout).map((l) => l.replace(/^\0|\^@/, ''));
    t.deepEqual(said, ['/dev/pts/0', '27 91', PTS0, 'rc=0'], result.stderr);
    // Byte-exact, as under runc: the container's pty turns "\n" into "\r\n" once, and nsrig's own
    // terminal, raw while relaying (OPOST off, as cfmakeraw leaves it), adds no second "\r".
    t.true(result.stdout.includes('/dev/pts/0\r\n'), JSON.stringify(result.stdout));
    t.false(result.stdout.includes('\r\r\n'), JSON.stringify(result.stdout));
    t.is(fs.readFileSync(path.join(dir, 'after'), 'utf8'), fs.readFileSync(path.join(dir, 'before'), 'utf8'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('nsrig run --console-socket sends the pty master over the socket (runc\'s protocol), and keeps no copy', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-console-'));
  const socketPath = path.join(dir, 'console.sock');
  const listening = listenUnix(socketPath);
  try {
    const profile = path.join(dir, 'p.json');
    fs.writeFileSync(profile, JSON.stringify({ mounts: MOUNTS, process: { args: ['/bin/sh', '-c', `${INSIDE}; sleep 1`], terminal: true } }));
    const child = spawn(process.execPath, [NSRIG, 'run', '--console-socket', socketPath, profile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const connection = acceptUnix(listening);
    const received = receiveFd(connection, true)!;
    closeFd(connection);
    t.is(received.name, '/dev/ptmx');
    t.is(ptyNumber(received.fd), 0, 'the descriptor received is a pty master');
    const output = await readUntilHangup(received.fd);
    t.is(await exited, 0, stderr);
    // No size declared and no terminal to follow: the kernel's 0x0.
    t.deepEqual(lines(output), ['/dev/pts/0', '0 0', PTS0]);
    t.is(stdout, '', 'nothing relayed to nsrig\'s own stdout');
  } finally {
    closeFd(listening);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.serial('--console-socket without a terminal in the profile is a usage error naming why', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-console-'));
  try {
    const profile = path.join(dir, 'p.json');
    fs.writeFileSync(profile, JSON.stringify({ process: { args: ['/bin/true'] } }));
    const result = spawnSync(process.execPath, [NSRIG, 'run', '--console-socket', path.join(dir, 's'), profile], { encoding: 'utf8' });
    t.is(result.status, 2);
    t.regex(result.stderr, /process\.terminal is not true/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
