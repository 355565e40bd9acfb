# shellcheck shell=bash
# lib.sh - helpers shared by the ci/ scripts: source it.
#
#   HEAPLAB_ROOT           the project root (set on sourcing)
#   need_packages pkg...   install the Debian packages that are missing
#   run cmd...             print the command, then run it
#   section "title"        start a step: a header, and its timer
#   section_end            the step's duration
#   timer_start / timer_elapsed   seconds since timer_start, for a whole run

# The project root, whichever directory the script was started from.
# shellcheck disable=SC2034  # used by the scripts that source this file
HEAPLAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '%s\n' "$*" >&2; }

# Prints the command (shell-quoted, so it can be pasted) and runs it.
run() {
    printf '+' >&2
    printf ' %q' "$@" >&2
    printf '\n' >&2
    "$@"
}

timer_start() { HEAPLAB_TIMER_START=$(date +%s); }
timer_elapsed() { echo $(( $(date +%s) - ${HEAPLAB_TIMER_START:-$(date +%s)} )); }

# Seconds as "1m05s".
format_duration() { printf '%dm%02ds' $(( $1 / 60 )) $(( $1 % 60 )); }

section() {
    HEAPLAB_SECTION="$*"
    HEAPLAB_SECTION_START=$(date +%s)
    printf '\n==== %s ====\n' "$HEAPLAB_SECTION"
}

section_end() {
    local took=$(( $(date +%s) - HEAPLAB_SECTION_START ))
    printf '==== %s: done in %s ====\n' "$HEAPLAB_SECTION" "$(format_duration "$took")"
}

# Runs a command as root: directly when root, through sudo otherwise.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        run "$@"
    elif command -v sudo >/dev/null 2>&1; then
        run sudo "$@"
    else
        log "ci: need root (or sudo) to run: $*"
        return 1
    fi
}

# Installs the Debian packages that are not installed yet; does nothing (no
# apt-get update either) when all of them are.
need_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        log "ci: packages present: $*"
        return 0
    fi
    log "ci: installing ${missing[*]}"
    # env, not export: sudo does not pass the caller's environment on.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
}
