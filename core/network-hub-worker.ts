// The hub's birth, on a thread of its own: unshare(CLONE_NEWNET) moves only the calling thread,
// so this thread alone enters a new network namespace while Node's main thread and libuv's pool
// stay in the host's. It opens what the main thread needs to act in that namespace — a handle on
// the namespace and two NETLINK_ROUTE sockets, all bound to it for as long as they are open, from
// any thread — posts their numbers (one descriptor table for the whole process) and ends.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { CLONE } from '../policy/kernel/clone-flags.js';
import { openNamespace, unshare } from './native/system.js';
import { RouteNetlink } from './native/netlink.js';
import { closeFd } from './native/process.js';
import { SyscallError } from './native/syscall-error.js';

export type FromHubWorker =
  | { kind: 'ready'; namespaceFd: number; routeFd: number; teardownFd: number }
  | { kind: 'failed'; message: string; call?: string; errno?: number; object?: string };

/** Writes a sysctl of this thread's network namespace: /proc/sys/net follows the calling thread. */
function setNetSysctl(name: string, value: string): void {
  const file = `/proc/sys/net/${name}`;
  if (name.startsWith('ipv6/') && !fs.existsSync('/proc/sys/net/ipv6')) return;
  fs.writeFileSync(file, value);
}

function createHub(): FromHubWorker {
  unshare(CLONE.NEWNET, 'CLONE_NEWNET');
  // Close-on-exec, so no container ever inherits this handle on the hub.
  const namespaceFd = openNamespace('/proc/thread-self/ns/net');
  try {
    // A new namespace copies the host's IPv4 forwarding setting; the hub must never route one
    // container's traffic to another's, whatever the host does.
    setNetSysctl('ipv4/ip_forward', '0');
    // IPv6 would give every host end a link-local address the container could reach unasked.
    setNetSysctl('ipv6/conf/all/disable_ipv6', '1');
    setNetSysctl('ipv6/conf/default/disable_ipv6', '1');
    const route = RouteNetlink.open();
    try {
      // A second socket, so deletions in the background never share one with other requests.
      return { kind: 'ready', namespaceFd, routeFd: route.fd, teardownFd: RouteNetlink.open().fd };
    } catch (e) {
      route.close();
      throw e;
    }
  } catch (e) {
    closeFd(namespaceFd);
    throw e;
  }
}

let reply: FromHubWorker;
try {
  reply = createHub();
} catch (e) {
  reply = e instanceof SyscallError
    ? { kind: 'failed', message: e.message, call: e.call, errno: e.errno, object: e.object }
    : { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(reply);
