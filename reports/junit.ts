// JUnit XML in the shape Jenkins, GitLab and GitHub reporters read: a <testsuites> root, one
// suite per area (per target and area when several targets are merged), one case per invariant.
import { fixedInWords, type InvariantResult, type Results } from '../harness/results.js';
import type { ReportModel, RunView } from './report-model.js';
import { profileAsYaml } from './profile-yaml.js';
import { showControlCharacters } from './xml-characters.js';

/** Text content: control characters made visible, then the markup characters escaped. */
function text(value: string): string {
  return showControlCharacters(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Attribute values: as text, plus quotes, and whitespace as character references, since a parser
 * otherwise normalizes a newline or tab inside an attribute to a space.
 */
function attr(value: string | number): string {
  return text(String(value))
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  ms: number;
}

function countOf(invariants: readonly InvariantResult[]): Counts {
  return {
    tests: invariants.length,
    failures: invariants.filter((i) => i.status === 'fail').length,
    errors: invariants.filter((i) => i.status === 'error').length,
    skipped: invariants.filter((i) => i.status === 'skip').length,
    ms: invariants.reduce((sum, i) => sum + i.durationMs, 0),
  };
}

function countAttrs(c: Counts): string {
  return `tests="${c.tests}" failures="${c.failures}" errors="${c.errors}" skipped="${c.skipped}" time="${seconds(c.ms)}"`;
}

function properties(run: RunView, indent: string): string[] {
  const r: Results = run.results;
  const props: [string, string | number][] = [
    ['seed', r.seed],
    ['target', r.target.name],
    ['target.kind', r.target.kind],
    ['runtime.version', r.target.version],
  ];
  if (r.target.path !== undefined) props.push(['runtime.path', r.target.path]);
  props.push(
    ['runs', r.runs],
    ['started', r.startedAt],
    ['shards', run.shards],
    ...(r.config ? [['config.file', r.config.file], ['config.sha256', r.config.sha256]] as [string, string][] : []),
    ['nsrig.version', r.tool.version],
    ['host.kernel', r.host.kernel],
    ['host.distribution', r.host.distribution],
    ['host.arch', r.host.arch],
    ['host.cgroup', r.host.cgroupMode],
  );
  return [
    `${indent}<properties>`,
    ...props.map(([name, value]) => `${indent}  <property name="${attr(name)}" value="${attr(value)}"/>`),
    `${indent}</properties>`,
  ];
}

function failureBody(inv: InvariantResult): string {
  const c = inv.counterexample;
  const lines = [`${inv.level} ${inv.id}: ${inv.title}`, `Reference: ${inv.reference.label} <${inv.reference.url}>`];
  if (inv.reference.quote) lines.push(`Cited: "${inv.reference.quote}"`);
  if (c !== undefined) {
    lines.push(
      `Expected: ${c.expected}`,
      `Observed: ${c.observed}`,
      `Counterexample path: ${c.path} (after ${c.shrinks} shrink steps)`,
      'Shrunk profile (YAML):',
      profileAsYaml(c.profile).trimEnd(),
    );
  }
  lines.push(`Replay: ${inv.replay ?? '(no replay command was recorded)'}`);
  if (inv.knownDefect) {
    const d = inv.knownDefect;
    lines.push(`Known upstream defect: ${d.reference} <${d.url}>, ${fixedInWords(d.fixedIn)}: ${d.summary}`);
  }
  return lines.join('\n');
}

function testcase(inv: InvariantResult, classname: string): string[] {
  const open = `    <testcase classname="${attr(classname)}" name="${attr(inv.id)}" time="${seconds(inv.durationMs)}"`;
  if (inv.status === 'pass') return [`${open}/>`];
  const inner: string[] = [];
  if (inv.status === 'fail') {
    const c = inv.counterexample;
    const known = inv.knownDefect ? ` (known upstream defect ${inv.knownDefect.reference}, ${fixedInWords(inv.knownDefect.fixedIn)})` : '';
    const message = (c === undefined ? inv.title : `expected ${c.expected}; observed ${c.observed}`) + known;
    inner.push(`      <failure message="${attr(message)}" type="${attr(`${inv.level} invariant violated`)}">${text(failureBody(inv))}</failure>`);
  } else if (inv.status === 'error') {
    const reason = inv.reason ?? 'the target could not run this invariant';
    inner.push(`      <error message="${attr(reason)}" type="TargetError">${text(`${inv.id}: ${inv.title}\n${reason}`)}</error>`);
  } else {
    inner.push(`      <skipped message="${attr(inv.reason ?? 'skipped')}"/>`);
  }
  return [`${open}>`, ...inner, '    </testcase>'];
}

export function renderJunit(model: ReportModel): string {
  const suites: string[] = [];
  const all: InvariantResult[] = [];
  for (const run of model.runs) {
    const byArea = new Map<string, InvariantResult[]>();
    for (const inv of run.results.invariants) {
      const list = byArea.get(inv.area);
      if (list === undefined) byArea.set(inv.area, [inv]);
      else list.push(inv);
    }
    for (const [area, invariants] of byArea) {
      all.push(...invariants);
      // With several targets the target goes into both names, so reporters that key on
      // classname and name keep runc's and crun's cases apart.
      const name = model.multiTarget ? `${run.target}.${area}` : area;
      suites.push(
        `  <testsuite name="${attr(name)}" ${countAttrs(countOf(invariants))} timestamp="${attr(run.results.startedAt)}">`,
        ...properties(run, '    '),
        ...invariants.flatMap((inv) => testcase(inv, `nsrig.${name}`)),
        '  </testsuite>',
      );
    }
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="nsrig" ${countAttrs(countOf(all))}>`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
