// The nsrig command line: parses arguments and calls core/, policy/, harness/ and reports/.
// It holds no logic of its own; every command maps to one function.
import { ProfileErrors } from '../policy/profile/profile-error.js';
import { PolicyError } from '../policy/seccomp/policy-error.js';
import { TOOL_VERSION } from '../harness/tool-version.js';
import { KnownDefectsError } from '../harness/known-defects.js';
import { ResultsFileError } from '../reports/validate-results.js';
import { ResultsMergeError } from '../reports/merge-results.js';
import { COMMAND_USAGE, EXIT, HELP, HostUnfitError, UsageError } from './usage.js';

type Command = (args: string[]) => number | Promise<number>;

// Each command loads only its own modules: `nsrig run` should not pay for fast-check or Handlebars.
const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./commands/run.js')).run,
  exec: async () => (await import('./commands/exec.js')).exec,
  state: async () => (await import('./commands/state.js')).state,
  list: async () => (await import('./commands/list.js')).list,
  kill: async () => (await import('./commands/kill.js')).kill,
  validate: async () => (await import('./commands/validate.js')).validate,
  check: async () => (await import('./commands/check.js')).check,
  report: async () => (await import('./commands/report.js')).report,
  bundle: async () => (await import('./commands/bundle.js')).bundle,
  trace: async () => (await import('./commands/trace.js')).trace,
  plan: async () => (await import('./commands/plan.js')).plan,
  doctor: async () => (await import('./commands/doctor.js')).doctor,
};

/** `--help` or `-h` among a command's own arguments (not among those after `--`, which are the program's). */
function asksForHelp(args: string[]): boolean {
  const dash = args.indexOf('--');
  return (dash >= 0 ? args.slice(0, dash) : args).some((a) => a === '--help' || a === '-h');
}

function printUsage(command: string): number {
  const usage = COMMAND_USAGE[command];
  if (usage === undefined) throw new UsageError(`unknown command "${command}"; see nsrig --help`);
  process.stdout.write(usage);
  return EXIT.OK;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(HELP);
    return EXIT.USAGE;
  }
  if (command === '--help' || command === '-h' || (command === 'help' && rest.length === 0)) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (command === 'help') {
    if (rest.length > 1) throw new UsageError('usage: nsrig help [COMMAND]');
    return printUsage(rest[0]!);
  }
  if (command === '--version' || command === '-V') {
    process.stdout.write(`nsrig ${TOOL_VERSION}\n`);
    return EXIT.OK;
  }
  const load = COMMANDS[command];
  if (!load) throw new UsageError(`unknown command "${command}"; see nsrig --help`);
  if (asksForHelp(rest)) return printUsage(command);
  return (await load())(rest);
}

function exitCodeFor(e: unknown): number {
  if (e instanceof UsageError) {
    process.stderr.write(`nsrig: ${e.message}\n`);
    return EXIT.USAGE;
  }
  if (e instanceof HostUnfitError) {
    process.stderr.write(`nsrig: ${e.message}\n`);
    return EXIT.HOST;
  }
  // Input the person gave (a profile, a policy, a results file, the known-defects table) that is
  // wrong: the message names the file and the field, so no stack.
  if (e instanceof ProfileErrors || e instanceof PolicyError || e instanceof ResultsFileError || e instanceof ResultsMergeError || e instanceof KnownDefectsError) {
    process.stderr.write(`${e.message}\n`);
    return EXIT.USAGE;
  }
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || err?.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || err?.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    process.stderr.write(`nsrig: ${err.message}\n`);
    return EXIT.USAGE;
  }
  process.stderr.write(`nsrig: ${err?.stack ?? String(e)}\n`);
  return EXIT.FAILED;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.exitCode = exitCodeFor(e);
  },
);
