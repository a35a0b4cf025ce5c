// What `nsrig check` prints while it runs: a line per invariant on a terminal; in CI (no TTY)
// only failures and errors, so logs stay short. Failures always carry the replay command.
import YAML from 'yaml';
import { fixedInWords, type InvariantResult, type Results } from '../harness/results.js';

const MARK: Record<InvariantResult['status'], string> = { pass: 'ok  ', fail: 'FAIL', skip: 'skip', error: 'ERR ' };

export class CheckProgress {
  private done = 0;
  constructor(private readonly total: number, private readonly out: NodeJS.WriteStream = process.stderr) {}

  get interactive(): boolean {
    return Boolean(this.out.isTTY);
  }

  onResult = (r: InvariantResult): void => {
    this.done++;
    if (this.interactive || r.status === 'fail' || r.status === 'error') {
      const detail = r.status === 'skip' || r.status === 'error' ? ` — ${r.reason}` : ` (${r.cases} cases, ${(r.durationMs / 1000).toFixed(1)} s)`;
      this.out.write(`[${this.done}/${this.total}] ${MARK[r.status]} ${r.id}${detail}\n`);
    }
    if (r.status === 'fail' && r.counterexample) this.out.write(describeFailure(r));
  };
}

export function describeFailure(r: InvariantResult): string {
  const c = r.counterexample!;
  const profile = YAML.stringify(c.profile, { aliasDuplicateObjects: false }).trimEnd().split('\n').map((l) => `      ${l}`).join('\n');
  return [
    `    ${r.title}`,
    `    expected: ${c.expected}`,
    `    observed: ${c.observed}`,
    isConfigCase(c.profile) ? '    the config, as declared:' : `    shrunk profile (${c.shrinks} shrink steps):`,
    profile,
    `    replay: ${r.replay}`,
    ...(r.knownDefect ? [`    ${knownDefectLine(r)}`] : []),
    '',
  ].join('\n');
}

/** A case of `nsrig check --config`: the config's name and hash, never varied, so never shrunk. */
function isConfigCase(profile: unknown): boolean {
  return typeof profile === 'object' && profile !== null && 'config' in profile && 'sha256' in profile;
}

/** One line naming the upstream issue a failure matches and the release that fixes it. */
export function knownDefectLine(r: InvariantResult): string {
  const d = r.knownDefect!;
  return `known upstream defect of this runtime version: ${d.reference}, ${fixedInWords(d.fixedIn)} — ${d.summary} <${d.url}>`;
}

export function summaryLine(results: Results): string {
  const s = results.summary;
  const verdict = s.failed || s.errors ? 'FAIL' : 'PASS';
  const known = results.invariants.filter((r) => r.status === 'fail' && r.knownDefect).length;
  const explained = known > 0 ? ` (${known} a known upstream defect)` : '';
  const config = results.config ? `, config ${results.config.file} (sha256 ${results.config.sha256})` : '';
  return `${verdict}: ${s.passed} passed, ${s.failed} failed${explained}, ${s.skipped} skipped, ${s.errors} errors — ${results.target.name} ${results.target.version}${config}, seed ${results.seed}, ${results.runs} runs, ${(results.durationMs / 1000).toFixed(1)} s`;
}
