# Sourced by each deliberately broken wrapper runtime. A wrapper is a runtime with runc's command
# line that breaks one property of config.json (or of the launch) and then execs the real runtime,
# so the harness can show that each broken property is caught by the invariant that guards it.
#
# NSRIG_WRAPPED_RUNTIME names the runtime to exec (default: runc on PATH).
# Most wrappers touch create and run only, the runc-exec-* ones exec only, runc-start-rereads-config
# start only, runc-create-runs-program create and start, runc-kill-sends-other-signal kill,
# runc-delete-leaves-cgroup delete, runc-delete-removes-foreign-cgroup start and delete,
# runc-delete-forces delete, runc-kill-stopped-deletes kill,
# runc-start-running-succeeds start; every other command passes through unchanged.

WRAPPED_RUNTIME="${NSRIG_WRAPPED_RUNTIME:-runc}"

# Splits runc's command line: global options, the command, the command's options and arguments.
# Sets WRAPPER_COMMAND, WRAPPER_BUNDLE (absolute or relative to the cwd, default "."),
# WRAPPER_GLOBAL (array) and WRAPPER_REST (array, what follows the command).
wrapper_parse() {
  local args=("$@") n=$# i=0 j
  while ((i < n)); do
    case "${args[i]}" in
      # runc's and crun's global options that take a separate value
      --root | --log | --log-format | --criu | --rootless | --cgroup-manager) i=$((i + 2)) ;;
      -*) i=$((i + 1)) ;;
      *) break ;;
    esac
  done
  WRAPPER_GLOBAL=("${args[@]:0:i}")
  WRAPPER_COMMAND="${args[i]:-}"
  WRAPPER_REST=("${args[@]:i+1}")
  WRAPPER_BUNDLE=.
  for ((j = 0; j < ${#WRAPPER_REST[@]}; j++)); do
    case "${WRAPPER_REST[j]}" in
      --bundle | -b) WRAPPER_BUNDLE="${WRAPPER_REST[j + 1]}"; j=$((j + 1)) ;;
      --bundle=*) WRAPPER_BUNDLE="${WRAPPER_REST[j]#--bundle=}" ;;
      -b=*) WRAPPER_BUNDLE="${WRAPPER_REST[j]#-b=}" ;;
    esac
  done
}

# Rewrites BUNDLE/config.json in place with a JavaScript statement over `c`, the parsed config.
wrapper_edit_config() {
  wrapper_edit_json "$WRAPPER_BUNDLE/config.json" "$1"
}

# The process.json an exec was given (-p/--process), after wrapper_parse; empty when none.
wrapper_exec_process_file() {
  local j
  for ((j = 0; j < ${#WRAPPER_REST[@]}; j++)); do
    case "${WRAPPER_REST[j]}" in
      --process | -p) echo "${WRAPPER_REST[j + 1]}"; return ;;
      --process=*) echo "${WRAPPER_REST[j]#--process=}"; return ;;
    esac
  done
}

# Rewrites a JSON file in place with a JavaScript statement over `c`, the parsed document.
# Integers beyond 2^53 (RLIM_INFINITY) travel as strings so they are written back exactly.
wrapper_edit_json() {
  local file="$1" statement="$2"
  node -e '
    const fs = require("fs");
    const file = process.argv[1];
    const text = fs.readFileSync(file, "utf8").replace(/(:\s*)(\d{16,})\b/g, "$1\"@@big:$2\"");
    const c = JSON.parse(text);
    new Function("c", process.argv[2])(c);
    fs.writeFileSync(file, JSON.stringify(c, null, 2).replace(/"@@big:(\d+)"/g, "$1"));
  ' "$file" "$statement" || { echo "wrapper runtime: could not rewrite $file" >&2; exit 97; }
}

# The usual wrapper: break the config for create and run, then become the real runtime.
wrapper_break_config_and_exec() {
  local statement="$1"
  shift
  wrapper_parse "$@"
  case "$WRAPPER_COMMAND" in
    create | run) wrapper_edit_config "$statement" ;;
  esac
  exec "$WRAPPED_RUNTIME" "$@"
}

# For create and run, execs the real runtime with WRAPPER_EXTRA (an array of options) placed right
# after the command; anything else passes through. Call wrapper_parse "$@" first.
wrapper_exec_with_command_options() {
  case "$WRAPPER_COMMAND" in
    create | run) exec "$WRAPPED_RUNTIME" "${WRAPPER_GLOBAL[@]}" "$WRAPPER_COMMAND" "${WRAPPER_EXTRA[@]}" "${WRAPPER_REST[@]}" ;;
  esac
  exec "$WRAPPED_RUNTIME" "$@"
}
