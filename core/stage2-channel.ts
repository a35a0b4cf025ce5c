// The parent's end of the two pipes to stage 2 once it is released: the control pipe carries the
// step list (ended by a newline) and then one byte per pause to resume it; the report pipe brings
// back one JSON line per event (paused at a point, about to exec, failed). Only the time spent
// waiting on stage 2 counts against the setup deadline: the parent's own hooks have their own
// timeouts, and a create-start caller may hold the created container as long as it likes.
import net from 'node:net';
import type { Stage2Report } from './stage2-run.js';

export class Stage2Channel {
  private readonly reports: net.Socket;
  private readonly control: net.Socket;
  private readonly queue: Stage2Report[] = [];
  private partial = '';
  private ended = false;
  private wake: (() => void) | undefined;
  private spentMs = 0;
  /** Set once the waiting budget ran out (onTimeout was called). */
  timedOut = false;

  /** Takes over both descriptors: close() closes them. */
  constructor(reportFd: number, controlFd: number, private readonly budgetMs: number, private readonly onTimeout: () => void) {
    this.reports = new net.Socket({ fd: reportFd, readable: true, writable: false });
    this.control = new net.Socket({ fd: controlFd, readable: false, writable: true });
    // Stage 2 gone before it read its resume: its end of file on reports tells the story.
    this.control.on('error', () => {});
    this.reports.on('data', (chunk: Buffer) => {
      const lines = (this.partial + chunk.toString('utf8')).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) if (line !== '') this.queue.push(JSON.parse(line) as Stage2Report);
      this.wake?.();
    });
    const end = () => {
      this.ended = true;
      this.wake?.();
    };
    this.reports.on('end', end);
    this.reports.on('close', end);
    this.reports.on('error', end);
  }

  /** Writes text on the control pipe, keeping it open. */
  send(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.control.write(text, (e) => (e ? reject(e) : resolve()));
    });
  }

  /** The byte that lets stage 2 go on from a pause. */
  resume(): Promise<void> {
    return this.send('R');
  }

  /** Stage 2's next report, or undefined once its report pipe has ended (it exec'd, or died). */
  async next(): Promise<Stage2Report | undefined> {
    while (this.queue.length === 0 && !this.ended) {
      const started = Date.now();
      const timer = setTimeout(() => {
        this.timedOut = true;
        this.onTimeout();
      }, Math.max(0, this.budgetMs - this.spentMs));
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
      clearTimeout(timer);
      this.spentMs += Date.now() - started;
    }
    return this.queue.shift();
  }

  close(): void {
    this.reports.destroy();
    this.control.destroy();
  }
}
