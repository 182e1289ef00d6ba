# shellcheck shell=bash disable=SC2034 # the variables below are for the sourcing script
# Shared helpers for scripts/*. Source it; do not run it.
#
#   PROG            "scripts/NAME", used as the prefix of every message
#   REPO_ROOT       absolute path of the repository
#   ENV_D           /tmp/task-sync-env.d: pid files, logs, registry state
#   log / warn / die, need_root, need_pkgs, now_us / elapsed,
#   pid_alive, wait_for, wait_gone, stop_pid, take_lock

PROG="scripts/${0##*/}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
ENV_D=/tmp/task-sync-env.d

# ---- messages (all on stderr, so stdout stays clean for callers) -----------

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }

# die [-c CODE] MESSAGE...: one-line error, then exit CODE (default 1).
die() {
	local code=1
	if [[ ${1:-} == -c ]]; then
		code=$2
		shift 2
	fi
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit "$code"
}

need_root() {
	[[ $EUID -eq 0 ]] || die "must run as root (${1:-this step needs it})"
}

# ---- time -------------------------------------------------------------------

# Microseconds since the epoch; EPOCHREALTIME's decimal point may follow the locale.
now_us() { printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"; }

# elapsed START_US: seconds since START_US, as "1.23".
elapsed() {
	local d=$(($(now_us) - $1))
	printf '%d.%02d\n' $((d / 1000000)) $((d % 1000000 / 10000))
}

# ---- packages ---------------------------------------------------------------

# need_pkgs PKG...: install the Debian packages that are not installed ("ii ").
# One dpkg-query for all of them; apt-get update only when something is missing.
need_pkgs() {
	local -A have=()
	local name status p t0
	local -a missing=()
	while IFS=$'\t' read -r name status; do
		if [[ $status == 'ii ' ]]; then
			have[$name]=1
		fi
	done < <(dpkg-query -W -f='${Package}\t${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
	for p in "$@"; do
		if [[ -z ${have[$p]:-} ]]; then
			missing+=("$p")
		fi
	done
	if [[ ${#missing[@]} -eq 0 ]]; then
		return 0
	fi
	need_root "installing packages: ${missing[*]}"
	t0=$(now_us)
	log "installing ${#missing[@]} package(s): ${missing[*]}"
	apt-get update -q </dev/null >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		-o DPkg::Lock::Timeout=300 "${missing[@]}" </dev/null >&2 ||
		die "apt-get install failed: ${missing[*]}"
	log "packages installed ($(elapsed "$t0") s)"
}

# ---- processes ----------------------------------------------------------------

# pid_alive PID [COMM]: PID is a live process (a zombie counts as dead) and, if
# COMM is given, /proc/PID/comm is exactly COMM.
pid_alive() {
	local pid=${1:-} want=${2:-} stat state comm
	[[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
	read -r stat 2>/dev/null <"/proc/$pid/stat" || return 1
	# comm sits in parentheses and may hold spaces; the state follows the last ')'
	state=${stat##*) }
	state=${state%% *}
	[[ $state != Z && $state != X ]] || return 1
	if [[ -n $want ]]; then
		read -r comm 2>/dev/null <"/proc/$pid/comm" || return 1
		[[ $comm == "$want" ]] || return 1
	fi
	return 0
}

# wait_for SECONDS PID CMD...: run CMD every 0.1 s until it succeeds (return 0).
# Return 1 after SECONDS, or as soon as PID (if not empty) is no longer alive.
wait_for() {
	local limit=$1 pid=$2 deadline
	shift 2
	deadline=$(($(now_us) + limit * 1000000))
	while true; do
		if "$@" >/dev/null 2>&1 </dev/null; then
			return 0
		fi
		if [[ -n $pid ]] && ! pid_alive "$pid"; then
			return 1
		fi
		if (($(now_us) >= deadline)); then
			return 1
		fi
		sleep 0.1
	done
}

# wait_gone SECONDS PID: wait until PID has left /proc (or is a zombie).
wait_gone() {
	local limit=$1 pid=$2 deadline
	deadline=$(($(now_us) + limit * 1000000))
	while pid_alive "$pid"; do
		if (($(now_us) >= deadline)); then
			return 1
		fi
		sleep 0.05
	done
	return 0
}

# stop_pid PID COMM SIGNAL SECONDS: signal PID if it is a live COMM, then wait
# until it is gone. Returns 0 if it is gone (or never ran), 1 if it outlived SECONDS.
stop_pid() {
	local pid=$1 comm=$2 sig=$3 limit=$4
	if ! pid_alive "$pid" "$comm"; then
		return 0
	fi
	kill "-$sig" "$pid" 2>/dev/null || true
	wait_gone "$limit" "$pid"
}

# read_pid FILE: print the first line of FILE if it is a number, else nothing.
read_pid() {
	local pid=''
	if [[ -r $1 ]]; then
		read -r pid <"$1" || true
	fi
	if [[ $pid =~ ^[0-9]+$ ]]; then
		printf '%s\n' "$pid"
	fi
}

# take_lock NAME: serialise concurrent runs of one script with flock on fd 9.
# Daemons started while holding it must be started with 9>&- so they do not inherit it.
take_lock() {
	mkdir -p "$ENV_D"
	exec 9>"$ENV_D/$1.lock"
	flock -w 300 9 || die "timed out waiting for $ENV_D/$1.lock"
}
