// Every OCI session this process started and has not destroyed: torn down synchronously on exit,
// with its container, state root and bundle.
import { tearDownOnExit } from '../../../core/exit-teardown.js';

export interface SyncTeardown {
  teardownNow(): void;
}

const live = new Set<SyncTeardown>();

export function trackSession(session: SyncTeardown): void {
  tearDownOnExit(live, (s) => s.teardownNow());
  live.add(session);
}

export function untrackSession(session: SyncTeardown): void {
  live.delete(session);
}
