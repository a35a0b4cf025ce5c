// Every OCI session this process started and has not destroyed. When the process exits for any
// reason that lets JavaScript run (a failed test, an uncaught error), each is torn down
// synchronously, so an error in nsrig never leaves a container, a state root or a bundle behind.
export interface SyncTeardown {
  teardownNow(): void;
}

const live = new Set<SyncTeardown>();
let installed = false;

export function trackSession(session: SyncTeardown): void {
  if (!installed) {
    installed = true;
    process.on('exit', () => {
      for (const s of live) {
        try {
          s.teardownNow();
        } catch {
          // best effort while exiting; the others still get their turn
        }
      }
    });
  }
  live.add(session);
}

export function untrackSession(session: SyncTeardown): void {
  live.delete(session);
}
