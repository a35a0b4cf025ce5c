// Exit codes, the usage error every command shares, and each command's usage text.
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
    super(`this host cannot run the check:\n  - ${missing.join('\n  - ')}\n(nsrig doctor lists every prerequisite and its fix)`);
    this.name = 'HostUnfitError';
  }
}

/** Ctrl-C or SIGTERM: exit (130, 143) through the exit hooks, which kill live containers and remove host fixtures. */
export function exitOnInterrupt(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));
}

/** `nsrig COMMAND --help`: what the command does, its arguments, its options and its exit status. */
export const COMMAND_USAGE: Record<string, string> = {
  run: `Usage: nsrig run [--name ID] [--console-socket PATH] PROFILE [-- CMD ARGS...]

Runs one container from PROFILE in the foreground, stdio passed through; CMD replaces the
profile's process.args. Ctrl-C or SIGTERM tears the container down.
With process.terminal the program's stdio is a pty from the container's own devpts, relayed to
nsrig's stdio (a terminal stdin is put in raw mode, restored on exit, and its size followed).

Options:
  --name ID               record the container as ID while it runs, for nsrig exec, state, list and
                          kill from other processes (1-128 of A-Z a-z 0-9 _ . + -, first a letter or
                          digit); an ID a running container holds is refused (exit 125). Records live
                          in /run/nsrig-containers (root only, 0700; NSRIG_CONTAINERS_DIR overrides)
                          and go with the container; a record whose nsrig was killed is swept, with
                          its container, by the next nsrig that reads them
  --console-socket PATH   with process.terminal: send the pty master to the unix socket listening
                          at PATH (SCM_RIGHTS, as runc's --console-socket) instead of relaying it

Exit status: the program's own code; 128+N when it was killed by signal N; 125 when the container
could not be set up; 127 when the program cannot be found or run; 2 on a usage or profile error.
`,
  exec: `Usage: nsrig exec ID [--env K=V]... [--cwd DIR] [--user UID[:GID]] -- PROGRAM ARGS...

Runs PROGRAM in the running container ID (see nsrig run --name), joined as its first process is:
its namespaces and cgroups, capabilities within its bounding set, NoNewPrivileges, its seccomp
filter, the launch's rlimits; only fds 0-2 (nsrig's own stdin given over; stdout, stderr relayed). The
program has its own session: Ctrl-C, SIGTERM and SIGHUP are passed on to it, never to the container.

Options:
  --env K=V               set K over the launch's environment; repeatable
  --cwd DIR               the working directory inside (default: the launch's)
  --user UID[:GID]        the ids inside (default: the launch's; GID defaults to UID)

Exit status: the program's own code; 128+N when it was killed by signal N; 125 when the container
cannot be joined (no container ID, not running, its nsrig gone); 127 when the program cannot be
found or run; 2 on a usage error or an invalid ID.
`,
  state: `Usage: nsrig state ID

Prints the state of the container ID (see nsrig run --name) as runc state does: ociVersion, id,
status (creating, running, stopped), pid while running, bundle, rootfs, created, owner (the pid of
the nsrig that runs it).

Exit status: 0 printed, 1 no container ID, 2 usage error or an invalid ID.
`,
  list: `Usage: nsrig list [--json]

Lists the containers named with nsrig run --name whose nsrig still runs: id, pid, status, owner,
created, bundle (--json: each one's state as nsrig state prints it). Records of killed nsrig
processes are swept first.

Exit status: 0 listed, 2 usage error.
`,
  kill: `Usage: nsrig kill ID [SIGNAL]

Sends SIGNAL (default SIGTERM; a name such as KILL or SIGUSR1, or a number) to the first process
of the running container ID; its nsrig run tears the container down once that process exits.

Exit status: 0 sent, 1 no container ID or not running, 2 usage error, an unknown signal or an
invalid ID.
`,
  validate: `Usage: nsrig validate PROFILE...

Prints "FILE: OK" for each valid profile, else every error: file, field path, what was expected.

Exit status: 0 all valid, 1 a profile has errors, 2 usage error.
`,
  check: `Usage: nsrig check [options]

Property-tests the isolation invariants over generated profiles on one or more targets, or over
one config as declared (--config).

Options:
  --config FILE           check FILE as declared, never varied: what \`nsrig run\` takes (a YAML/JSON
                          profile or an OCI config.json; a relative root.path is the file's directory's).
                          Invariants that need what FILE does not declare skip with the reason; the
                          reports name FILE and its sha256. A rootfs directory must hold this host's
                          node at its path (with its libraries): the probe runs with it, nsrig's own
                          code bound read-only at /run/nsrig-rig (mount points made and removed again)
  --target builtin        the built-in engine (default)
  --target double:NAME    a deliberately broken test double of the engine (see harness/targets/doubles/)
  --runtime PATH|NAME     any OCI runtime with runc's command line (runc, crun, ...); repeatable
  --prepare-host          perform (and undo afterwards) host preparation a runtime needs (crun on hybrid cgroups)
  --lifecycle run|create-start   launch each container in one step (default) or with create, then start
  --runs N                generated profiles per invariant (default 10)
  --seed S                fast-check seed (default: random, printed)
  --only AREA|ID,...      restrict to areas or invariant ids
  --jobs K                invariants checked at once (default 2)
  --shard I/N             run the I-th of N deterministic slices
  --replay PATH           replay a counterexample path (with --seed and --only ID)
  --json F, --junit F, --html F   write results
  --trace                 trace the first case of each invariant and attach its syscall profile
                          (built-in engine: ptrace; OCI runtimes: eBPF, from the execve of the program on)
  --list                  list the invariants and exit
  --parity                print the parity table with the anchors' suites (docs/parity.md) and exit

Exit status: 0 all hold, 1 a failure, 2 usage or configuration error, 3 the host cannot run the
check (it says what is missing; nsrig doctor lists every prerequisite).
`,
  report: `Usage: nsrig report RESULTS.json... [--html F] [--junit F] [--json F]

Merges results files (shards, several targets) and renders them; several targets also print a
differential matrix.

Exit status: 0 every invariant held, 1 a failure or target error in the results, 2 usage error or
an unreadable results file.
`,
  bundle: `Usage: nsrig bundle PROFILE DIR [-- CMD ARGS...]

Writes an OCI bundle (DIR/config.json and DIR/rootfs) for PROFILE, to inspect or to run by hand
(runc run -b DIR ID), and prints the config.json path.

Exit status: 0 written, 2 usage or profile error.
`,
  trace: `Usage: nsrig trace [--backend ebpf|ptrace] [--profile P] [--policy POL] [--json F] [--generate OUT.json] -- CMD ARGS...

Counts a workload's system calls (in a container from P, else on the host), checks them against a
seccomp policy POL (OCI/Docker JSON), and writes a least-privilege policy from them.

--backend ebpf counts in the kernel (raw_syscalls tracepoints filtered by the container's cgroup)
and records the pid and arguments of the calls POL refuses; ptrace stops the workload at each call.
Without --backend: ebpf where the host allows it, else ptrace, saying why.

Exit status: the workload's own code (128+N when killed by signal N); 125 when the container could
not be set up; 127 when the program cannot be found or run; 2 on a usage, profile or policy error;
3 when --backend ebpf cannot run here.
`,
  plan: `Usage: nsrig plan PROFILE [--json] [-- CMD ARGS...]

Prints, step by step, the calls a launch of PROFILE will make and their arguments, without making
any: nsrig's own (clone flags, cgroup, id maps, veth, release), then stage 2's in the new
namespaces (each mount with its flags, pivot_root, sethostname, capability sets by name, the
seccomp program's size in instructions, execve with argv and env). CMD replaces process.args.

Options:
  --json                  the same as data: { profile, parent: [...], child: [...] }; child is the exact
                          list stage 2 receives

Exit status: 0 printed, 2 usage or profile error.
`,
  doctor: `Usage: nsrig doctor [--runtime NAME|PATH]... [--json]

Checks what this host offers nsrig, the way nsrig check's preflight does, and prints each
prerequisite with its state and, when it is missing, the fix: root, x86_64 and glibc, cgroup v2,
user namespaces, time namespaces, seccomp, a minimal container, tracing (ptrace, eBPF), and the
runc and crun on PATH with the known defects of their versions.

Options:
  --runtime NAME|PATH     a runtime nsrig check will be given: required, not only reported; repeatable
  --json                  print the findings as JSON on stdout

Exit status: 0 the host is ready, 3 a prerequisite is missing, 2 usage error.
`,
};

export const HELP = `nsrig — build containers from profiles, attack their isolation, police their syscalls

Usage:
  nsrig run [--name ID] PROFILE [-- CMD ARGS...]
                                         run one container in the foreground
  nsrig exec ID [options] -- PROGRAM ARGS...
                                         run a program in the running container ID
  nsrig state ID | nsrig list | nsrig kill ID [SIGNAL]
                                         a named container's state, all of them, a signal to one
  nsrig validate PROFILE...              print OK or every error of each profile
  nsrig check [options]                  property-test isolation invariants on a target
  nsrig report RESULTS.json... [--html F] [--junit F] [--json F]
                                         render (and merge) results files
  nsrig bundle PROFILE DIR               write an OCI bundle (config.json + rootfs) for a profile
  nsrig trace [--backend ebpf|ptrace] [--profile P] [--policy POL] [--json F] [--generate OUT.json] -- CMD ARGS...
                                         count a workload's syscalls, check them against a policy,
                                         or write a least-privilege policy
  nsrig plan PROFILE [--json]            print every call a launch of PROFILE will make, in order
  nsrig doctor [--runtime R]... [--json]  check this host's prerequisites and say how to fix them
  nsrig COMMAND --help | nsrig help COMMAND   one command's usage
  nsrig --help | --version

${COMMAND_USAGE.check!.slice(COMMAND_USAGE.check!.indexOf('Options:')).replace('Options:', 'check options:').replace('Exit status:', 'check exit status:')}`;
