// The network section: loopback, and an optional veth pair whose two ends share one IPv4 subnet.
import type { NamespaceType, NetworkConfig, VethConfig } from './types.js';
import { childPath, readBoolean, readObject, readString } from './field-reader.js';
import { requireNamespace } from './namespace-requirements.js';
import type { ProfileErrorList } from './profile-error.js';

export interface Ipv4Cidr {
  /** The address as a 32-bit unsigned number. */
  address: number;
  prefixLength: number;
}

/** "10.200.0.1/30" → its address and prefix; undefined unless it is exactly that form. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (match === null) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o, i) => o > 255 || (match[i + 1]!.length > 1 && match[i + 1]!.startsWith('0'))) || prefixLength > 32) {
    return undefined;
  }
  return { address: octets.reduce((a, o) => a * 256 + o, 0), prefixLength };
}

function networkOf(cidr: Ipv4Cidr): number {
  const hostBits = 32 - cidr.prefixLength;
  return Math.floor(cidr.address / 2 ** hostBits) * 2 ** hostBits;
}

/** Whether the address is the subnet's network or broadcast address, which no interface should hold. */
function isReserved(cidr: Ipv4Cidr): boolean {
  if (cidr.prefixLength >= 31) return false;
  const offset = cidr.address - networkOf(cidr);
  return offset === 0 || offset === 2 ** (32 - cidr.prefixLength) - 1;
}

const CIDR_EXPECTED = 'an IPv4 address with prefix length, such as "10.200.0.1/30"';

export function readNetwork(errs: ProfileErrorList, value: unknown, path: string,
  namespaces: readonly NamespaceType[]): NetworkConfig | undefined {
  if (value === undefined) return { loopback: namespaces.includes('net') };
  const fields = readObject(errs, value, path, ['loopback', 'veth']);
  const namespaceOk = requireNamespace(errs, namespaces, 'net', path, 'network');
  if (fields === undefined) return undefined;
  const loopback = fields.loopback === undefined ? true : readBoolean(errs, fields.loopback, childPath(path, 'loopback'));
  const veth = fields.veth === undefined ? undefined : readVeth(errs, fields.veth, childPath(path, 'veth'));
  if (!namespaceOk || loopback === undefined || (fields.veth !== undefined && veth === undefined)) return undefined;
  return veth === undefined ? { loopback } : { loopback, veth };
}

function readVeth(errs: ProfileErrorList, value: unknown, path: string): VethConfig | undefined {
  const fields = readObject(errs, value, path, ['hostAddress', 'containerAddress']);
  if (fields === undefined) return undefined;
  const host = readCidr(errs, fields.hostAddress, childPath(path, 'hostAddress'));
  const container = readCidr(errs, fields.containerAddress, childPath(path, 'containerAddress'));
  if (host === undefined || container === undefined) return undefined;
  const containerPath = childPath(path, 'containerAddress');
  if (container.cidr.prefixLength !== host.cidr.prefixLength || networkOf(container.cidr) !== networkOf(host.cidr)) {
    errs.add(containerPath, `an address in the host end's subnet (${fields.hostAddress as string})`, container.text);
    return undefined;
  }
  if (container.cidr.address === host.cidr.address) {
    errs.add(containerPath, 'an address other than the host end\'s', container.text);
    return undefined;
  }
  return { hostAddress: host.text, containerAddress: container.text };
}

function readCidr(errs: ProfileErrorList, value: unknown, path: string): { text: string; cidr: Ipv4Cidr } | undefined {
  const text = readString(errs, value, path, CIDR_EXPECTED);
  if (text === undefined) return undefined;
  const cidr = parseIpv4Cidr(text);
  if (cidr === undefined || cidr.prefixLength > 31 || isReserved(cidr)) {
    const why = cidr === undefined ? CIDR_EXPECTED : 'a host address (not the network or broadcast address) in a subnet of /31 or larger';
    errs.add(path, why, text);
    return undefined;
  }
  return { text, cidr };
}
