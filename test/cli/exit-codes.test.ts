// The exit codes README.md and each command's --help promise, through the real command line:
// node bin/nsrig.js ... in a process of its own, as a user or a CI script runs it.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nsrig, printed } from './nsrig-cli.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const BROKEN_PROFILE = path.join(FIXTURES, 'profiles', 'broken.yaml');
const MINIMAL_PROFILE = path.join(ROOT, 'policy', 'examples', 'minimal.yaml');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-exit-codes-test-'));
fs.chmodSync(dir, 0o711);
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const SH = spawnSync('sh', ['-c', 'command -v sh'], { encoding: 'utf8' }).stdout.trim();

function profile(name: string, yaml: string): string {
  const file = path.join(dir, `${name}.yaml`);
  fs.writeFileSync(file, `name: ${name}\n${yaml}`);
  return file;
}

// Without a PID namespace the program is not an init, so a signal it sends itself kills it.
const NO_PID_NS = profile('no-pid-ns', 'namespaces: [user, mnt, uts, ipc, net]\nprocess:\n  args: [/bin/true]\n');
// An offset the kernel would refuse on any host up less than 31 years: the engine stops before creating anything.
const UNFIT_OFFSET = profile('unfit-offset', 'namespaces: [user, pid, mnt, time]\ntimeOffsets: { monotonic: -1000000000 }\nprocess:\n  args: [/bin/true]\n');

test('run: the program\'s own code, 128+N when a signal killed it, 127 when it cannot be found', async (t) => {
  const [own, signalled, missing] = await Promise.all([
    nsrig(['run', NO_PID_NS, '--', SH, '-c', 'exit 7']),
    nsrig(['run', NO_PID_NS, '--', SH, '-c', 'kill -TERM $$']),
    nsrig(['run', NO_PID_NS, '--', path.join(dir, 'no-such-program')]),
  ]);
  t.is(own.code, 7, printed(own));
  t.is(signalled.code, 128 + 15, printed(signalled));
  t.is(missing.code, 127, printed(missing));
  t.regex(missing.stderr, /no-such-program/);
});

test('run: 125 when the container cannot be set up, 2 for a profile error or bad arguments', async (t) => {
  const [unfit, broken, none] = await Promise.all([nsrig(['run', UNFIT_OFFSET]), nsrig(['run', BROKEN_PROFILE]), nsrig(['run'])]);
  t.is(unfit.code, 125, printed(unfit));
  t.regex(unfit.stderr, /timeOffsets\.monotonic: -1000000000 s would put the container's CLOCK_MONOTONIC below zero/);
  t.is(broken.code, 2, printed(broken));
  t.regex(broken.stderr, /broken\.yaml: expected valid YAML or JSON/);
  t.is(none.code, 2, printed(none));
});

test('validate: 0 all valid, 1 a profile has errors, 2 no profile given', async (t) => {
  const [valid, invalid, none] = await Promise.all([
    nsrig(['validate', MINIMAL_PROFILE, NO_PID_NS]), nsrig(['validate', MINIMAL_PROFILE, BROKEN_PROFILE]), nsrig(['validate']),
  ]);
  t.is(valid.code, 0, printed(valid));
  t.is(valid.stdout, `${MINIMAL_PROFILE}: OK\n${NO_PID_NS}: OK\n`);
  t.is(invalid.code, 1, printed(invalid));
  t.is(none.code, 2, printed(none));
});

test('report: 0 every invariant held, 1 a failure in the results, 2 a bad results file or no output named', async (t) => {
  const results = (name: string) => path.join(FIXTURES, 'results', name);
  const bad = path.join(dir, 'not-results.json');
  fs.writeFileSync(bad, '{"x": 1}');
  const [pass, fail, unreadable, noOutput] = await Promise.all([
    nsrig(['report', results('builtin-pass.json'), '--json', path.join(dir, 'pass.json')]),
    nsrig(['report', results('builtin-failures.json'), '--json', path.join(dir, 'fail.json')]),
    nsrig(['report', bad, '--json', path.join(dir, 'bad.json')]),
    nsrig(['report', results('builtin-pass.json')]),
  ]);
  t.is(pass.code, 0, printed(pass));
  t.true(fs.existsSync(path.join(dir, 'pass.json')));
  t.is(fail.code, 1, printed(fail));
  t.is(unreadable.code, 2, printed(unreadable));
  t.regex(unreadable.stderr, /not-results\.json: tool: expected an object/);
  t.notRegex(unreadable.stderr, /\n\s+at /, 'a message, not a stack trace');
  t.is(noOutput.code, 2, printed(noOutput));
});

test('bundle: 0 with config.json written, 2 for a missing DIR or a profile error', async (t) => {
  const out = path.join(dir, 'bundle');
  const [written, noDir, broken] = await Promise.all([
    nsrig(['bundle', MINIMAL_PROFILE, out]), nsrig(['bundle', MINIMAL_PROFILE]), nsrig(['bundle', BROKEN_PROFILE, path.join(dir, 'broken-bundle')]),
  ]);
  t.is(written.code, 0, printed(written));
  t.is(written.stdout, `${path.join(out, 'config.json')}\n`);
  t.true(fs.existsSync(path.join(out, 'config.json')));
  t.is(noDir.code, 2, printed(noDir));
  t.is(broken.code, 2, printed(broken));
  t.false(fs.existsSync(path.join(dir, 'broken-bundle')), 'nothing half-written');
});

test('trace: the workload\'s own code or 128+N, 127 when it cannot be found, 125 when its container cannot be set up, 2 without a command', async (t) => {
  const [own, signalled, missing, unfit, none] = await Promise.all([
    nsrig(['trace', '--', SH, '-c', 'exit 3']),
    nsrig(['trace', '--profile', NO_PID_NS, '--', SH, '-c', 'kill -TERM $$']),
    nsrig(['trace', '--', path.join(dir, 'no-such-program')]),
    nsrig(['trace', '--profile', UNFIT_OFFSET, '--', SH, '-c', 'true']),
    nsrig(['trace']),
  ]);
  t.is(own.code, 3, printed(own));
  t.regex(own.stderr, /total \(1 processes\)/);
  t.is(signalled.code, 128 + 15, printed(signalled));
  t.is(missing.code, 127, printed(missing));
  t.is(unfit.code, 125, printed(unfit));
  t.is(none.code, 2, printed(none));
});

test('check: 0 when the invariants hold, 1 when one fails, 2 on a usage error, 3 when the host cannot run it', async (t) => {
  const hold = await nsrig(['check', '--only', 'uts.hostname-isolated', '--runs', '1', '--seed', '1']);
  t.is(hold.code, 0, printed(hold));
  t.regex(hold.stdout, /^PASS: 1 passed, 0 failed/m);
  // A double that leaves the host's UTS namespace shared fails it on every generated profile (each
  // has a hostname); replaying the first case skips the shrinking.
  const fails = await nsrig(['check', '--target', 'double:shares-host-uts', '--only', 'uts.hostname-isolated', '--runs', '1', '--seed', '1', '--replay', '0']);
  t.is(fails.code, 1, printed(fails));
  t.regex(fails.stdout, /^FAIL: 0 passed, 1 failed/m);
  const [usage, unknown, host, lifecycle] = await Promise.all([
    nsrig(['check', '--runs', '0']),
    nsrig(['check', '--only', 'no.such-invariant']),
    nsrig(['check', '--runtime', path.join(dir, 'no-such-runtime'), '--only', 'uts', '--runs', '1']),
    nsrig(['check', '--lifecycle', 'start-create', '--only', 'uts', '--runs', '1']),
  ]);
  t.is(lifecycle.code, 2, printed(lifecycle));
  t.regex(lifecycle.stderr, /--lifecycle: expected run or create-start, got "start-create"/);
  t.is(usage.code, 2, printed(usage));
  t.is(unknown.code, 2, printed(unknown));
  t.is(host.code, 3, printed(host));
  t.regex(host.stderr, /this host cannot run the check:\n {2}- runtime \S+no-such-runtime is not an executable file\n\(nsrig doctor lists every prerequisite and its fix\)/);
});

test('--version: 0', async (t) => {
  const r = await nsrig(['--version']);
  t.is(r.code, 0, printed(r));
  t.regex(r.stdout, /^nsrig \d+\.\d+\.\d+\n$/);
});
