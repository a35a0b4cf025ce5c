// Capability sets and no_new_privs of the contained program, read from /proc/PID/status inside
// (by the shell's own builtins, so no second execve) and from the host. The expected sets are
// computed from the profile with the execve rules of capabilities(7) for a program without
// file capabilities that is not set-user-ID:
//   P'(ambient)     = P(ambient)
//   P'(permitted)   = (P(inheritable) & F(inheritable)) | (F(permitted) & P(bounding)) | P'(ambient)
//   P'(effective)   = F(effective) ? P'(permitted) : P'(ambient)
//   P'(inheritable) = P(inheritable);  P'(bounding) = P(bounding)
// where, for a process whose uid is 0 in its user namespace, F(inheritable) and F(permitted)
// count as all ones and F(effective) as set ("Capabilities and execution of programs by root").
import test from 'ava';
import fs from 'node:fs';
import { capabilityMask } from '../../policy/kernel/capabilities.js';
import { DEFAULT_CAPABILITIES } from '../../policy/profile/types.js';
import { run, shell, HOLD, heldReady, assertNoLeftovers } from './container-run.js';

test.afterEach.always(assertNoLeftovers);

interface CapabilitySets {
  bounding: string[];
  permitted: string[];
  effective: string[];
  inheritable: string[];
  ambient: string[];
}

interface StatusCaps {
  CapInh: bigint;
  CapPrm: bigint;
  CapEff: bigint;
  CapBnd: bigint;
  CapAmb: bigint;
  NoNewPrivs: bigint;
}

function afterExecve(uid: number, sets: CapabilitySets, noNewPrivileges: boolean): StatusCaps {
  const bounding = capabilityMask(sets.bounding);
  const inheritable = capabilityMask(sets.inheritable);
  const ambient = capabilityMask(sets.ambient);
  const root = uid === 0;
  const permitted = (root ? inheritable | bounding : 0n) | ambient;
  return {
    CapInh: inheritable, CapPrm: permitted, CapEff: root ? permitted : ambient, CapBnd: bounding, CapAmb: ambient,
    NoNewPrivs: noNewPrivileges ? 1n : 0n,
  };
}

function parseStatus(text: string): StatusCaps {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(text);
    if (!m) throw new Error(`no ${name} in:\n${text}`);
    return name === 'NoNewPrivs' ? BigInt(m[1]!) : BigInt(`0x${m[1]}`);
  };
  return {
    CapInh: field('CapInh'), CapPrm: field('CapPrm'), CapEff: field('CapEff'), CapBnd: field('CapBnd'), CapAmb: field('CapAmb'),
    NoNewPrivs: field('NoNewPrivs'),
  };
}

// The shell reads its own status with builtins only: an external cat would be a second execve.
const READ_OWN_STATUS = 'while IFS= read -r line; do case "$line" in Cap*|NoNewPrivs*) echo "$line";; esac; done < /proc/self/status';

interface Case {
  title: string;
  uid: number;
  capabilities: string[] | CapabilitySets;
  noNewPrivileges: boolean;
}

const CASES: Case[] = [
  { title: 'root, the default list', uid: 0, capabilities: [...DEFAULT_CAPABILITIES], noNewPrivileges: true },
  {
    title: 'root, five different sets: bounding and inheritable decide what root gets',
    uid: 0,
    capabilities: {
      bounding: ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_KILL', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_CHOWN', 'CAP_KILL'], effective: ['CAP_CHOWN'], inheritable: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], ambient: ['CAP_KILL'],
    },
    noNewPrivileges: false,
  },
  { title: 'root, no capabilities at all', uid: 0, capabilities: [], noNewPrivileges: true },
  { title: 'non-root, the default list: nothing survives execve', uid: 1000, capabilities: [...DEFAULT_CAPABILITIES], noNewPrivileges: true },
  {
    title: 'non-root with an ambient capability: it becomes permitted and effective',
    uid: 1000,
    capabilities: {
      bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_SETUID'],
      permitted: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE', 'CAP_KILL'], effective: ['CAP_CHOWN'],
      inheritable: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], ambient: ['CAP_NET_BIND_SERVICE'],
    },
    noNewPrivileges: false,
  },
];

function asSets(capabilities: Case['capabilities']): CapabilitySets {
  return Array.isArray(capabilities)
    ? { bounding: capabilities, permitted: capabilities, effective: capabilities, inheritable: [], ambient: [] }
    : capabilities;
}

const hex = (caps: StatusCaps) => Object.fromEntries(Object.entries(caps).map(([k, v]) => [k, (v as bigint).toString(16)]));

for (const c of CASES) {
  test.serial(`capabilities: ${c.title}`, async (t) => {
    const doc = { process: { args: ['/bin/true'], user: { uid: c.uid, gid: c.uid }, capabilities: c.capabilities, noNewPrivileges: c.noNewPrivileges } };
    const { stdout, outside, exit } = await run(doc, {
      args: shell(`${READ_OWN_STATUS}; ${HOLD}`), ready: heldReady,
      outside: (container) => fs.readFileSync(`/proc/${container.pid}/status`, 'utf8'),
    });
    t.is(exit.code, 0);
    const expected = hex(afterExecve(c.uid, asSets(c.capabilities), c.noNewPrivileges));
    t.deepEqual(hex(parseStatus(stdout)), expected, 'inside');
    t.deepEqual(hex(parseStatus(outside)), expected, 'from the host');
  });
}

const BIND_PORT_80 = `const s = require('net').createServer();
s.once('error', (e) => { console.log(e.code); });
s.listen(80, '127.0.0.1', () => { console.log('bound'); s.close(); });`;

test.serial('a non-root program keeps its ambient capability in use: it may bind a privileged port', async (t) => {
  const doc = {
    process: {
      args: ['/bin/true'], user: { uid: 1000, gid: 1000 },
      capabilities: { bounding: ['CAP_NET_BIND_SERVICE'], permitted: ['CAP_NET_BIND_SERVICE'], effective: [], inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'] },
    },
  };
  const withCap = await run(doc, { args: [process.execPath, '-e', BIND_PORT_80] });
  t.is(withCap.stdout.trim(), 'bound');
  const without = await run({ process: { args: ['/bin/true'], user: { uid: 1000, gid: 1000 } } }, { args: [process.execPath, '-e', BIND_PORT_80] });
  t.is(without.stdout.trim(), 'EACCES');
});
