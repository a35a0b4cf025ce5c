// The probe: runs inside a container, prints one JSON line of Observations, never judges.
// `--child` prints only its process view (and its own child's, once), for namespace inheritance.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { observe, observeProcess } from './observe.js';
import { act, releaseHeldSockets } from './act.js';
import { makeCallAsChild, SECCOMP_CALL_FLAG } from './seccomp-action.js';
import { watchJoins } from './join-watch.js';
import { decodeRequest, PROBE_REQUEST_FLAG, type Observations, type ProcessView } from './protocol.js';

const SELF = fileURLToPath(import.meta.url);

function spawnChild(depth: number): ProcessView[] {
  const r = spawnSync(process.execPath, [SELF, '--child', String(depth)], { encoding: 'utf8', env: process.env });
  if (r.status !== 0) return [];
  return JSON.parse(r.stdout) as ProcessView[];
}

/** How long after the first caught signal the probe waits for more before reporting what it caught. */
const CATCH_WINDOW_MS = 300;

function catchSignals(signals: NodeJS.Signals[]): void {
  const caught: string[] = [];
  for (const signal of signals) {
    process.on(signal, () => {
      caught.push(signal);
      if (caught.length > 1) return;
      setTimeout(() => {
        void act({}).then((actions) => {
          const look: Observations = { ...observe(), ...actions, children: [], caughtSignals: [...caught] };
          process.stdout.write(JSON.stringify(look) + '\n');
        });
      }, CATCH_WINDOW_MS);
    });
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const depth = Number(args[1]);
    const views = [observeProcess(), ...(depth > 1 ? spawnChild(depth - 1) : [])];
    process.stdout.write(JSON.stringify(views));
    return;
  }
  if (args[0] === SECCOMP_CALL_FLAG) {
    makeCallAsChild(Number(args[1]));
    return;
  }
  const i = args.indexOf(PROBE_REQUEST_FLAG);
  const request = i >= 0 ? decodeRequest(args[i + 1]) : {};
  // Armed before the first report: the host signals once it has read that report.
  if (request.catchSignals) catchSignals(request.catchSignals);
  // Passive observations first, before our own actions change what there is to see.
  const passive = observe();
  const actions = await act(request, passive.mounts, SELF);
  const observations: Observations = { ...passive, ...actions, children: request.children ? spawnChild(2) : [] };
  // Armed before the report goes out, which is what starts the host's exec: armed after it, a
  // probe descheduled in between found the joining process already there and took it for one of
  // the container's own, never to be watched.
  const watch = request.hold && request.watchJoins ? watchJoins(request.watchJoins.memory) : undefined;
  process.stdout.write(JSON.stringify(observations) + '\n');
  if (request.linger) {
    // Only a signal ends it now: the scenario is the container's PID 1 being killed.
    setInterval(() => {}, 1 << 30);
    await new Promise<never>(() => {});
  }
  if (request.hold) {
    if (watch) {
      let reported = false;
      process.stdin.on('data', () => {
        if (reported) return;
        reported = true;
        const joinWindow = watch.finish();
        void act({}).then((actions) => {
          const look: Observations = { ...observe(), ...actions, children: [], joinWindow };
          process.stdout.write(JSON.stringify(look) + '\n');
        });
      });
    }
    if (request.lookAgain) {
      const again = { stat: request.stat, read: request.read };
      let looking = Promise.resolve();
      process.stdin.on('data', (chunk: Buffer) => {
        for (let n = chunk.toString().split('\n').length - 1; n > 0; n--) {
          looking = looking.then(async () => {
            const look: Observations = { ...observe(), ...(await act(again)), children: [] };
            process.stdout.write(JSON.stringify(look) + '\n');
          });
        }
      });
    }
    process.stdin.resume();
    await new Promise<void>((resolve) => process.stdin.once('end', resolve).once('close', resolve).once('error', () => resolve()));
  }
  releaseHeldSockets();
}

main().catch((e) => {
  process.stderr.write(`probe: ${(e as Error).stack}\n`);
  process.exit(70);
});
