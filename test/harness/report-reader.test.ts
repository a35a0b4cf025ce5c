// The report reader takes a probe's lines from its output until the probe has ended. A child's exit
// is reported on SIGCHLD and its pipe's data on later reads, so the exit can come first: the
// reader must still give the report that follows, and say "ended before reporting" only once the
// output has ended with none (or stayed open past its bound).
import test from 'ava';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { reportReader } from '../../harness/scenario.js';
import type { ExitStatus } from '../../harness/target.js';

const EXITED: ExitStatus = { code: 0, signal: null, timedOut: false };

test('a report that arrives after the exit was seen is still read', async (t) => {
  const stdout = new PassThrough();
  const read = reportReader({ stdout, stderr: new PassThrough(), wait: () => Promise.resolve(EXITED) });
  const report = read();
  setTimeout(() => stdout.end('{"hostname":"late"}\n'), 50);
  t.like(await report, { hostname: 'late' });
});

test('an output that ends without a report is the probe ending before reporting', async (t) => {
  const stdout = new PassThrough();
  const read = reportReader({ stdout, stderr: new PassThrough(), wait: () => Promise.resolve(EXITED) });
  const report = read();
  setTimeout(() => stdout.end(), 50);
  await t.throwsAsync(report, { message: 'the probe exited with 0 before reporting' });
});

test('an output held open by someone else ends the wait after the bound', async (t) => {
  const stdout = new PassThrough();
  const read = reportReader({ stdout, stderr: new PassThrough(), wait: () => Promise.resolve(EXITED) });
  await t.throwsAsync(read(), { message: 'the probe exited with 0 before reporting' });
  stdout.destroy();
});

test('a real process: its exit as child_process reports it, and every report line it wrote', async (t) => {
  // Many lines, so the pipe is still being read when the exit arrives.
  const lines = 2000;
  const child = spawn(process.execPath, ['-e', `for (let i = 0; i < ${lines}; i++) process.stdout.write(JSON.stringify({ hostname: 'h' + i }) + '\\n')`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<ExitStatus>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, timedOut: false })));
  const read = reportReader({ stdout: child.stdout, stderr: child.stderr, wait: () => exited });
  let last: unknown;
  for (let i = 0; i < lines; i++) last = await read();
  t.like(last, { hostname: `h${lines - 1}` });
  await t.throwsAsync(read(), { message: 'the probe exited with 0 before reporting' });
});
