import { expectEqual, requiresNamespaces, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

const procPath = (key: string) => `/proc/sys/${key.replaceAll('.', '/')}`;
/** A value of several fields reads back tab-separated (net.ipv4.ping_group_range "0 0" as "0\t0"): compared field by field. */
const fields = (value: string) => value.trim().split(/\s+/).join(' ');

export const valuesApplied: SingleInvariant = {
  id: 'sysctl.values-applied',
  level: 'MUST',
  title: "Each declared kernel parameter reads back inside with its declared value, and the host's own value is unchanged after the run.",
  reference: ociSpec('config-linux.md', 'sysctl', 'Sysctl', 'sysctl (object, OPTIONAL) allows kernel parameters to be modified at runtime for the container.'),
  anchors: { runtimeTools: ['linux_sysctl', 'validateSysctls'], contest: ['sysctl_test'] },
  // The parameters generated belong to these namespaces; with them shared, a runtime must refuse them.
  generate: { ...requiresNamespaces('net', 'ipc'), sysctl: true },
  scenario: 'single',
  request: (profile) => ({ readText: Object.keys(profile.sysctl ?? {}).map(procPath) }),
  check: (o, profile, host, after) => {
    const keys = Object.keys(profile.sysctl ?? {});
    return expectEqual(
      { inside: keys.map((k) => `${k}=${fields(profile.sysctl![k]!)}`), host: keys.map((k) => `${k}=${host.before.sysctl[k] ?? '?'}`) },
      {
        inside: keys.map((k) => {
          const t = o.texts.find((x) => x.path === procPath(k));
          return `${k}=${t?.text === undefined || t.text === null ? t?.code ?? 'not read' : fields(t.text)}`;
        }),
        host: keys.map((k) => `${k}=${after.sysctl[k] ?? '?'}`),
      },
    );
  },
};
