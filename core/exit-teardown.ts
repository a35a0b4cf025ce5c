// What this process started and has not torn down yet is torn down when it exits, for any reason
// that lets JavaScript run (a failed test, an uncaught error, process.exit after Ctrl-C), so an
// error in nsrig never leaves a container, a state root or a bundle behind. Only synchronous work
// can run then.

const watched = new WeakSet<Set<unknown>>();

/** On exit, tears down each member still in `live` (one exit hook per set, however often called). */
export function tearDownOnExit<T>(live: Set<T>, tearDown: (item: T) => void): void {
  if (watched.has(live)) return;
  watched.add(live);
  process.on('exit', () => {
    for (const item of live) {
      try {
        tearDown(item);
      } catch {
        // best effort while exiting; the others still get their turn
      }
    }
  });
}
