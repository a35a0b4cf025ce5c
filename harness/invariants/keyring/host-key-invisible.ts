import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { manSection } from '../references.js';

export const hostKeyInvisible: SingleInvariant = {
  id: 'keyring.host-key-invisible',
  level: 'SHOULD',
  title: "The container has a session keyring of its own: a key in the host's session keyring cannot be viewed (EACCES) or found (ENOKEY) from inside.",
  reference: manSection('session-keyring', 7, 'DESCRIPTION', 'A process\'s session keyring is inherited across clone(2), fork(2), and vfork(2).'),
  scenario: 'single',
  request: (_profile, host) => ({ keyring: { serial: host.hostKey.serial, description: host.hostKey.description } }),
  check: (o, _profile, host) => expectEqual(
    { ownSessionKeyring: true, describe: 'EACCES', search: 'ENOKEY' },
    { ownSessionKeyring: o.keyring !== null && o.keyring.sessionSerial !== host.hostKey.sessionSerial, describe: o.keyring?.describe.code ?? null, search: o.keyring?.search.code ?? null },
  ),
};
