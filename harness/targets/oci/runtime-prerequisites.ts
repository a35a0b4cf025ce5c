// An OCI runtime as nsrig doctor sees it: found or not, its version, whether it runs a minimal
// container here (OciTarget's own preflight, so doctor and check agree), what this host needs for
// it (crun on a hybrid cgroup layout), and the known defects of its version.
import { knownDefectsFor, type KnownDefect } from '../../known-defects.js';
import { fixedInWords } from '../../results.js';
import type { Prerequisite } from '../host-prerequisites.js';
import { readCgroupLayout } from '../../../core/cgroup-layout.js';
import { crunHostProblem } from './crun-host-preparation.js';
import { OciTarget, resolveRuntime } from './oci-target.js';
import { versionBefore } from './runtime-spec-version.js';

const INSTALL: Record<string, string> = {
  runc: 'install runc (Debian, Ubuntu: apt-get install runc; Fedora: dnf install runc) or give its path with --runtime PATH',
  crun: 'install crun (Debian, Ubuntu: apt-get install crun; Fedora: dnf install crun) or give its path with --runtime PATH',
};

/** The release that fixes every defect listed, when releases fix them all; else what is fixed where. */
function upgradeAdvice(name: string, defects: KnownDefect[]): string {
  const fixes = defects.map((d) => d.fixedIn);
  if (fixes.every((f): f is string => f !== undefined)) return `upgrade ${name} to ${fixes.reduce((a, b) => (versionBefore(a, b) ? b : a))} or later; until then `;
  const released = fixes.filter((f): f is string => f !== undefined);
  return released.length === 0 ? 'no release fixes these yet; ' : `upgrading to ${released.reduce((a, b) => (versionBefore(a, b) ? b : a))} fixes some, no release fixes the rest yet; `;
}

function describeDefect(d: KnownDefect): string {
  return `known defect ${d.reference} (${fixedInWords(d.fixedIn)}): ${d.invariant} fails: ${d.summary}`;
}

/**
 * `required`: the user asked for this runtime (nsrig doctor --runtime), so a runtime that cannot
 * run here makes the host not ready; otherwise it is reported and only warned about.
 */
export async function examineRuntime(runtime: string, required: boolean): Promise<Prerequisite> {
  const id = `runtime:${runtime}`;
  const resolved = resolveRuntime(runtime);
  const notReady = required ? 'missing' : 'warn';
  if (!('path' in resolved)) {
    return { id, title: runtime, state: notReady, required, detail: resolved.problem, fix: INSTALL[runtime] ?? 'give the path of an executable runtime with runc\'s command line', facts: { found: false } };
  }
  const target = new OciTarget(runtime);
  const { name, version } = await target.info();
  const defects = knownDefectsFor(name, version);
  const facts = {
    found: true, path: resolved.path, name, version,
    knownDefects: defects.map((d) => ({ reference: d.reference, invariant: d.invariant, fixedIn: d.fixedIn, url: d.url })),
  };
  const missing = await target.preflight();
  const where = `${name} ${version} at ${resolved.path}`;
  const defectText = defects.map(describeDefect);
  if (missing.length > 0) {
    const layout = readCgroupLayout();
    if (name === 'crun' && crunHostProblem(layout) !== undefined) {
      const controllers = layout.unifiedControllers.join(', ');
      const byHand = layout.unifiedControllers.map((c) => `mkdir /sys/fs/cgroup/${c} && mount -t cgroup -o ${c} cgroup /sys/fs/cgroup/${c}`).join('; ');
      return {
        id, title: runtime, state: notReady, required,
        detail: [`${where} refuses this host's cgroup layout: hybrid, with ${controllers} on the cgroup2 hierarchy at ${layout.unifiedMount} (crun 1.8: "cgroups in hybrid mode not supported")`, ...defectText].join('; '),
        fix: `nsrig check --runtime crun --prepare-host, which mounts ${controllers} as v1 for the run and undoes it afterwards; or by hand: ${byHand}`,
        facts: { ...facts, runs: false, needsPrepareHost: true },
      };
    }
    return { id, title: runtime, state: notReady, required, detail: [where, ...missing, ...defectText].join('; '), fix: 'see the message: the runtime\'s own words name what it lacks', facts: { ...facts, runs: false, needsPrepareHost: false } };
  }
  const ran = `${where} runs a minimal container`;
  if (defects.length === 0) return { id, title: runtime, state: 'ok', required, detail: `${ran}; no known defects`, facts: { ...facts, runs: true, needsPrepareHost: false } };
  return {
    id, title: runtime, state: 'warn', required, detail: [ran, ...defectText].join('; '),
    fix: `${upgradeAdvice(name, defects)}nsrig check reports ${defects.map((d) => d.invariant).join(', ')} failing on it (harness/known-defects.json)`,
    facts: { ...facts, runs: true, needsPrepareHost: false },
  };
}
