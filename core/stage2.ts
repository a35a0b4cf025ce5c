// Stage 2: the program the launcher clones into the new namespaces (see stage2-run.ts for what it
// does). Only node:fs loads before the guard, so even a module that fails to load is reported to
// the parent on the report descriptor; what Node itself prints before that (a main module it
// cannot load) goes to stage 2's stderr, a pipe whose tail the launcher puts in its LaunchError.
import fs from 'node:fs';

const [controlFd, reportFd] = process.argv.slice(2).map(Number);
try {
  const { runStage2 } = await import('./stage2-run.js');
  runStage2(controlFd, reportFd);
} catch (e) {
  fs.writeSync(reportFd, `${JSON.stringify({ event: 'error', step: 'load-stage2', message: (e as Error)?.stack ?? String(e) })}\n`);
  process.exit(127);
}
