# shellcheck shell=bash disable=SC2034 # the variables below are for the sourcing script
# Shared helpers for bench/*. Source it; do not run it. Builds on scripts/lib.sh
# (log / warn / die, REPO_ROOT, now_us / elapsed).
#
#   BIN               a copy of build/task-sync in BENCH_TMP (others may relink
#                     build/task-sync while a benchmark runs)
#   BENCH_TMP         a temporary directory, removed on exit (bench_init)
#   bench_init        build, check the tools, make BENCH_TMP, isolate the environment
#   pg_bench_db NAME  start the throwaway PostgreSQL if needed (stopped on exit if
#                     so), create database NAME on it (dropped on exit) and set
#                     PG_URL to its URL
#   pg_sql URL        run SQL from stdin on URL with psql (quiet, stop on error)
#   hf NAME ARGS...   hyperfine with the house options, JSON in $BENCH_TMP/json/NAME.json
#   hf_mean_ms / hf_sd_ms / hf_min_ms NAME   mean / standard deviation / minimum in ms,
#                     from that JSON
#   load_line         the load average now, to print with the figures
#
# Environment: BENCH_KEEP_JSON=DIR  copy hyperfine's JSON exports to DIR before cleanup

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
PROG="bench/${0##*/}"
BIN="$REPO_ROOT/build/task-sync"
BENCH_TMP=''
PG_STARTED=0
PG_ADMIN_URL=''
PG_URL=''
PG_DBS=()

bench_cleanup() {
	local db
	if [[ -n $PG_ADMIN_URL ]]; then
		for db in "${PG_DBS[@]}"; do
			psql -X -q -d "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS $db" \
				</dev/null >/dev/null 2>&1 || warn "could not drop database $db"
		done
	fi
	if [[ $PG_STARTED -eq 1 ]]; then
		"$REPO_ROOT/scripts/pg" stop </dev/null >/dev/null 2>&1 || warn "could not stop postgres"
	fi
	if [[ -n $BENCH_TMP && -n ${BENCH_KEEP_JSON:-} && -d $BENCH_TMP/json ]]; then
		if ! { mkdir -p "$BENCH_KEEP_JSON" && cp "$BENCH_TMP"/json/*.json "$BENCH_KEEP_JSON"/; } 2>/dev/null; then
			warn "could not copy the JSON exports to $BENCH_KEEP_JSON"
		fi
	fi
	if [[ -n $BENCH_TMP ]]; then
		rm -rf "$BENCH_TMP"
	fi
}

bench_init() {
	local t
	for t in hyperfine jq sqlite3 psql awk; do
		command -v "$t" >/dev/null || die "'$t' is not installed"
	done
	log "building: ninja -C build"
	ninja -C "$REPO_ROOT/build" </dev/null >&2 || die "build failed"
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/task-sync-bench.XXXXXX")
	cp "$BIN" "$BENCH_TMP/task-sync" || die "cannot copy $BIN"
	BIN="$BENCH_TMP/task-sync"
	"$BIN" version </dev/null >/dev/null || die "$BIN does not run"
	mkdir -p "$BENCH_TMP/home/.config/task" "$BENCH_TMP/work" "$BENCH_TMP/json"
	# nothing of the caller's configuration may leak in: no config file, no .env,
	# no database settings; every command runs in an empty working directory
	export HOME="$BENCH_TMP/home"
	export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config"
	export TASK_SYNC_CONFIG="$HOME/.config/task/task.conf"
	unset DATABASE_URL DB_HOST DB_PORT DB_USER DB_PASSWORD DB_NAME DB_SSL \
		PASS_MARKER FAIL_MARKER TIMEOUT_MARKER TIMEOUT_SECONDS \
		PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGSERVICE
	cd "$BENCH_TMP/work" || die "cannot enter $BENCH_TMP/work"
}

pg_bench_db() {
	local name=$1 url
	[[ $name =~ ^[a-z_][a-z0-9_]*$ ]] || die "bad database name '$name'"
	if ! "$REPO_ROOT/scripts/pg" status </dev/null >/dev/null 2>&1; then
		"$REPO_ROOT/scripts/pg" start </dev/null >/dev/null || die "cannot start PostgreSQL (scripts/pg start)"
		PG_STARTED=1
	fi
	url=$("$REPO_ROOT/scripts/pg" url </dev/null) || die "scripts/pg url failed"
	PG_ADMIN_URL="${url%/*}/postgres"
	psql -X -q -v ON_ERROR_STOP=1 -d "$PG_ADMIN_URL" </dev/null >/dev/null \
		-c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name" ||
		die "cannot create database $name"
	PG_DBS+=("$name")
	PG_URL="${url%/*}/$name"
}

pg_sql() {
	psql -X -q -v ON_ERROR_STOP=1 -d "$1" >/dev/null
}

# hf NAME HYPERFINE-ARGS... (the command last). No shell between hyperfine and
# the command (-N), so even 1 ms commands are measured without a shell's noise;
# hyperfine sends the command's stdout and stderr to /dev/null.
hf() {
	local name=$1
	shift
	hyperfine -N --style basic --export-json "$BENCH_TMP/json/$name.json" "$@" \
		</dev/null >&2 || die "hyperfine failed for $name"
}

hf_mean_ms() { jq -r '.results[0].mean * 1000' "$BENCH_TMP/json/$1.json"; }
hf_sd_ms() { jq -r '.results[0].stddev * 1000' "$BENCH_TMP/json/$1.json"; }
hf_min_ms() { jq -r '.results[0].min * 1000' "$BENCH_TMP/json/$1.json"; }

# fmt_ms MS: "1.23"
fmt_ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }
# ratio A B: A / B as "1.23"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# le A B: exit 0 iff A <= B (decimals)
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

machine_line() {
	local model
	model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	printf '%s, %s CPUs, %s, %s\n' "${model:-unknown CPU}" "$(nproc)" \
		"$(awk '/MemTotal/ { printf "%.0f GiB RAM", $2 / 1048576 }' /proc/meminfo)" \
		"$(uname -sr)"
}

load_line() { printf 'load average %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"; }
