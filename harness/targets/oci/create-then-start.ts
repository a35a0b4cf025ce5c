// The second way to launch on an OCI runtime, the one containerd and CRI-O take: `create`, then
// `start`. Between the two the runtime-spec's lifecycle must hold: `state` says "created", the
// init exists but has not run the program (runtime-spec, Lifecycle: "the user-specified program
// MUST NOT be run at this time"), and an edit of config.json changes nothing ("Any updates to
// config.json after this step MUST NOT affect the container"). What the runtime reports is recorded
// as it is, for the lifecycle invariants to judge (a runtime that breaks one of these is a
// shrinkable failure, not a launch error); only a runtime that cannot report a state, or whose
// start fails, refuses the launch.
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { ConfigEdit, LifecycleRecord, ReportedState } from '../../target.js';
import type { RuntimeDriver, RuntimeState } from './runtime-driver.js';
import { describeFailure } from './runtime-command.js';
import { processArgs } from '../../host-facts.js';

export type CreateOutcome = { created: true; pid: number } | { created: false; why?: string };

/** The shim's one report line on the child's descriptor 3; `created: false` when it ends without one. */
export function createReport(child: ChildProcess): Promise<CreateOutcome> {
  const channel = child.stdio[3] as NodeJS.ReadableStream | null | undefined;
  return new Promise((resolve) => {
    if (!channel) {
      resolve({ created: false, why: 'the create-start shim has no report pipe' });
      return;
    }
    let text = '';
    channel.setEncoding('utf8');
    channel.on('data', (s: string) => {
      text += s;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      try {
        const message = JSON.parse(text.slice(0, nl)) as { created?: boolean; pid?: number; why?: string };
        resolve(message.created === true && Number.isInteger(message.pid)
          ? { created: true, pid: message.pid! }
          : { created: false, ...(message.why === undefined ? {} : { why: message.why }) });
      } catch {
        resolve({ created: false, why: `the create-start shim said ${JSON.stringify(text.slice(0, nl))}` });
      }
    });
    channel.on('error', () => resolve({ created: false }));
    channel.on('end', () => resolve({ created: false }));
  });
}

/** Writes an edit into the bundle's config.json the way an operator would, between create and start. */
export function editConfig(configPath: string, edit: ConfigEdit): void {
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as { hostname?: string; process: { env?: string[] } };
  if (edit.hostname !== undefined) config.hostname = edit.hostname;
  if (edit.env !== undefined) config.process.env = Object.entries(edit.env).map(([k, v]) => `${k}=${v}`);
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
}

export type StartStep = { started: true; record: LifecycleRecord } | { started: false; why: string };

/**
 * From "created" to started: records the state and the init, applies the edit, runs `start`,
 * records the state again. The program may already have ended by then ("stopped").
 */
export async function startCreated(
  driver: RuntimeDriver, id: string, pid: number, bundleDir: string, configPath: string, edit: ConfigEdit | undefined, beforeStart?: (initPid: number) => void,
): Promise<StartStep> {
  const before = await driver.state(id);
  if ('problem' in before) return { started: false, why: `state after create failed: ${describeFailure(before.problem, driver.timeoutMs)}` };
  const initArgs = processArgs(pid) ?? [];
  if (edit !== undefined) editConfig(configPath, edit);
  beforeStart?.(pid);
  const start = await driver.start(id);
  if (start.code !== 0) return { started: false, why: `start failed: ${describeFailure(start, driver.timeoutMs)}` };
  const after = await driver.state(id);
  if ('problem' in after) return { started: false, why: `state after start failed: ${describeFailure(after.problem, driver.timeoutMs)}` };
  return { started: true, record: { bundle: bundleDir, created: { ...reported(before), initArgs }, started: reported(after) } };
}

/** The state's fields the rig reads, and only those. */
export function reported(state: RuntimeState): ReportedState {
  return { status: state.status, ...(state.pid === undefined ? {} : { pid: state.pid }), ...(state.bundle === undefined ? {} : { bundle: state.bundle }) };
}
