import fs from 'node:fs';

/** nsrig's version, from package.json (one source of truth for the CLI, results and reports). */
export const TOOL_VERSION: string = (() => {
  const pkg = new URL('../../package.json', import.meta.url);
  return (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
})();
