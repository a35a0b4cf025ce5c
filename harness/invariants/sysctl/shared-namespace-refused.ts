import { expectEqual, requiresNamespaces, type RefusalInvariant } from '../../invariant.js';
import type { Profile } from '../../../policy/profile/types.js';
import { sysctlNamespace } from '../../../policy/profile/sysctl.js';
import { ociSpec } from '../references.js';

/** The parameter whose namespace is left shared: the first declared; the others stay in namespaces of the container's own. */
function sharedKey(profile: Profile): string {
  return Object.keys(profile.sysctl ?? {})[0] ?? '';
}

export const sharedNamespaceRefused: RefusalInvariant = {
  id: 'sysctl.shared-namespace-refused',
  level: 'SHOULD',
  title: "A kernel parameter of a namespace the container shares with the host (net.* without a network namespace, kernel.msg*/shm* without an IPC namespace) makes the target refuse the container with an error naming it, and the host's value is unchanged.",
  reference: ociSpec('config-linux.md', 'namespaces', 'Namespaces', 'If a namespace type is not specified in the `namespaces` array, the container MUST inherit the runtime namespace of that type.'),
  anchors: { crun: ['test_start.py::test_not_allowed_ipc_sysctl', 'test_start.py::test_not_allowed_net_sysctl'] },
  // Generated valid (net and ipc of its own); the namespace of one parameter is then left shared.
  generate: { ...requiresNamespaces('net', 'ipc'), hostHarmlessSysctl: true },
  scenario: 'refusal',
  refusable: (profile) => {
    const shared = sysctlNamespace(sharedKey(profile));
    // What the shares-host-* doubles drop too: a sysfs or mqueue mount belongs to the namespace left shared.
    const leftOut = shared === 'net' ? 'sysfs' : shared === 'ipc' ? 'mqueue' : undefined;
    return { ...profile, namespaces: profile.namespaces.filter((ns) => ns !== shared), mounts: profile.mounts.filter((m) => m.type !== leftOut) };
  },
  request: () => ({}),
  check: (run, profile, host, after) => {
    const key = sharedKey(profile);
    const keys = Object.keys(profile.sysctl ?? {});
    const firstLine = run.startError?.split('\n')[0] ?? '';
    return expectEqual(
      { start: `refused, naming ${key}`, host: keys.map((k) => `${k}=${host.before.sysctl[k] ?? '?'}`) },
      {
        start: run.startError === undefined ? 'started' : run.startError.includes(key) ? `refused, naming ${key}` : `refused without naming ${key}: ${firstLine}`,
        host: keys.map((k) => `${k}=${after.sysctl[k] ?? '?'}`),
      },
    );
  },
};
