// Everything a bench run must undo — temp directories, runtime state, the crun host preparation,
// child processes — registered as it is created and undone in reverse order, on the normal path
// and on SIGINT/SIGTERM/SIGHUP alike. Steps are synchronous so they also run from a signal handler.
import type { ChildProcess } from 'node:child_process';

interface Step {
  label: string;
  undo: () => void;
}

export class Teardown {
  private readonly steps: Step[] = [];
  private readonly children = new Set<ChildProcess>();
  private handlersInstalled = false;

  /** `undo` runs once, at the latest when the bench ends or is interrupted. */
  add(label: string, undo: () => void): void {
    this.steps.push({ label, undo });
  }

  /** A child started in its own process group: killed with its group if the bench is interrupted. */
  trackChild(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Runs every step, newest first, and returns what failed (each failure names its step). */
  runAll(): string[] {
    for (const child of this.children) {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.children.clear();
    const problems: string[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        step.undo();
      } catch (error) {
        problems.push(`${step.label}: ${(error as Error).message}`);
      }
    }
    return problems;
  }

  /** On a signal: undo everything, say what could not be undone, leave as killed by it. */
  installSignalHandlers(): void {
    if (this.handlersInstalled) return;
    this.handlersInstalled = true;
    const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
    for (const [signal, code] of Object.entries(codes) as [NodeJS.Signals, number][]) {
      process.on(signal, () => {
        process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
        for (const problem of this.runAll()) process.stderr.write(`bench: cleanup failed: ${problem}\n`);
        process.exit(code);
      });
    }
  }
}
