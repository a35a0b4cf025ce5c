import { expectEqual, type SingleInvariant } from '../../invariant.js';
import { ociSpec } from '../references.js';

/** A hostname no generated profile has: generated labels are lower case (generators/hostname.ts). */
const EDITED_HOSTNAME = 'EDITED-AFTER-CREATE';
const EDITED_MARK = 'NSRIG_EDITED_AFTER_CREATE';

export const editAfterCreateIgnored: SingleInvariant = {
  id: 'lifecycle.edit-after-create-ignored',
  level: 'MUST',
  title: 'A configuration edited between create and start changes nothing in the started container: it keeps the hostname and environment it was created with.',
  reference: ociSpec('runtime.md', 'lifecycle', 'Lifecycle (step 2)', 'Any updates to config.json after this step MUST NOT affect the container.'),
  anchors: { runtimeTools: ['config_updates_without_affect'] },
  generate: { names: true },
  scenario: 'single',
  // The edit asks for a hostname and a variable no generated profile has; seeing either inside
  // means the started container followed the edit.
  createStart: {
    editAfterCreate: (profile) => ({ hostname: EDITED_HOSTNAME, env: { ...profile.process.env, [EDITED_MARK]: '1' } }),
  },
  request: () => ({}),
  check: (o, profile) => expectEqual(
    { hostname: profile.hostname, [EDITED_MARK]: null },
    { hostname: o.hostname, [EDITED_MARK]: o.env[EDITED_MARK] ?? null },
  ),
};
