// `make bench`: launch latency beside unshare, bwrap, crun and runc, then tracing overhead beside
// strace. `node dist/bench/launch.js --help` lists the options; bench/README.md has the results.
import { benchMain } from './bench-main.js';

process.exitCode = await benchMain(process.argv.slice(2), ['launch', 'tracing']);
