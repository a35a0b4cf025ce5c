// Reading the runtime-spec version a runtime claims, and which profile fields are newer than it.
import test from 'ava';
import {
  fieldsNewerThan, ignoredFieldReason, NEWER_FIELDS, specVersionFromFeatures, specVersionFromVersionOutput, versionBefore,
} from '../../harness/targets/oci/runtime-spec-version.js';
import { parseProfile } from '../../policy/profile/load.js';

test('the spec version comes from features\' ociVersionMax, or from the "spec:" line of --version', (t) => {
  t.is(specVersionFromFeatures('{"ociVersionMin":"1.0.0","ociVersionMax":"1.0.2-dev","hooks":[]}'), '1.0.2-dev');
  t.is(specVersionFromFeatures('{"ociVersionMin":"1.0.0"}'), undefined);
  t.is(specVersionFromFeatures('unknown command features'), undefined);
  t.is(specVersionFromVersionOutput('crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX\n'), '1.0.0');
  t.is(specVersionFromVersionOutput('runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\n'), '1.0.2-dev');
  t.is(specVersionFromVersionOutput('youki version 0.3.0\n'), undefined);
});

test('versions compare by major, minor and patch; a pre-release counts as its release', (t) => {
  t.true(versionBefore('1.0.2-dev', '1.1.0'));
  t.true(versionBefore('1.0.0', '1.1.0'));
  t.true(versionBefore('0.9.9', '1.0.0'));
  t.false(versionBefore('1.1.0', '1.1.0'));
  t.false(versionBefore('1.1.0-rc.1', '1.1.0'));
  t.false(versionBefore('1.2.0', '1.1.0'));
  t.false(versionBefore('1.10.0', '1.9.0'), 'numeric, not textual');
  t.false(versionBefore('garbage', '1.1.0'), 'an unreadable claim excuses nothing');
});

test('only a runtime claiming a spec before 1.1.0 may ignore domainname and time offsets', (t) => {
  t.deepEqual(fieldsNewerThan({ version: '1.0.2-dev', source: 'features' }).map((f) => f.field), ['domainname', 'timeOffsets']);
  t.deepEqual(fieldsNewerThan({ version: '1.1.0', source: 'features' }), []);
  t.deepEqual(fieldsNewerThan({ version: '1.2.1', source: 'features' }), []);
});

test('each trial is a valid profile that sets its field, and the reason names the claim, the field and what was seen', (t) => {
  for (const field of NEWER_FIELDS) {
    const profile = parseProfile(field.trial.document, `trial of ${field.field}`, { checkPaths: false });
    t.not(profile[field.field], undefined, field.field);
  }
  const reason = ignoredFieldReason('runc 1.1.5', { version: '1.0.2-dev', source: 'runc features, ociVersionMax' }, NEWER_FIELDS[0]!, '(none)');
  for (const part of ['runc 1.1.5', '1.0.2-dev', 'runc features', 'domainname', '#1156', '1.1.0', '"(none)"', '"field-trial.nsrig"', 'Extensibility']) {
    t.true(reason.includes(part), part);
  }
});
