// nsrig --help, nsrig help [COMMAND] and nsrig COMMAND --help: usage on stdout, exit 0.
import test from 'ava';
import { COMMAND_USAGE } from '../../bin/usage.js';
import { nsrig, printed } from './nsrig-cli.js';

const COMMANDS = Object.keys(COMMAND_USAGE);

test('every command has its usage', (t) => {
  t.deepEqual([...COMMANDS].sort(), ['bundle', 'check', 'doctor', 'exec', 'kill', 'list', 'plan', 'report', 'run', 'state', 'trace', 'validate']);
});

for (const command of COMMANDS) {
  test(`nsrig ${command} --help prints its usage and exits 0`, async (t) => {
    for (const flag of command === 'check' ? ['--help', '-h'] : ['--help']) {
      const r = await nsrig([command, flag]);
      t.is(r.code, 0, printed(r));
      t.true(r.stdout.startsWith(`Usage: nsrig ${command}`), printed(r));
      t.regex(r.stdout, /Exit status: /);
      t.is(r.stderr, '');
    }
  });
}

test('--help anywhere among a command\'s own options wins; after -- it belongs to the program', async (t) => {
  const r = await nsrig(['check', '--runs', '3', '--help']);
  t.is(r.code, 0, printed(r));
  t.true(r.stdout.startsWith('Usage: nsrig check'));
  const after = await nsrig(['run', '--', '/bin/echo', '--help']);
  t.is(after.code, 2, 'run without a profile is a usage error, not help');
  t.regex(after.stderr, /usage: nsrig run \[--name ID\] \[--console-socket PATH\] PROFILE/);
});

test('nsrig --help, -h and help print the overview and exit 0; help COMMAND prints that command\'s usage', async (t) => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = await nsrig(args);
    t.is(r.code, 0, printed(r));
    for (const command of COMMANDS) t.regex(r.stdout, new RegExp(`nsrig ${command}\\b`));
  }
  const one = await nsrig(['help', 'report']);
  t.is(one.code, 0, printed(one));
  t.is(one.stdout, COMMAND_USAGE.report);
});

test('no command, an unknown command or help for an unknown command is a usage error (exit 2)', async (t) => {
  const none = await nsrig([]);
  t.is(none.code, 2);
  t.regex(none.stderr, /^nsrig — /);
  for (const args of [['frobnicate'], ['help', 'frobnicate'], ['frobnicate', '--help']]) {
    const r = await nsrig(args);
    t.is(r.code, 2, printed(r));
    t.regex(r.stderr, /unknown command "frobnicate"; see nsrig --help/);
  }
});
