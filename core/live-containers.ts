// Every container this process started and has not torn down. On exit, for any reason that lets
// JavaScript run, each is killed, so an error in nsrig never leaves a container behind.
import type { Container } from './container.js';

export const liveContainers = new Set<Container>();

let installed = false;

export function killLiveContainersOnExit(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const c of liveContainers) {
      try {
        c.killAll();
      } catch {
        // best effort while exiting
      }
    }
  });
}
