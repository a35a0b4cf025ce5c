// The process stage 2 hands over at execve: exactly the profile's environment, its working
// directory, its rlimits, signal dispositions and mask reset to defaults (Node's ignored SIGPIPE
// and SIGXFSZ and the launcher's blocked mask must not leak), only descriptors 0-2, a session of
// its own, and loopback up (or down when the profile says so).
import test from 'ava';
import fs from 'node:fs';
import { DEFAULT_PATH } from '../../policy/profile/types.js';
import { homeFromPasswd } from '../../core/setup-steps.js';
import { run, shell, HOLD, heldReady, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

test.serial('the environment is exactly the profile\'s: nothing of the launcher\'s is inherited', async (t) => {
  process.env.NSRIG_CORE_TEST_MARKER = 'must-not-leak';
  try {
    const env = { A: '1', B: 'two words', EMPTY: '', 'DOTTED.NAME': 'x=y', HOME: '/srv' };
    const { stdout } = await run({ process: { args: ['/usr/bin/env'], env } });
    t.deepEqual(stdout.trim().split('\n').sort(), ['A=1', 'B=two words', 'DOTTED.NAME=x=y', 'EMPTY=', 'HOME=/srv']);
    const held = await run({ process: { args: ['/bin/true'], env } }, {
      args: shell(HOLD), ready: heldReady,
      outside: (c) => fs.readFileSync(`/proc/${c.pid}/environ`, 'utf8').split('\0').filter(Boolean).sort(),
    });
    t.deepEqual(held.outside, ['A=1', 'B=two words', 'DOTTED.NAME=x=y', 'EMPTY=', 'HOME=/srv']);
  } finally {
    delete process.env.NSRIG_CORE_TEST_MARKER;
  }
});

/** What the container's /etc/passwd (the host's, through the host root view) gives uid 0, as the engine reads it. */
const rootHome = homeFromPasswd(fs.readFileSync('/etc/passwd', 'utf8'), 0);

test.serial('an empty env is HOME alone, from the container\'s /etc/passwd; a missing env is PATH and HOME', async (t) => {
  const empty = await run({ process: { args: ['/usr/bin/env'], env: {} } });
  t.is(empty.stdout, `HOME=${rootHome}\n`);
  const missing = await run({ process: { args: ['/usr/bin/env'] } });
  t.is(missing.stdout, `PATH=${DEFAULT_PATH}\nHOME=${rootHome}\n`);
});

test.serial('the working directory, inside and from the host', async (t) => {
  const { stdout, outside } = await run({ process: { args: ['/bin/true'], cwd: '/usr/share' } }, {
    args: shell(`pwd -P; ${HOLD}`), ready: heldReady, outside: (c) => fs.readlinkSync(`/proc/${c.pid}/cwd`),
  });
  t.is(stdout.split('\n')[0], '/usr/share');
  t.is(outside, '/usr/share');
});

function limitsRow(text: string, name: string): string[] {
  const line = text.split('\n').find((l) => l.startsWith(name));
  if (!line) throw new Error(`no "${name}" in /proc/PID/limits`);
  return line.slice(name.length).trim().split(/\s+/).slice(0, 2);
}

test.serial('rlimits, inside and from the host', async (t) => {
  const rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
    { type: 'core', soft: 0, hard: 'unlimited' },
    { type: 'RLIMIT_FSIZE', soft: 1048576, hard: 2097152 },
  ];
  const { stdout, outside } = await run({ process: { args: ['/bin/true'], rlimits } }, {
    args: shell(`cat /proc/self/limits; ulimit -n; ${HOLD}`), ready: heldReady, outside: (c) => fs.readFileSync(`/proc/${c.pid}/limits`, 'utf8'),
  });
  for (const [view, text] of [['inside', stdout], ['outside', outside]] as const) {
    t.deepEqual(limitsRow(text, 'Max open files'), ['100', '200'], view);
    t.deepEqual(limitsRow(text, 'Max core file size'), ['0', 'unlimited'], view);
    t.deepEqual(limitsRow(text, 'Max file size'), ['1048576', '2097152'], view);
  }
  t.true(stdout.includes('\n100\n'), 'ulimit -n in the shell');
});

test.serial('SIGXFSZ and SIGPIPE have their default actions again: a writer past RLIMIT_FSIZE or into a closed pipe dies of the signal', async (t) => {
  // If Node's ignored dispositions leaked, head would exit 1 with EFBIG and yes with EPIPE.
  const script = 'head -c 2000000 /dev/zero > /tmp/big; echo "head=$?"; (yes; echo "yes=$?" >&2) | head -n 1 > /dev/null';
  const { stdout, stderr } = await run({ process: { args: ['/bin/true'], rlimits: [{ type: 'RLIMIT_FSIZE', soft: 1048576, hard: 1048576 }] } }, {
    args: shell(script),
  });
  t.is(stdout.trim(), `head=${128 + 25}`);
  // The shell also reports head's death in words ("File size limit exceeded").
  t.is(stderr.trim().split('\n').at(-1), `yes=${128 + 13}`);
});

test.serial('the program starts with no signal blocked, ignored or caught', async (t) => {
  const { stdout } = await run({ process: { args: ['/bin/cat', '/proc/self/status'] } });
  for (const field of ['SigBlk', 'SigIgn', 'SigCgt']) {
    t.is(new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(stdout)?.[1], '0000000000000000', field);
  }
});

test.serial('only descriptors 0, 1 and 2 reach the program; it leads a session of its own', async (t) => {
  const { outside } = await run({ process: { args: ['/bin/true'] } }, {
    args: shell(HOLD), ready: heldReady,
    outside: (c) => {
      const stat = fs.readFileSync(`/proc/${c.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { fds: fs.readdirSync(`/proc/${c.pid}/fd`).sort(), session: Number(fields[3]), pid: c.pid };
    },
  });
  t.deepEqual(outside.fds, ['0', '1', '2']);
  t.is(outside.session, outside.pid);
});

const LISTEN_AND_CONNECT = `const net = require('net');
const s = net.createServer((c) => c.end());
s.once('error', (e) => console.log('listen ' + e.code));
s.listen(0, '127.0.0.1', () => {
  net.connect(s.address().port, '127.0.0.1').once('connect', () => { console.log('connected'); s.close(); process.exit(0); })
    .once('error', (e) => { console.log('connect ' + e.code); process.exit(0); });
});`;

test.serial('loopback is up: lo only, flagged up, routes present, a TCP connection to 127.0.0.1 works', async (t) => {
  const { stdout, outside } = await run({ process: { args: ['/bin/true'] } }, {
    args: [...shell(`cat /sys/class/net/lo/flags; ls /sys/class/net; ${process.execPath} -e "$0"; ${HOLD}`), LISTEN_AND_CONNECT],
    ready: heldReady, outside: (c) => fs.readFileSync(`/proc/${c.pid}/net/fib_trie`, 'utf8'),
  });
  const [flags, interfaces, connected] = stdout.split('\n');
  t.is(Number(flags) & 1, 1, `lo flags ${flags}`);
  t.is(interfaces, 'lo');
  t.is(connected, 'connected');
  t.regex(outside, /127\.0\.0\.1/);
});

test.serial('loopback: false leaves lo down: no routes, 127.0.0.1 unreachable', async (t) => {
  const { stdout, outside } = await run({ network: { loopback: false }, process: { args: ['/bin/true'] } }, {
    args: [...shell(`cat /sys/class/net/lo/flags; ${process.execPath} -e "$0"; ${HOLD}`), LISTEN_AND_CONNECT],
    ready: heldReady, outside: (c) => fs.readFileSync(`/proc/${c.pid}/net/fib_trie`, 'utf8'),
  });
  const [flags, result] = stdout.split('\n');
  t.is(Number(flags) & 1, 0, `lo flags ${flags}`);
  t.is(result, 'connect ENETUNREACH');
  t.notRegex(outside, /127\.0\.0\.1/);
});
