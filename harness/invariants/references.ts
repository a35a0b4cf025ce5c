// Where invariants cite their rules: man pages, the OCI runtime-spec, CVEs.
import type { Reference } from '../results.js';

export function manPage(name: string, section: number, anchor?: string): Reference {
  return { label: `${name}(${section})`, url: `https://man7.org/linux/man-pages/man${section}/${name}.${section}.html${anchor ? `#${anchor}` : ''}` };
}

/** A man page cited by the heading of the passage that states the rule (man7 anchors only the top-level sections). */
export function manSection(name: string, section: number, heading: string): Reference {
  return { label: `${name}(${section}): ${heading}`, url: manPage(name, section).url };
}

export function ociSpec(file: string, anchor: string, label: string): Reference {
  return { label: `OCI runtime-spec ${file}: ${label}`, url: `https://github.com/opencontainers/runtime-spec/blob/main/${file}#${anchor}` };
}

export function cve(id: string): Reference {
  return { label: id, url: `https://nvd.nist.gov/vuln/detail/${id}` };
}
