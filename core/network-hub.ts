// The network namespace nsrig owns, the "hub": the host end of every container's veth pair lives
// here and never in the host's namespace, so a container with a network changes none of the host's
// interfaces, addresses or routes. One hub per nsrig process, made on the first veth launch by a
// worker thread (network-hub-worker.ts); it lasts until closeNetworkHub() or the process's exit
// closes its descriptors, and the kernel then deletes it with every host end still in it.
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import { parseIpv4Cidr, type Ipv4Cidr } from '../policy/profile/network.js';
import { RouteNetlink, type Ipv4AddressInfo, type LinkInfo } from './native/netlink.js';
import { closeFd } from './native/process.js';
import { HandleStateError, InvalidArgumentError, SyscallError } from './native/syscall-error.js';
import type { FromHubWorker } from './network-hub-worker.js';

const WORKER = new URL('./network-hub-worker.js', import.meta.url);
/** Host ends are "nsv" and 8 hex digits: within IFNAMSIZ, and recognisable wherever one turns up. */
export const HOST_END_PREFIX = 'nsv';
/**
 * Host ends take interface indices from here up, beyond any a fresh container namespace reaches.
 * The kernel treats a link change on a veth end whose index equals its peer's (in another
 * namespace) as not urgent and may report it up to a second late: eth0 would stay
 * operationally down that long after it was brought up.
 */
const HOST_END_FIRST_INDEX = 10_000;

/** A veth pair between a container and the hub; remove() deletes both ends and resolves once they are gone. */
export interface VethAttachment {
  /** The host end's name in the hub. */
  readonly hostInterface: string;
  /** CIDR of the host end, as the profile gave it. */
  readonly hostAddress: string;
  remove(): Promise<void>;
}

export interface VethRequest {
  /** A process in the container's network namespace (its first process, not yet reaped). */
  pid: number;
  /** The container end's name, created directly in the container's namespace. */
  peerName: string;
  /** CIDR of the host end, e.g. "10.200.0.1/30". */
  hostAddress: string;
}

/** Two running containers asked for overlapping subnets: replies in the hub would go to the wrong one. */
export class VethSubnetConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VethSubnetConflictError';
  }
}

function subnetsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  const size = 2 ** (32 - Math.min(a.prefixLength, b.prefixLength));
  return Math.floor(a.address / size) === Math.floor(b.address / size);
}

export class NetworkHub {
  private closed = false;
  private nextIndex = HOST_END_FIRST_INDEX;
  /** Deletions, one after another on their own socket; close() waits for them. */
  private teardowns: Promise<unknown> = Promise.resolve();

  private constructor(
    /** An open handle on the hub's namespace: setns(namespaceFd, CLONE_NEWNET) from a thread enters it. */
    readonly namespaceFd: number,
    private readonly route: RouteNetlink,
    private readonly teardown: RouteNetlink,
  ) {}

  static create(): Promise<NetworkHub> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER);
      let reply: FromHubWorker | undefined;
      worker.once('message', (m: FromHubWorker) => (reply = m));
      worker.once('error', (e) => reject(new Error(`the network hub's thread failed: ${e.message}`)));
      // Settled once the thread is gone, so no half-made thread exists when the caller clones.
      worker.once('exit', (code) => {
        if (reply?.kind === 'ready') {
          resolve(new NetworkHub(reply.namespaceFd, RouteNetlink.adopt(reply.routeFd), RouteNetlink.adopt(reply.teardownFd)));
        }
        else if (reply?.kind === 'failed' && reply.errno !== undefined) reject(new SyscallError(reply.call!, reply.errno, reply.object, 'creating the network hub'));
        else reject(new Error(`the network hub was not created: ${reply?.kind === 'failed' ? reply.message : `its thread ended (exit code ${code}) without a word`}`));
      });
    });
  }

  /** The hub's links (lo and the host end of every live veth pair). */
  links(): LinkInfo[] {
    return this.route.links();
  }

  ipv4Addresses(): Ipv4AddressInfo[] {
    return this.route.ipv4Addresses();
  }

  /**
   * Creates a veth pair with its host end in the hub, addressed and up, and its other end in the
   * container's network namespace, where the container configures it. Throws
   * VethSubnetConflictError when a running container's pair already uses an overlapping subnet.
   */
  attachVeth(request: VethRequest): VethAttachment {
    if (this.closed) throw new HandleStateError('the network hub is closed');
    const host = parseIpv4Cidr(request.hostAddress);
    if (host === undefined) throw new InvalidArgumentError(`network.veth.hostAddress: not an IPv4 CIDR: ${JSON.stringify(request.hostAddress)}`);
    const names = new Map(this.route.links().map((l) => [l.index, l.name]));
    for (const held of this.route.ipv4Addresses()) {
      if (!subnetsOverlap(host, parseIpv4Cidr(`${held.address}/${held.prefixLength}`)!)) continue;
      throw new VethSubnetConflictError(`network.veth.hostAddress: ${request.hostAddress} overlaps ${held.address}/${held.prefixLength}, `
        + `held by ${names.get(held.index) ?? `interface ${held.index}`}, the host end of another running container of this nsrig process; `
        + 'containers that run at the same time need distinct veth subnets');
    }
    const name = `${HOST_END_PREFIX}${randomBytes(4).toString('hex')}`;
    while (names.has(this.nextIndex)) this.nextIndex++;
    const index = this.nextIndex++;
    this.route.createVethPair({ name, index, peerName: request.peerName, peerNamespacePid: request.pid });
    try {
      this.route.addIpv4Address(index, request.hostAddress.split('/')[0]!, host.prefixLength);
      this.route.setLinkUp(index);
    } catch (e) {
      this.route.deleteLink(name);
      throw e;
    }
    let removed: Promise<void> | undefined;
    return {
      hostInterface: name,
      hostAddress: request.hostAddress,
      remove: () => {
        removed ??= this.removeHostEnd(name);
        return removed;
      },
    };
  }

  private removeHostEnd(name: string): Promise<void> {
    // After close() the namespace, and this pair with it, is already gone.
    if (this.closed) return Promise.resolve();
    const done = this.teardowns.then(() => this.teardown.deleteLinkInBackground(name)).then(() => undefined);
    this.teardowns = done.catch(() => undefined);
    return done;
  }

  /** Closes the hub once pending deletions are done; the kernel then deletes its namespace. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.teardowns;
    this.route.close();
    this.teardown.close();
    closeFd(this.namespaceFd);
  }
}

let shared: Promise<NetworkHub> | undefined;

/** This process's hub, created on first use. */
export function networkHub(): Promise<NetworkHub> {
  if (!shared) {
    const creating = NetworkHub.create();
    shared = creating;
    // A failed creation is not remembered: the next launch tries again.
    creating.catch(() => {
      if (shared === creating) shared = undefined;
    });
  }
  return shared;
}

/** Closes the hub if there is one; its namespace, and any veth pair left in it, go with it. */
export async function closeNetworkHub(): Promise<void> {
  const hub = shared;
  shared = undefined;
  await (await hub?.catch(() => undefined))?.close();
}
