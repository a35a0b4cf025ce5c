// The suite-wide host guard: `make test` saves the host's state before ava and compares after it,
// so CI and a developer both learn when a run weakened the host, whatever test file did it.
//
//   node dist/test/host-guard/host-guard.js save FILE      before the run
//   node dist/test/host-guard/host-guard.js compare FILE   after it: exit 1 naming each change
//   node dist/test/host-guard/host-guard.js print          the snapshot as JSON (for the guard's own test)
//
// compare ends with "# host-guard pass 1" or "# host-guard fail 1", which .ci/run adds to ava's count.
import fs from 'node:fs';
import { projectRoot } from '../../harness/probe-rig.js';
import { takeHostSnapshot, type HostSnapshot } from './host-snapshot.js';
import { diffSnapshots, type SnapshotDiff } from './snapshot-diff.js';

/** A teardown that finishes just after the last test (a cgroup the kernel is still emptying) gets this long. */
const SETTLE_TRIES = 5;
const SETTLE_MS = 2_000;

const checkout = fs.realpathSync(projectRoot());
const lives = (pid: number) => fs.existsSync(`/proc/${pid}`);

async function settledDiff(before: HostSnapshot): Promise<SnapshotDiff> {
  let diff = diffSnapshots(before, takeHostSnapshot(checkout), lives);
  for (let i = 1; i < SETTLE_TRIES && diff.changes.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    diff = diffSnapshots(before, takeHostSnapshot(checkout), lives);
  }
  return diff;
}

async function main(args: string[]): Promise<number> {
  const [command, file] = args;
  if (command === 'print') {
    process.stdout.write(`${JSON.stringify(takeHostSnapshot(checkout))}\n`);
    return 0;
  }
  if (command === 'save' && file !== undefined) {
    const snapshot = takeHostSnapshot(checkout);
    fs.writeFileSync(file, JSON.stringify(snapshot), { mode: 0o600 });
    const already = Object.entries(snapshot.present).flatMap(([kind, things]) => things.map((t) => `  ${kind}: ${t}`));
    console.log(`host guard: the host's state before the run saved (${Object.keys(snapshot.values).length} values)`);
    if (already.length > 0) console.log(`host guard: present before the run (not this run's):\n${already.join('\n')}`);
    return 0;
  }
  if (command === 'compare' && file !== undefined) {
    const before = JSON.parse(fs.readFileSync(file, 'utf8')) as HostSnapshot;
    const diff = await settledDiff(before);
    if (diff.othersLive.length > 0) {
      console.log(`host guard: left out, another live nsrig process's:\n${diff.othersLive.map((t) => `  ${t}`).join('\n')}`);
    }
    if (diff.changes.length === 0) {
      console.log('host guard: the host is as it was before the run');
      console.log('# host-guard pass 1');
      return 0;
    }
    console.log(`not ok - host guard: the run changed the host (before → after):\n${diff.changes.map((c) => `  ${c}`).join('\n')}`);
    console.log('# host-guard fail 1');
    return 1;
  }
  console.error('usage: host-guard save FILE | compare FILE | print');
  return 2;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (error: Error) => {
  console.error(`host guard: ${error.stack ?? error.message}`);
  console.log('# host-guard fail 1');
  process.exit(1);
});
