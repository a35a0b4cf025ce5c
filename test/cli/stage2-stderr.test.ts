// A stage 2 that dies before exec is reported with the last lines it wrote to stderr: Node's own
// words when it cannot load stage 2 at all, which no report line of stage 2 can carry. A copy of
// the built tree whose stage2.js does not parse makes Node fail exactly that way, for real.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const top = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-stage2-stderr-test-'));
const tree = path.join(top, 'nsrig');
for (const entry of ['package.json', 'dist', 'bin', 'policy']) fs.cpSync(path.join(ROOT, entry), path.join(tree, entry), { recursive: true });
fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(tree, 'node_modules'));
fs.writeFileSync(path.join(tree, 'dist', 'core', 'stage2.js'), 'this is not ( javascript\n');
test.after.always(() => fs.rmSync(top, { recursive: true, force: true }));

function nsrigFromCopy(args: string[]) {
  return spawnSync(process.execPath, [path.join(tree, 'bin', 'nsrig.js'), ...args], { cwd: tree, encoding: 'utf8', timeout: 120_000, input: '' });
}

test('nsrig run: the launch error ends with what stage 2 printed before it died', (t) => {
  const run = nsrigFromCopy(['run', 'policy/examples/minimal.yaml']);
  t.is(run.status, 125, run.stderr);
  const died = run.stderr.indexOf('stage 2 died before exec');
  t.true(died >= 0, run.stderr);
  t.true(run.stderr.indexOf('SyntaxError', died) > died, `Node's SyntaxError is not part of nsrig's message:\n${run.stderr}`);
});

test('nsrig check: the host check that cannot start a container quotes stage 2 too', (t) => {
  const run = nsrigFromCopy(['check', '--target', 'builtin', '--only', 'pid.init-is-pid1', '--runs', '1']);
  t.is(run.status, 3, `${run.stdout}\n${run.stderr}`);
  t.regex(`${run.stdout}\n${run.stderr}`, /SyntaxError/);
});
