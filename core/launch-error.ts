// The error of a launch that did not reach the contained program, in a file of its own so the
// checks that run before anything is created (time-offsets.ts) can refine it without importing
// the launcher.
import type { Stage2Report } from './stage2-run.js';

/** A launch that did not reach the contained program: which setup step failed and why. */
export class LaunchError extends Error {
  readonly step: string;
  readonly detail: Stage2Report | undefined;
  constructor(message: string, step: string, detail?: Stage2Report) {
    super(message);
    this.name = 'LaunchError';
    this.step = step;
    this.detail = detail;
  }
}
