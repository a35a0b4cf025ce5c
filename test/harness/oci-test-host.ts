// What every test file that runs OCI runtimes sets up the same way: a private TMPDIR its bundles,
// state roots and fixtures land in, crun's host preparation held for the file's tests, and the
// teardown of both in the reverse order of their making.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareHostForCrun, undoHostPreparation, type HostPreparation } from '../../harness/targets/oci/crun-host-preparation.js';

export interface OciTestHostOptions {
  /** 0711 by default: the containers' root users are unprivileged host ids that must get through to their bundles; 0755 where they must list it too. */
  mode?: number;
  /** Hold crun's host preparation from before the first test to after the last. */
  crun?: boolean;
}

/**
 * This test file's host: a fresh directory that is its TMPDIR (every bundle and state root nsrig
 * writes lands in it, so "nothing left" means "it is empty"). Cleanups run after the last test, last
 * in first out, as Go's t.Cleanup: what was made later (fixtures mounted under the directory, the
 * crun preparation) goes before what it stands on, and the directory itself goes last.
 */
export class OciTestHost {
  private readonly cleanups: (() => unknown)[] = [];

  private constructor(readonly tmpdir: string) {}

  static create(name: string, options: OciTestHostOptions = {}): OciTestHost {
    const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), `nsrig-${name}-`));
    fs.chmodSync(tmpdir, options.mode ?? 0o711);
    process.env.TMPDIR = tmpdir;
    const host = new OciTestHost(tmpdir);
    host.defer(() => fs.rmSync(tmpdir, { recursive: true, force: true }));
    test.after.always(() => host.runCleanups());
    if (options.crun === true) {
      let preparation: HostPreparation | undefined;
      // A lease: where the host needs no preparation, or another holder made it, this changes nothing.
      test.before(() => {
        preparation = prepareHostForCrun();
      });
      host.defer(() => preparation !== undefined && undoHostPreparation(preparation));
    }
    return host;
  }

  /** Processes whose command line names the directory: runtimes, shims or containers a session left running. */
  processesUsingIt(): string[] {
    return fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.tmpdir);
      } catch {
        return false;
      }
    });
  }

  /** Runs `cleanup` after the file's tests, before every cleanup deferred earlier. */
  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  /** Every cleanup runs even when one throws; the first error is rethrown for ava to report. */
  private async runCleanups(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}
