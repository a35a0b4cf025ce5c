// A resolved Profile written back as a profile document (our YAML/JSON format), every field
// explicit so no default is needed to read it back. The harness prints shrunk counterexamples
// this way: a file a person can run with `nsrig run`.
import { stringify } from 'yaml';
import type { Mount, Profile } from './types.js';

export function profileToDocument(profile: Profile): Record<string, unknown> {
  const has = (ns: string): boolean => (profile.namespaces as string[]).includes(ns);
  const process = profile.process;
  const doc: Record<string, unknown> = { name: profile.name, namespaces: [...profile.namespaces] };
  if (profile.hostname !== undefined) doc.hostname = profile.hostname;
  if (profile.domainname !== undefined) doc.domainname = profile.domainname;
  if (has('user')) {
    doc.user = {
      uidMappings: profile.user.uidMappings.map((m) => ({ ...m })),
      gidMappings: profile.user.gidMappings.map((m) => ({ ...m })),
      setgroups: profile.user.setgroups,
    };
  }
  if (has('mnt')) {
    doc.rootfs = { ...profile.rootfs };
    doc.mounts = profile.mounts.map(mountDocument);
    doc.maskedPaths = [...profile.maskedPaths];
    doc.readonlyPaths = [...profile.readonlyPaths];
    if (profile.devices !== undefined) doc.devices = profile.devices.map((d) => ({ ...d }));
  }
  if (has('net')) {
    doc.network = profile.network.veth === undefined ? { loopback: profile.network.loopback }
      : { loopback: profile.network.loopback, veth: { ...profile.network.veth } };
  }
  doc.process = {
    args: [...process.args],
    env: { ...process.env },
    cwd: process.cwd,
    user: { uid: process.uid, gid: process.gid, additionalGids: [...process.additionalGids] },
    capabilities: Object.fromEntries(Object.entries(process.capabilities).map(([set, caps]) => [set, [...caps]])),
    noNewPrivileges: process.noNewPrivileges,
    rlimits: process.rlimits.map((r) => ({ type: r.type, soft: limitDocument(r.soft), hard: limitDocument(r.hard) })),
    timeout: process.timeoutMs / 1000,
    ...(process.umask === undefined ? {} : { umask: `0${process.umask.toString(8).padStart(3, '0')}` }),
    ...(process.oomScoreAdj === undefined ? {} : { oomScoreAdj: process.oomScoreAdj }),
    ...(process.personality === undefined ? {} : { personality: process.personality }),
    ...(process.terminal === undefined ? {} : { terminal: process.terminal }),
    ...(process.consoleSize === undefined ? {} : { consoleSize: { ...process.consoleSize } }),
  };
  if (profile.sysctl !== undefined) doc.sysctl = { ...profile.sysctl };
  if (profile.namespacePaths !== undefined) doc.namespacePaths = { ...profile.namespacePaths };
  if (profile.timeOffsets !== undefined) doc.timeOffsets = { ...profile.timeOffsets };
  if (profile.seccomp !== undefined) doc.seccomp = profile.seccomp.path ?? profile.seccomp.policy;
  if (profile.resources !== undefined) doc.resources = structuredClone(profile.resources);
  if (profile.cgroupsPath !== undefined) doc.cgroupsPath = profile.cgroupsPath;
  if (profile.hooks !== undefined) {
    doc.hooks = Object.fromEntries(Object.entries(profile.hooks).map(([kind, list]) => [kind, list.map((h) => ({
      path: h.path, args: [...h.args], env: [...h.env], ...(h.timeoutSeconds === undefined ? {} : { timeout: h.timeoutSeconds }),
    }))]));
  }
  return doc;
}

/** The document as YAML text. */
export function profileToYaml(profile: Profile): string {
  return stringify(profileToDocument(profile), { lineWidth: 0 });
}

/** Its options as a list: what readonly, size, mode and recursive stand for is in it already. */
function mountDocument(mount: Mount): Record<string, unknown> {
  return {
    type: mount.type,
    ...(mount.type === 'bind' ? { source: mount.source } : {}),
    destination: mount.destination,
    ...(mount.type === 'dev' ? { devices: [...mount.devices] } : {}),
    options: [...mount.options],
  };
}

function limitDocument(limit: number): number | string {
  return limit === Infinity ? 'unlimited' : limit;
}
