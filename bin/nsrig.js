#!/usr/bin/env node
// The installed command: the compiled CLI lives in dist/ (run `make build` or `npx tsc`).
import('../dist/bin/main.js').catch((e) => {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('dist/bin/main.js')) {
    process.stderr.write('nsrig: not built yet — run `make build` (or `npx tsc -p tsconfig.json`) first\n');
    process.exit(2);
  }
  throw e;
});
