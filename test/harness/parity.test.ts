// docs/parity.md is generated from the catalogue: it must be what `nsrig check --parity` prints now.
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { INVARIANTS } from '../../harness/invariants/index.js';
import { renderParity, UNCOVERED } from '../../harness/parity.js';
import { projectRoot } from '../../harness/targets/oci/host-root-view.js';

test('docs/parity.md is up to date with the catalogue (regenerate: node bin/nsrig.js check --parity > docs/parity.md)', (t) => {
  t.is(fs.readFileSync(path.join(projectRoot(), 'docs', 'parity.md'), 'utf8'), renderParity(INVARIANTS));
});

test('every invariant is a row, and no anchor check is listed as both covered and uncovered', (t) => {
  const text = renderParity(INVARIANTS);
  for (const inv of INVARIANTS) t.true(text.includes(`| \`${inv.id}\` | ${inv.level} |`), inv.id);
  for (const u of UNCOVERED) {
    for (const check of u.checks) {
      const covering = INVARIANTS.filter((i) => i.anchors?.[u.suite]?.includes(check)).map((i) => i.id);
      t.deepEqual(covering, [], `${check} is listed as not covered, yet ${covering.join(', ')} cite it`);
    }
  }
});
