// Tracing overhead alone: `node dist/bench/tracing.js` (make bench runs it after the launch part).
import { benchMain } from './bench-main.js';

process.exitCode = await benchMain(process.argv.slice(2), ['tracing']);
