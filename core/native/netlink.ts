// rtnetlink (rtnetlink(7)): the only place nsrig builds or parses netlink messages. A RouteNetlink
// acts on the network namespace its socket was created in, whichever thread then uses it, so the
// main thread can configure the hub's namespace (core/network-hub.ts) without ever entering it.
// The kernel handles each request inside raw.send(), so its answer is already queued when raw.recv() runs.
import { raw, check, lastErrno } from './libc.js';
import { HandleStateError, InvalidArgumentError, KernelAnswerError, SyscallError } from './syscall-error.js';

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;

const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
/** The error answer echoes only the request's header, not its whole body. */
const NETLINK_CAP_ACK = 10;
/** The kernel adds its own words to an error ("Invalid argument" alone rarely says which one). */
const NETLINK_EXT_ACK = 11;

const NLMSG = { ERROR: 2, DONE: 3 } as const;
const NLM_F = { REQUEST: 0x1, ACK: 0x4, EXCL: 0x200, CREATE: 0x400, DUMP: 0x300, CAPPED: 0x100, ACK_TLVS: 0x200 } as const;
const NLMSGERR_ATTR_MSG = 1;
const RTM = { NEWLINK: 16, DELLINK: 17, GETLINK: 18, NEWADDR: 20, GETADDR: 22 } as const;
const RTM_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(RTM).map(([k, v]) => [v, `RTM_${k}`]));
const IFLA = { IFNAME: 3, LINKINFO: 18, NET_NS_PID: 19 } as const;
const IFLA_INFO = { KIND: 1, DATA: 2 } as const;
const VETH_INFO_PEER = 1;
const IFA = { ADDRESS: 1, LOCAL: 2, BROADCAST: 4 } as const;
export const IFF_UP = 0x1;
/** Operationally up: the kernel reports it once the link can carry traffic. */
export const IFF_RUNNING = 0x40;

const NLMSGHDR_SIZE = 16;
const IFINFOMSG_SIZE = 16;
const IFADDRMSG_SIZE = 8;
const RECEIVE_BUFFER = 65536;
const MSG_TRUNC = 0x20;
const EINTR = 4;
/** Answers are queued before raw.send() returns; waiting this long means something is badly wrong. */
const RECEIVE_TIMEOUT_SECONDS = 10;


export interface LinkInfo {
  index: number;
  name: string;
  /** IFF_* flags. */
  flags: number;
}

export interface Ipv4AddressInfo {
  /** Interface index. */
  index: number;
  /** Dotted quad, e.g. "10.200.0.1". */
  address: string;
  prefixLength: number;
}

export interface VethPairRequest {
  /** The end that stays in this socket's namespace. */
  name: string;
  /** Its interface index; the kernel picks one when absent. */
  index?: number;
  /** The other end's name, in the namespace of `peerNamespacePid`. */
  peerName: string;
  peerNamespacePid: number;
}

/** A netlink attribute: a payload, or nested attributes after an optional fixed header. */
interface Attribute {
  type: number;
  value: Buffer | { header?: Buffer; attributes: Attribute[] };
}

const align4 = (n: number) => (n + 3) & ~3;

function encodeAttributes(attributes: Attribute[]): Buffer {
  return Buffer.concat(attributes.map(({ type, value }) => {
    const payload = Buffer.isBuffer(value)
      ? value
      : Buffer.concat([value.header ?? Buffer.alloc(0), encodeAttributes(value.attributes)]);
    const attribute = Buffer.alloc(align4(4 + payload.length));
    attribute.writeUInt16LE(4 + payload.length, 0);
    attribute.writeUInt16LE(type, 2);
    payload.copy(attribute, 4);
    return attribute;
  }));
}

/** Attributes from `offset` to the end of `body`, by type (the last one wins, as in the kernel). */
function decodeAttributes(body: Buffer, offset: number): Map<number, Buffer> {
  const found = new Map<number, Buffer>();
  while (offset + 4 <= body.length) {
    const length = body.readUInt16LE(offset);
    if (length < 4 || offset + length > body.length) break;
    found.set(body.readUInt16LE(offset + 2) & 0x3fff, body.subarray(offset + 4, offset + length));
    offset += align4(length);
  }
  return found;
}

const cString = (s: string) => Buffer.from(`${s}\0`, 'utf8');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};

function ifinfomsg(fields: { index?: number; flags?: number; change?: number } = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_SIZE);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(fields.index ?? 0, 4);
  b.writeUInt32LE(fields.flags ?? 0, 8);
  b.writeUInt32LE(fields.change ?? 0, 12);
  return b;
}

function ifaddrmsg(fields: { prefixLength?: number; index?: number } = {}): Buffer {
  const b = Buffer.alloc(IFADDRMSG_SIZE);
  b.writeUInt8(AF_INET, 0);
  b.writeUInt8(fields.prefixLength ?? 0, 1);
  b.writeUInt32LE(fields.index ?? 0, 4);
  return b;
}

/** "10.200.0.1" → its four bytes in network order. */
function ipv4Bytes(address: string): Buffer {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new InvalidArgumentError(`not an IPv4 address: ${JSON.stringify(address)}; expected four numbers 0..255 joined by dots`);
  }
  return Buffer.from(octets);
}

function broadcastOf(address: Buffer, prefixLength: number): Buffer {
  const hostBits = prefixLength === 0 ? 0xffffffff : (1 << (32 - prefixLength)) - 1;
  const b = Buffer.alloc(4);
  b.writeUInt32BE((address.readUInt32BE(0) | hostBits) >>> 0);
  return b;
}

function linkFrom(message: Buffer): LinkInfo {
  const body = message.subarray(NLMSGHDR_SIZE);
  const name = decodeAttributes(body, IFINFOMSG_SIZE).get(IFLA.IFNAME);
  return { index: body.readInt32LE(4), name: name ? name.toString('utf8').replace(/\0+$/, '') : '', flags: body.readUInt32LE(8) };
}

/** An NLMSG_ERROR answer as the SyscallError it stands for, with the kernel's own words when it gave any. */
function errorFrom(message: Buffer, call: string, object: string): SyscallError {
  const errno = -message.readInt32LE(NLMSGHDR_SIZE);
  const flags = message.readUInt16LE(6);
  let hint: string | undefined;
  if (flags & NLM_F.ACK_TLVS) {
    const echoed = flags & NLM_F.CAPPED ? NLMSGHDR_SIZE : message.readUInt32LE(NLMSGHDR_SIZE + 4);
    const text = decodeAttributes(message, NLMSGHDR_SIZE + 4 + align4(echoed)).get(NLMSGERR_ATTR_MSG);
    if (text) hint = `the kernel says: ${text.toString('utf8').replace(/\0+$/, '')}`;
  }
  return new SyscallError(call, errno, object, hint);
}

/** A NETLINK_ROUTE socket and the requests nsrig makes with it. */
export class RouteNetlink {
  private sequence = 0;
  private closed = false;
  private inFlight = false;

  private constructor(readonly fd: number) {}

  /** A socket in the calling thread's network namespace. */
  static open(): RouteNetlink {
    const fd = check(raw.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number, 'socket', 'AF_NETLINK NETLINK_ROUTE');
    try {
      const on = u32(1);
      check(raw.setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, on, 4) as number, 'setsockopt', 'NETLINK_CAP_ACK');
      check(raw.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, on, 4) as number, 'setsockopt', 'NETLINK_EXT_ACK');
      const timeout = Buffer.alloc(16);
      timeout.writeBigInt64LE(BigInt(RECEIVE_TIMEOUT_SECONDS), 0);
      check(raw.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16) as number, 'setsockopt', 'SO_RCVTIMEO');
    } catch (e) {
      raw.close(fd);
      throw e;
    }
    return new RouteNetlink(fd);
  }

  /** A socket that open() made on another thread (its namespace is the one that thread was in). */
  static adopt(fd: number): RouteNetlink {
    return new RouteNetlink(fd);
  }

  /** Closes the socket; wait for a deleteLinkInBackground first, or its pool thread writes to a closed descriptor. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    raw.close(this.fd);
  }

  /** Every link of the namespace (RTM_GETLINK dump). */
  links(): LinkInfo[] {
    return this.dump(RTM.GETLINK, ifinfomsg(), 'links').map(linkFrom);
  }

  link(index: number): LinkInfo {
    const [answer] = this.transact(RTM.GETLINK, NLM_F.ACK, ifinfomsg({ index }), [], `interface ${index}`);
    if (!answer) throw new KernelAnswerError(`netlink RTM_GETLINK interface ${index}: the kernel acknowledged without describing the link`);
    return linkFrom(answer);
  }

  /** The index of the link called `name`; throws SyscallError ENODEV when there is none. */
  linkIndex(name: string): number {
    const link = this.links().find((l) => l.name === name);
    if (!link) throw new SyscallError('netlink RTM_GETLINK', 19 /* ENODEV */, name, 'no such interface in this network namespace');
    return link.index;
  }

  /** Every IPv4 address of the namespace (RTM_GETADDR dump). */
  ipv4Addresses(): Ipv4AddressInfo[] {
    return this.dump(RTM.GETADDR, ifaddrmsg(), 'IPv4 addresses').flatMap((m) => {
      const body = m.subarray(NLMSGHDR_SIZE);
      if (body.readUInt8(0) !== AF_INET) return [];
      const attributes = decodeAttributes(body, IFADDRMSG_SIZE);
      const local = attributes.get(IFA.LOCAL) ?? attributes.get(IFA.ADDRESS);
      if (!local || local.length !== 4) return [];
      return [{ index: body.readUInt32LE(4), address: [...local].join('.'), prefixLength: body.readUInt8(1) }];
    });
  }

  /** A veth pair: `name` here, `peerName` created directly in the network namespace of a process. */
  createVethPair(pair: VethPairRequest): void {
    const peer: Attribute[] = [
      { type: IFLA.IFNAME, value: cString(pair.peerName) },
      { type: IFLA.NET_NS_PID, value: u32(pair.peerNamespacePid) },
    ];
    this.acknowledged(RTM.NEWLINK, NLM_F.CREATE | NLM_F.EXCL, ifinfomsg({ index: pair.index }), [
      { type: IFLA.IFNAME, value: cString(pair.name) },
      { type: IFLA.LINKINFO, value: { attributes: [
        { type: IFLA_INFO.KIND, value: cString('veth') },
        { type: IFLA_INFO.DATA, value: { attributes: [{ type: VETH_INFO_PEER, value: { header: ifinfomsg(), attributes: peer } }] } },
      ] } },
    ], `veth ${pair.name} (peer ${pair.peerName} in the network namespace of pid ${pair.peerNamespacePid})`);
  }

  /** Adds an IPv4 address with its prefix length; the broadcast address is derived as ifconfig would. */
  addIpv4Address(index: number, address: string, prefixLength: number): void {
    const local = ipv4Bytes(address);
    const attributes: Attribute[] = [{ type: IFA.LOCAL, value: local }, { type: IFA.ADDRESS, value: local }];
    if (prefixLength < 31) attributes.push({ type: IFA.BROADCAST, value: broadcastOf(local, prefixLength) });
    this.acknowledged(RTM.NEWADDR, NLM_F.CREATE | NLM_F.EXCL, ifaddrmsg({ prefixLength, index }), attributes,
      `${address}/${prefixLength} on interface ${index}`);
  }

  setLinkUp(index: number): void {
    this.acknowledged(RTM.NEWLINK, 0, ifinfomsg({ index, flags: IFF_UP, change: IFF_UP }), [], `interface ${index} up`);
  }

  /**
   * Returns once the link reports IFF_RUNNING. The kernel sets the operational state from a work
   * queue, shortly after the link was brought up; a program started before then sees it down.
   */
  waitUntilRunning(index: number, timeoutMs: number): void {
    const deadline = Date.now() + timeoutMs;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      const link = this.link(index);
      if (link.flags & IFF_RUNNING) return;
      if (Date.now() > deadline) {
        throw new KernelAnswerError(`interface ${link.name} was brought up but the kernel did not report it running within ${timeoutMs} ms (flags 0x${link.flags.toString(16)})`);
      }
      Atomics.wait(pause, 0, 0, 1);
    }
  }

  /** Deletes a link by name (a veth end takes its peer with it); false when there was no such link. */
  deleteLink(name: string): boolean {
    try {
      this.acknowledged(RTM.DELLINK, 0, ifinfomsg(), [{ type: IFLA.IFNAME, value: cString(name) }], name);
      return true;
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ENODEV') return false;
      throw e;
    }
  }

  /**
   * deleteLink with the kernel's share on a libuv pool thread instead of this one: rtnetlink does
   * the work inside raw.send(), and unregistering a device waits for RCU grace periods (15 ms and more
   * measured here). The socket takes no other request until the promise settles.
   */
  deleteLinkInBackground(name: string): Promise<boolean> {
    const { request, seq, call } = this.encode(RTM.DELLINK, NLM_F.ACK, ifinfomsg(), [{ type: IFLA.IFNAME, value: cString(name) }], name);
    this.inFlight = true;
    return new Promise((resolve, reject) => {
      raw.send.async(this.fd, request, request.length, 0, (error: unknown, sent: number | bigint) => {
        this.inFlight = false;
        try {
          if (error) throw error;
          // errno belongs to the pool thread that made the call, so only the fact of failure is known here.
          if (Number(sent) !== request.length) throw new SyscallError(call, 5 /* EIO */, `${name}: send`);
          this.collect(seq, call, name);
          resolve(true);
        } catch (e) {
          if (e instanceof SyscallError && e.code === 'ENODEV') resolve(false);
          else reject(e);
        }
      });
    });
  }

  private encode(type: number, flags: number, body: Buffer, attributes: Attribute[], object: string): { request: Buffer; seq: number; call: string } {
    if (this.closed) throw new HandleStateError(`netlink ${RTM_NAMES[type]} ${object}: the socket is closed`);
    if (this.inFlight) throw new HandleStateError(`netlink ${RTM_NAMES[type]} ${object}: another request is still in flight on this socket`);
    const seq = ++this.sequence;
    const request = Buffer.concat([Buffer.alloc(NLMSGHDR_SIZE), body, encodeAttributes(attributes)]);
    request.writeUInt32LE(request.length, 0);
    request.writeUInt16LE(type, 4);
    request.writeUInt16LE(NLM_F.REQUEST | flags, 6);
    request.writeUInt32LE(seq, 8);
    return { request, seq, call: `netlink ${RTM_NAMES[type]}` };
  }

  /** Sends one request and returns the messages answering it, up to its ACK or NLMSG_DONE. */
  private transact(type: number, flags: number, body: Buffer, attributes: Attribute[], object: string): Buffer[] {
    const { request, seq, call } = this.encode(type, flags, body, attributes, object);
    const sent = Number(raw.send(this.fd, request, request.length, 0));
    if (sent !== request.length) throw new SyscallError(call, sent === -1 ? lastErrno() : 5 /* EIO */, `${object}: send`);
    return this.collect(seq, call, object);
  }

  /** Reads the answers to request `seq`, which the kernel queued before raw.send() returned. */
  private collect(seq: number, call: string, object: string): Buffer[] {
    const answers: Buffer[] = [];
    const buffer = Buffer.alloc(RECEIVE_BUFFER);
    for (;;) {
      const n = Number(raw.recv(this.fd, buffer, buffer.length, MSG_TRUNC));
      if (n === -1) {
        if (lastErrno() === EINTR) continue;
        throw new SyscallError(call, lastErrno(), `${object}: recv`);
      }
      if (n > buffer.length) throw new KernelAnswerError(`${call} ${object}: an answer of ${n} bytes did not fit in ${buffer.length}`);
      for (let offset = 0; offset + NLMSGHDR_SIZE <= n;) {
        const length = buffer.readUInt32LE(offset);
        if (length < NLMSGHDR_SIZE || offset + length > n) throw new KernelAnswerError(`${call} ${object}: malformed answer`);
        const message = Buffer.from(buffer.subarray(offset, offset + length));
        offset += align4(length);
        // A late answer to an earlier request that failed on our side is not this one's.
        if (message.readUInt32LE(8) !== seq) continue;
        const kind = message.readUInt16LE(4);
        if (kind === NLMSG.ERROR) {
          if (message.readInt32LE(NLMSGHDR_SIZE) !== 0) throw errorFrom(message, call, object);
          return answers;
        }
        if (kind === NLMSG.DONE) {
          const status = length >= NLMSGHDR_SIZE + 4 ? message.readInt32LE(NLMSGHDR_SIZE) : 0;
          if (status < 0) throw new SyscallError(call, -status, object);
          return answers;
        }
        answers.push(message);
      }
    }
  }

  private acknowledged(type: number, flags: number, body: Buffer, attributes: Attribute[], object: string): void {
    this.transact(type, NLM_F.ACK | flags, body, attributes, object);
  }

  private dump(type: number, body: Buffer, object: string): Buffer[] {
    return this.transact(type, NLM_F.DUMP, body, [], object);
  }
}
