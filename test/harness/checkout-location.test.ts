// nsrig from a checkout only root can enter: the built tree copied below a 0700 directory (as
// root's home or mktemp -d are), in a directory whose name has a space, and reached through a
// symlink. Neither stage 2 nor the probe (built-in engine, runc, crun) may depend on the
// container's uid walking that path, so `nsrig run` and `nsrig check` run from there for real.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { projectRoot } from '../../harness/probe-rig.js';

const run = promisify(execFile);
const ROOT = projectRoot();
const top = fs.mkdtempSync(path.join(os.tmpdir(), 'nsrig-checkout-location-test-'));
test.after.always(() => fs.rmSync(top, { recursive: true, force: true }));

/** A copy of the built tree at TOP/dir with space/NAME, node_modules copied in or symlinked; returns a symlink to it. */
function checkout(name: string, nodeModules: 'copy' | 'symlink'): string {
  const tree = path.join(top, 'dir with space', name);
  fs.mkdirSync(tree, { recursive: true });
  for (const entry of ['package.json', 'dist', 'bin', 'policy']) fs.cpSync(path.join(ROOT, entry), path.join(tree, entry), { recursive: true });
  const modules = fs.realpathSync(path.join(ROOT, 'node_modules'));
  if (nodeModules === 'symlink') fs.symlinkSync(modules, path.join(tree, 'node_modules'));
  else copyTree(modules, path.join(tree, 'node_modules'));
  const link = path.join(os.tmpdir(), `${path.basename(top)}-${name}-link`);
  fs.symlinkSync(tree, link);
  test.after.always(() => fs.rmSync(link, { force: true }));
  return link;
}

/** Hard links when the temp directory shares the file system (seconds instead of half a minute), a copy otherwise. */
function copyTree(from: string, to: string): void {
  try {
    execFileSync('cp', ['-al', from, to], { stdio: 'ignore' });
  } catch {
    fs.rmSync(to, { recursive: true, force: true });
    fs.cpSync(from, to, { recursive: true });
  }
}

async function nsrig(link: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(link, 'bin', 'nsrig.js'), ...args], { cwd: link, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const copied = checkout('nsrig', 'copy');
const linked = checkout('nsrig-linked-modules', 'symlink');

test('the location is what the test means: a 0700 directory above, a space in the path, a symlink to reach it', (t) => {
  t.is(fs.statSync(top).mode & 0o777, 0o700);
  for (const link of [copied, linked]) {
    t.true(fs.lstatSync(link).isSymbolicLink());
    t.regex(fs.realpathSync(link), / /);
  }
});

for (const [what, link] of [['node_modules copied in', copied], ['node_modules a symlink', linked]] as const) {
  test.serial(`nsrig run of the minimal example (${what})`, async (t) => {
    const r = await nsrig(link, ['run', 'policy/examples/minimal.yaml']);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /^hello from /);
  });
}

const PROBED = 'pid.host-signal-refused,user.unmapped-shows-overflow,mnt.no-mount-leak';

for (const target of [['--target', 'builtin'], ['--runtime', 'runc'], ['--runtime', 'crun', '--prepare-host']]) {
  test.serial(`nsrig check ${target.join(' ')}: the probe runs in containers from there`, async (t) => {
    const r = await nsrig(copied, ['check', ...target, '--runs', '2', '--seed', '5', '--only', PROBED]);
    t.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
    t.regex(r.stdout, /PASS: 3 passed, 0 failed, 0 skipped, 0 errors/);
  });
}
