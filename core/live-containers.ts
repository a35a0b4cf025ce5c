// Every container this process started and has not torn down. On exit each is killed, so an error
// in nsrig never leaves a container behind.
import type { Container } from './container.js';
import { tearDownOnExit } from './exit-teardown.js';

export const liveContainers = new Set<Container>();

export function killLiveContainersOnExit(): void {
  tearDownOnExit(liveContainers, (c) => c.killAll());
}
