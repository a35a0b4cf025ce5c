// Results whose every free-text field carries something that breaks naive HTML or XML output:
// markup, a CDATA terminator, both quote kinds, ampersands, C0 control characters (NUL, ESC,
// BEL, form feed, vertical tab), DEL, a C1 control and a lone UTF-16 surrogate.
import type { Results } from '../../harness/results.js';

export const SCRIPT = '<script>alert("x")</script>';
export const CONTROL = 'nul\u0000 esc\u001b[31m bel\u0007 ff\u000c vt\u000b del\u007f c1\u0085 lone\ud800 end';
export const QUOTES = `"double" and 'single' & ampersand`;
export const CDATA_END = 'before ]]> after';
export const REPLAY = `nsrig check --target builtin --seed 42 --runs 10 --only uts.${SCRIPT} --replay '3:1:0'`;

export function hostileResults(): Results {
  return {
    tool: { name: 'nsrig', version: '0.1.0' },
    target: { kind: 'double', name: `evil${SCRIPT}`, version: QUOTES, path: `/tmp/${CONTROL}` },
    seed: 42,
    runs: 10,
    startedAt: '2025-06-02T09:01:44.090Z',
    durationMs: 1234,
    host: { kernel: CONTROL, distribution: SCRIPT, arch: QUOTES, cgroupMode: 'v2', node: CDATA_END },
    invariants: [
      {
        id: `uts.${SCRIPT}`,
        area: 'uts',
        level: 'MUST',
        title: `Title with ${CDATA_END} and ${QUOTES}`,
        reference: { label: `ref ${SCRIPT}`, url: 'javascript:alert(1)' },
        status: 'fail',
        cases: 3,
        durationMs: 50,
        counterexample: {
          profile: { hostname: SCRIPT, env: { X: CONTROL, Y: CDATA_END } },
          expected: `expected ${QUOTES}`,
          observed: `observed ${CONTROL} ${SCRIPT}`,
          path: '3:1:0',
          shrinks: 2,
        },
        replay: REPLAY,
      },
      {
        id: 'uts.errored',
        area: 'uts',
        level: 'SHOULD',
        title: 'An error',
        reference: { label: 'uts_namespaces(7)', url: 'https://man7.org/linux/man-pages/man7/uts_namespaces.7.html' },
        status: 'error',
        reason: `runtime said ${SCRIPT} ${CONTROL} ${CDATA_END}`,
        cases: 1,
        durationMs: 5,
      },
      {
        id: 'pid.skipped',
        area: `pid${QUOTES}`,
        level: 'MUST',
        title: 'A skip',
        reference: { label: 'pid_namespaces(7)', url: 'https://man7.org/linux/man-pages/man7/pid_namespaces.7.html' },
        status: 'skip',
        reason: `skip reason ${QUOTES} ${CONTROL}`,
        cases: 0,
        durationMs: 0,
      },
    ],
    summary: { passed: 0, failed: 1, skipped: 1, errors: 1 },
    syscallProfiles: [
      {
        caseId: `case ${SCRIPT}`,
        syscalls: [{ name: `read${SCRIPT}`, count: 10, errors: 0 }],
        violations: [{ name: `evil${CONTROL}`, count: 1 }],
      },
    ],
  };
}

/** Characters XML 1.0 forbids anywhere in a document. */
export const XML_ILLEGAL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
