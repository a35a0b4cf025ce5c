// The second way to launch on an OCI runtime, the one containerd and CRI-O take: `create`, then
// `start`. Between the two the runtime-spec's lifecycle must hold: `state` says "created", the
// init exists but has not run the program (runtime-spec, Lifecycle: "the user-specified program
// MUST NOT be run at this time"), and an edit of config.json changes nothing ("Any updates to
// config.json after this step MUST NOT affect the container"). A runtime that breaks one of these
// refuses the launch with what it did; the session records what it saw for the invariants.
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { ConfigEdit, LifecycleRecord } from '../../target.js';
import type { RuntimeDriver } from './runtime-driver.js';
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
 * From "created" to started: checks the state and the init, applies the edit, runs `start`, reads
 * the state again. The program may already have ended by then, so "stopped" after start is fine.
 */
export async function startCreated(
  driver: RuntimeDriver, id: string, pid: number, programArgs: string[], configPath: string, edit: ConfigEdit | undefined,
): Promise<StartStep> {
  const before = await driver.state(id);
  if ('problem' in before) return { started: false, why: `state after create failed: ${describeFailure(before.problem, driver.timeoutMs)}` };
  const initArgs = processArgs(pid) ?? [];
  if (before.status !== 'created') return { started: false, why: `state after create says "${before.status}", expected "created"` };
  if (before.pid !== pid) return { started: false, why: `state after create names pid ${before.pid}, the pid file ${pid}` };
  if (sameArgs(initArgs, programArgs)) return { started: false, why: `the program already runs before start (pid ${pid}: ${initArgs.join(' ')})` };
  if (edit !== undefined) editConfig(configPath, edit);
  const start = await driver.start(id);
  if (start.code !== 0) return { started: false, why: `start failed: ${describeFailure(start, driver.timeoutMs)}` };
  const after = await driver.state(id);
  if ('problem' in after) return { started: false, why: `state after start failed: ${describeFailure(after.problem, driver.timeoutMs)}` };
  if (after.status !== 'running' && after.status !== 'stopped') return { started: false, why: `state after start says "${after.status}", expected "running" (or "stopped" once the program ended)` };
  return { started: true, record: { created: { status: before.status, initArgs }, started: { status: after.status } } };
}

function sameArgs(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((arg, i) => arg === b[i]);
}
