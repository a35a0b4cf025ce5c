// Exit codes and the usage error every command shares.
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, HOST: 3 } as const;

/** Bad arguments or configuration: exit 2 with the message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The host cannot run what was asked, with what is missing: exit 3. */
export class HostUnfitError extends Error {
  constructor(readonly missing: string[]) {
    super(`this host cannot run the check:\n  - ${missing.join('\n  - ')}`);
    this.name = 'HostUnfitError';
  }
}

export const HELP = `nsrig — build containers from profiles, attack their isolation, police their syscalls

Usage:
  nsrig run PROFILE [-- CMD ARGS...]     run one container in the foreground
  nsrig validate PROFILE...              print OK or every error of each profile
  nsrig check [options]                  property-test isolation invariants on a target
  nsrig report RESULTS.json... [--html F] [--junit F] [--json F]
                                         render (and merge) results files
  nsrig bundle PROFILE DIR               write an OCI bundle (config.json + rootfs) for a profile
  nsrig trace [--profile P] [--policy POL] [--json F] [--generate OUT.json] -- CMD ARGS...
                                         count a workload's syscalls, check them against a policy,
                                         or write a least-privilege policy
  nsrig --help | --version

check options:
  --target builtin        the built-in engine (default)
  --target double:NAME    a deliberately broken test double of the engine (see harness/targets/doubles/)
  --runtime PATH|NAME     any OCI runtime with runc's command line (runc, crun, ...); repeatable
  --prepare-host          perform (and undo afterwards) host preparation a runtime needs (crun on hybrid cgroups)
  --runs N                generated profiles per invariant (default 10)
  --seed S                fast-check seed (default: random, printed)
  --only AREA|ID,...      restrict to areas or invariant ids
  --jobs K                invariants checked at once (default 2)
  --shard I/N             run the I-th of N deterministic slices
  --replay PATH           replay a counterexample path (with --seed and --only ID)
  --json F, --junit F, --html F   write results
  --trace                 trace the first case of each invariant (built-in engine) and attach its syscall profile
  --list                  list the invariants and exit

Exit status: 0 all hold, 1 a failure, 2 usage or configuration error, 3 the host cannot run the check.
`;
