// Where invariants cite their rules: man pages (by section), the OCI runtime-spec, CVEs. Each
// reference quotes the sentence the invariant rests on, as runtime-tools cites the spec's own words.
//
// How a level follows from the quote: a field of config.json is a MUST even when its own sentence
// only describes it, because runtime.md's lifecycle says "The container's runtime environment MUST
// be created according to the configuration in config.json"; a man page states what the kernel
// does, so a runtime that breaks it has broken the isolation the profile asked for (MUST); a CVE
// describes an escape (MUST). SHOULD is for what no cited text requires but every runtime anchor
// does (nothing but the declared devices, a keyring of the container's own); MAY for behaviour a
// runtime may choose.
import type { Reference } from '../results.js';

function manUrl(name: string, section: number): string {
  return `https://man7.org/linux/man-pages/man${section}/${name}.${section}.html`;
}

/** A man page cited by the heading of the passage that states the rule (man7 anchors only the top-level sections). */
export function manSection(name: string, section: number, heading: string, quote: string): Reference {
  return { label: `${name}(${section}): ${heading}`, url: manUrl(name, section), quote };
}

export function ociSpec(file: string, anchor: string, label: string, quote: string): Reference {
  return { label: `OCI runtime-spec ${file}: ${label}`, url: `https://github.com/opencontainers/runtime-spec/blob/main/${file}#${anchor}`, quote };
}

export function cve(id: string, quote: string): Reference {
  return { label: id, url: `https://nvd.nist.gov/vuln/detail/${id}`, quote };
}

/** A page of runc's own manual (man/*.8.md), the command line crun and youki share. */
export function runcManual(page: string, option: string, quote: string): Reference {
  return { label: `${page}(8): ${option}`, url: `https://github.com/opencontainers/runc/blob/main/man/${page}.8.md`, quote };
}
