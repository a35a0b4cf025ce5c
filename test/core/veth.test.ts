// network.veth on the built-in engine: a veth pair between the container (eth0) and the network
// hub, the namespace nsrig owns. Seen from inside (interfaces, flags, addresses, a TCP connection
// to a listener in the hub), from the hub (its links and addresses), and from the host, whose own
// interfaces, addresses and routes must never change.
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import { compilePlan } from '../../core/plan.js';
import { setupSteps } from '../../core/setup-steps.js';
import { closeNetworkHub, networkHub, HOST_END_PREFIX, VethSubnetConflictError, type NetworkHub } from '../../core/network-hub.js';
import { RouteNetlink, IFF_RUNNING, IFF_UP } from '../../core/native/netlink.js';
import { SyscallError } from '../../core/native/syscall-error.js';
import { launchContainer, type Container } from '../../core/container.js';
import { run, profileOf, assertNoLeftovers } from './container-run.js';
import { HubTcpListener, GREETING } from './hub-tcp-listener.js';
import { DEFAULT_CAPABILITIES } from '../../policy/profile/types.js';

test.afterEach.always(assertNoLeftovers);
test.after.always(closeNetworkHub);

const PORT = 7070;

function vethDoc(host: string, container: string, args: string[] = ['/bin/true']): Record<string, unknown> {
  return { network: { veth: { hostAddress: host, containerAddress: container } }, process: { args } };
}

/** Everything of the host's network a leak would show in: interface names, addresses, routes. */
function hostNetwork(): Record<string, unknown> {
  return {
    sysClassNet: fs.readdirSync('/sys/class/net').sort(),
    procNetDev: fs.readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter(Boolean).map((l) => l.split(':')[0]!.trim()).sort(),
    addresses: Object.entries(os.networkInterfaces()).map(([name, list]) => [name, (list ?? []).map((a) => a.cidr)]),
    routes: fs.readFileSync('/proc/net/route', 'utf8'),
  };
}

const hostEnds = (hub: NetworkHub) => hub.links().filter((l) => l.name.startsWith(HOST_END_PREFIX));

/**
 * The contained program: lists its interfaces (/proc/net/dev, sysfs flags and operstate, IPv4
 * addresses), connects to HOST:PORT and reads the greeting, prints one JSON line, then holds
 * until stdin closes.
 */
function insideProgram(host: string): string[] {
  const script = `
    const fs = require('fs'), os = require('os'), net = require('net');
    const names = fs.readFileSync('/proc/net/dev', 'utf8').split('\\n').slice(2).filter(Boolean).map((l) => l.split(':')[0].trim()).sort();
    const links = names.map((name) => ({ name, flags: Number(fs.readFileSync('/sys/class/net/' + name + '/flags', 'utf8')),
      operstate: fs.readFileSync('/sys/class/net/' + name + '/operstate', 'utf8').trim() }));
    const ipv4 = Object.fromEntries(Object.entries(os.networkInterfaces()).map(([n, list]) => [n, list.filter((a) => a.family === 'IPv4').map((a) => a.cidr)]));
    const report = (extra) => {
      console.log(JSON.stringify({ links, ipv4, ...extra }));
      process.stdin.resume();
    };
    let greeting = '';
    const socket = net.connect(${PORT}, ${JSON.stringify(host)});
    socket.setTimeout(10000, () => socket.destroy(new Error('no answer in 10 s')));
    socket.on('data', (d) => { greeting += d; });
    socket.on('end', () => report({ greeting }));
    socket.on('error', (e) => report({ error: e.code || e.message }));`;
  return [process.execPath, '-e', script];
}

interface Inside {
  links: { name: string; flags: number; operstate: string }[];
  ipv4: Record<string, string[]>;
  greeting?: string;
  error?: string;
}

const parseInside = (stdout: string) => JSON.parse(stdout.split('\n').find((l) => l.startsWith('{'))!) as Inside;

/** Descriptors of a process that would give it a way into the hub: the hub's namespace or any socket of ours. */
function hubHandlesHeldBy(pid: number, hub: NetworkHub): string[] {
  const links = (dir: string) => fs.readdirSync(dir).flatMap((fd) => {
    try {
      return [fs.readlinkSync(`${dir}/${fd}`)];
    } catch {
      return [];
    }
  });
  const ours = new Set(links('/proc/self/fd').filter((l) => l.startsWith('socket:')));
  ours.add(fs.readlinkSync(`/proc/self/fd/${hub.namespaceFd}`));
  return links(`/proc/${pid}/fd`).filter((l) => ours.has(l));
}

test.serial('a container with veth sees lo and eth0 up, eth0 with its address, and reaches a TCP listener in the hub; the host is untouched', async (t) => {
  const hostBefore = hostNetwork();
  const hub = await networkHub();
  // A fresh namespace's own interfaces (lo, and any fallback tunnel the host's modules add):
  // the hub is one, so the container must show exactly these plus eth0.
  const freshNamespace = hub.links().map((l) => l.name).filter((n) => !n.startsWith(HOST_END_PREFIX));
  const listener = await HubTcpListener.start(hub.namespaceFd, PORT);
  try {
    const { exit, stdout, outside, container } = await run(vethDoc('10.201.0.1/30', '10.201.0.2/30'), {
      args: insideProgram('10.201.0.1'),
      outside: (c) => ({
        hostDuring: hostNetwork(),
        hostEnd: hub.links().find((l) => l.name === c.veth?.hostInterface),
        hubAddresses: hub.ipv4Addresses(),
        handles: hubHandlesHeldBy(c.pid, hub),
      }),
    });
    t.is(exit.code, 0);
    const inside = parseInside(stdout);
    t.deepEqual(inside.links.map((l) => l.name), [...freshNamespace, 'eth0'].sort());
    for (const name of ['lo', 'eth0']) t.truthy(inside.links.find((l) => l.name === name)!.flags & IFF_UP, `${name} is not up`);
    t.is(inside.links.find((l) => l.name === 'eth0')!.operstate, 'up', 'eth0 is up but not operational when the program starts');
    t.deepEqual(inside.ipv4.eth0, ['10.201.0.2/30']);
    t.deepEqual(inside.ipv4.lo, ['127.0.0.1/8']);
    t.is(inside.error, undefined);
    t.is(inside.greeting, `${GREETING} 10.201.0.1\n`);

    t.truthy(outside.hostEnd, 'the host end is not in the hub while the container runs');
    t.is(outside.hostEnd!.flags & (IFF_UP | IFF_RUNNING), IFF_UP | IFF_RUNNING);
    t.deepEqual(outside.hubAddresses.filter((a) => a.index === outside.hostEnd!.index), [{ index: outside.hostEnd!.index, address: '10.201.0.1', prefixLength: 30 }]);
    t.deepEqual(outside.handles, [], 'the container holds a descriptor of the hub');
    t.deepEqual(outside.hostDuring, hostBefore, 'the host\'s network changed while the container ran');
    t.is(container.state, 'destroyed');
  } finally {
    await listener.stop();
  }
  t.deepEqual(listener.connections, ['10.201.0.2 -> 10.201.0.1']);
  t.deepEqual(hostEnds(hub), [], 'a host end is left in the hub after destroy');
  t.deepEqual(hub.ipv4Addresses(), []);
  t.deepEqual(hostNetwork(), hostBefore, 'the host\'s network changed');
});

test.serial('two containers with veth at once, in different subnets, each reach the hub at its own host address', async (t) => {
  const hostBefore = hostNetwork();
  const hub = await networkHub();
  const subnets = [['10.202.0.1', '10.202.0.2'], ['10.203.0.1', '10.203.0.2']] as const;
  const listener = await HubTcpListener.start(hub.namespaceFd, PORT);
  try {
    let bothRunning!: () => void;
    const rendezvous = new Promise<void>((resolve) => (bothRunning = resolve));
    let held = 0;
    const runs = await Promise.all(subnets.map(([host, container]) => run(vethDoc(`${host}/24`, `${container}/24`), {
      args: insideProgram(host),
      // Each waits for the other, so both pairs exist at the same time.
      outside: async () => {
        if (++held === 2) bothRunning();
        await rendezvous;
        return hostEnds(hub).length;
      },
    })));
    runs.forEach((r, i) => {
      const inside = parseInside(r.stdout);
      t.is(r.exit.code, 0);
      t.is(r.outside, 2, 'both host ends are in the hub while both containers run');
      t.deepEqual(inside.ipv4.eth0, [`${subnets[i][1]}/24`]);
      t.is(inside.greeting, `${GREETING} ${subnets[i][0]}\n`);
    });
  } finally {
    await listener.stop();
  }
  t.deepEqual(listener.connections.sort(), ['10.202.0.2 -> 10.202.0.1', '10.203.0.2 -> 10.203.0.1']);
  t.deepEqual(hostEnds(hub), []);
  t.deepEqual(hostNetwork(), hostBefore);
});

/** Resolves with the first line a stream prints. */
function firstLine(container: Container): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    container.stdout!.setEncoding('utf8');
    container.stdout!.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
    container.stdout!.on('end', () => reject(new Error(`the program ended without a line: ${JSON.stringify(text)}`)));
  });
}

test.serial('the hub routes nothing between containers, even when both route everything through it', async (t) => {
  const hub = await networkHub();
  const listener = await HubTcpListener.start(hub.namespaceFd, PORT);
  // Both may change their own routes; each sends everything to its host end.
  const routedDoc = (host: string, container: string) => ({
    network: { veth: { hostAddress: `${host}/24`, containerAddress: `${container}/24` } },
    process: { args: ['/bin/true'], capabilities: [...DEFAULT_CAPABILITIES, 'CAP_NET_ADMIN'] },
  });
  const routedProgram = (host: string, program: string) => ['/bin/sh', '-c', `/usr/sbin/ip route add default via ${host} && exec ${process.execPath} -e "${program}"`];
  const serve = `require('net').createServer((s) => s.end('from B')).listen(7071, () => console.log('listening'))`;
  const server = await launchContainer(profileOf(routedDoc('10.207.0.1', '10.207.0.2')), {
    stdio: 'pipe', stdin: 'null', args: routedProgram('10.207.0.1', serve),
  });
  try {
    t.is(await firstLine(server), 'listening');
    const connect = (to: string, port: number) => `{ const s = require('net').connect(${port}, '${to}'); let d = '';`
      + ` s.setTimeout(1000, () => s.destroy(new Error('no answer'))); s.on('data', (c) => d += c);`
      + ` s.on('end', () => console.log('${to} ' + d.trim())); s.on('error', (e) => console.log('${to} ' + (e.code || e.message))); }`;
    // Past its own subnet: the hub's other address (its own, delivered locally), then container B.
    const { stdout, stderr, exit } = await run(routedDoc('10.206.0.1', '10.206.0.2'), {
      args: routedProgram('10.206.0.1', `${connect('10.207.0.1', PORT)} ${connect('10.207.0.2', 7071)}`),
    });
    t.is(exit.code, 0, stderr);
    const lines = Object.fromEntries(stdout.trim().split('\n').map((l) => [l.split(' ')[0], l.split(' ').slice(1).join(' ')]));
    t.is(lines['10.207.0.1'], `${GREETING} 10.207.0.1`, 'the route through the hub does not work at all, so the next check would prove nothing');
    t.not(lines['10.207.0.2'], 'from B', 'container A reached container B through the hub');
    t.regex(lines['10.207.0.2'] ?? '', /^(EHOSTUNREACH|ENETUNREACH|no answer)$/);
  } finally {
    await server.destroy();
    await listener.stop();
  }
  t.deepEqual(hostEnds(hub), []);
});

test.serial('a second running container asking for an overlapping subnet is refused, and the first keeps its pair', async (t) => {
  const hub = await networkHub();
  const first = await launchContainer(profileOf(vethDoc('10.204.0.1/24', '10.204.0.2/24', ['/bin/sleep', '60'])), { stdio: 'pipe', stdin: 'null' });
  let second: Container | undefined;
  try {
    const error = await t.throwsAsync(async () => {
      second = await launchContainer(profileOf(vethDoc('10.204.0.129/25', '10.204.0.130/25')), { stdio: 'pipe', stdin: 'null' });
    }, { instanceOf: VethSubnetConflictError });
    t.regex(error!.message, /^network\.veth\.hostAddress: 10\.204\.0\.129\/25 overlaps 10\.204\.0\.1\/24, held by nsv[0-9a-f]{8}, the host end of another running container/);
    t.deepEqual(hostEnds(hub).map((l) => l.name), [first.veth!.hostInterface]);
  } finally {
    await second?.destroy();
    await first.destroy();
  }
  t.deepEqual(hostEnds(hub), []);
});

test.serial('netlink errors name the request and the errno: a peer namespace of a process that does not exist', async (t) => {
  const hub = await networkHub();
  const error = t.throws(() => hub.attachVeth({ pid: 0x3fffffff, peerName: 'eth0', hostAddress: '10.205.0.1/30' }), { instanceOf: SyscallError });
  t.is(error!.call, 'netlink RTM_NEWLINK');
  t.is(error!.code, 'ESRCH');
  t.regex(error!.message, /^netlink RTM_NEWLINK veth nsv[0-9a-f]{8} \(peer eth0 in the network namespace of pid 1073741823\): ESRCH/);
  t.deepEqual(hostEnds(hub), []);
});

test.serial('the link and address dumps agree with the kernel\'s other views (read from the host\'s namespace, changing nothing)', (t) => {
  const route = RouteNetlink.open();
  try {
    t.deepEqual(route.links().map((l) => l.name).sort(), fs.readdirSync('/sys/class/net').sort());
    for (const link of route.links()) {
      t.is(link.index, Number(fs.readFileSync(`/sys/class/net/${link.name}/ifindex`, 'utf8')), link.name);
      t.is(link.flags & IFF_UP, Number(fs.readFileSync(`/sys/class/net/${link.name}/flags`, 'utf8')) & IFF_UP, link.name);
    }
    const byIndex = new Map(route.links().map((l) => [l.index, l.name]));
    const fromNode = Object.entries(os.networkInterfaces()).flatMap(([name, list]) =>
      (list ?? []).filter((a) => a.family === 'IPv4').map((a) => `${name} ${a.cidr}`)).sort();
    // Node lists only interfaces that are up and running; the dump lists every address.
    const running = new Set(route.links().filter((l) => (l.flags & (IFF_UP | IFF_RUNNING)) === (IFF_UP | IFF_RUNNING)).map((l) => l.name));
    t.deepEqual(route.ipv4Addresses().map((a) => `${byIndex.get(a.index)} ${a.address}/${a.prefixLength}`)
      .filter((line) => running.has(line.split(' ')[0]!)).sort(), fromNode);
  } finally {
    route.close();
  }
});

test('the plan carries the container end; stage 2 configures it right after loopback, before the credentials change', (t) => {
  const fds = { report: 3, stdin: 4, stdout: 5, stderr: 6 };
  const plan = compilePlan(profileOf(vethDoc('10.9.0.1/30', '10.9.0.2/30')), fds);
  t.deepEqual(plan.veth, { interfaceName: 'eth0', address: '10.9.0.2', prefixLength: 30 });
  const names = setupSteps(plan).map((s) => s.name);
  t.is(names.indexOf('configure-veth'), names.indexOf('bring-loopback-up') + 1);
  t.true(names.indexOf('configure-veth') < names.indexOf('switch-credentials'));
  const withoutLoopback = setupSteps(compilePlan(profileOf({ ...vethDoc('10.9.0.1/30', '10.9.0.2/30'), network: {
    loopback: false, veth: { hostAddress: '10.9.0.1/30', containerAddress: '10.9.0.2/30' } } }), fds)).map((s) => s.name);
  t.false(withoutLoopback.includes('bring-loopback-up'));
  t.true(withoutLoopback.includes('configure-veth'));
  t.is(compilePlan(profileOf({ process: { args: ['/bin/true'] } }), fds).veth, undefined);
  t.false(setupSteps(compilePlan(profileOf({ process: { args: ['/bin/true'] } }), fds)).some((s) => s.name === 'configure-veth'));
});
