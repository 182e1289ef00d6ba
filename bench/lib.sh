# shellcheck shell=bash disable=SC2034 # the variables below are for the sourcing script
# Shared helpers for bench/*. Source it; do not run it. Builds on scripts/lib.sh
# (log / warn / die, REPO_ROOT, now_us / elapsed).
#
#   BIN               a copy of build/task-sync in BENCH_TMP (others may relink
#                     build/task-sync while a benchmark runs)
#   BENCH_TMP         a temporary directory, removed on exit (bench_init)
#   bench_init        build, check the tools (hyperfine, jq, awk and BENCH_TOOLS, by
#                     default sqlite3 and psql), make BENCH_TMP, isolate the environment
#   bench_on_exit CMD run CMD (eval'd) on exit, before BENCH_TMP is removed
#   pg_bench_db NAME  start the throwaway PostgreSQL if needed (stopped on exit if
#                     so), create database NAME on it (dropped on exit) and set
#                     PG_URL to its URL
#   pg_sql URL        run SQL from stdin on URL with psql (quiet, stop on error)
#   hf NAME ARGS...   hyperfine with the house options, JSON in $BENCH_TMP/json/NAME.json
#   hf_mean_ms / hf_sd_ms / hf_min_ms / hf_median_ms NAME   mean / standard deviation /
#                     minimum / median in ms, from that JSON
#   load_line         the load average now, to print with the figures
#   docker_bench_init start of a Docker benchmark: the engine answers, the base image
#                     exists; sets BENCH_RUN (label value of the bare objects) and
#                     ID_BASE (random task/step ID base, so the container names that
#                     task-sync derives from IDs meet no other run's); everything
#                     labelled task-sync.bench=$BENCH_RUN or task-sync.task=<a task in
#                     BENCH_TASKS> is removed on exit
#   sqlite_id_base DB first task and step IDs of the SQLite database DB become ID_BASE+1
#   sqlite_db8 DB     give the SQLite database DB a random identity now, print its
#                     first 8 hex digits (the default container names carry them)
#   docker_logger F   write F: a docker wrapper (for TASK_SYNC_DOCKER) that appends each
#                     call to F.log and keeps the stdin of `exec -i` in F.stdin.N
#
# Environment: BENCH_KEEP_JSON=DIR  copy hyperfine's JSON exports to DIR before cleanup
#              BENCH_BIN=PATH      time this task-sync binary; build nothing

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
PROG="bench/${0##*/}"
BIN="$REPO_ROOT/build/task-sync"
BENCH_TMP=''
PG_STARTED=0
PG_ADMIN_URL=''
PG_URL=''
PG_DBS=()
BENCH_EXIT_CMDS=()
BENCH_TOOLS=(sqlite3 psql)
BENCH_RUN=''
BENCH_TASKS=()
ID_BASE=0

bench_on_exit() { BENCH_EXIT_CMDS+=("$1"); }

bench_cleanup() {
	local db c
	for c in "${BENCH_EXIT_CMDS[@]}"; do
		eval "$c" || warn "cleanup failed: $c"
	done
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
	for t in hyperfine jq awk "${BENCH_TOOLS[@]}"; do
		command -v "$t" >/dev/null || die "'$t' is not installed"
	done
	if [[ -n ${BENCH_BIN:-} ]]; then
		BIN=$BENCH_BIN
		log "timing $BIN (BENCH_BIN; nothing built)"
	else
		log "building: ninja -C build"
		ninja -C "$REPO_ROOT/build" </dev/null >&2 || die "build failed"
	fi
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
hf_median_ms() { jq -r '.results[0].median * 1000' "$BENCH_TMP/json/$1.json"; }

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

# ---- Docker benchmarks -------------------------------------------------------

BASE_IMAGE=task-sync-base:bookworm

docker_bench_cleanup() {
	local ids t filters=()
	[[ -n $BENCH_RUN ]] || return 0
	filters=("label=task-sync.bench=$BENCH_RUN")
	for t in "${BENCH_TASKS[@]}"; do
		filters+=("label=task-sync.task=$t")
	done
	for t in "${filters[@]}"; do
		ids=$(docker ps -aq --filter "$t" </dev/null 2>/dev/null) || true
		if [[ -n $ids ]]; then
			# shellcheck disable=SC2086 # one ID a word
			docker rm -f $ids </dev/null >/dev/null 2>&1 || warn "could not remove containers ($t)"
		fi
	done
	for t in "${filters[@]}"; do
		ids=$(docker images -q --filter "$t" </dev/null 2>/dev/null | sort -u) || true
		if [[ -n $ids ]]; then
			# shellcheck disable=SC2086 # one ID a word
			docker rmi -f $ids </dev/null >/dev/null 2>&1 || warn "could not remove images ($t)"
		fi
	done
}

docker_bench_init() {
	command -v docker >/dev/null || die "'docker' is not installed (scripts/docker-env)"
	docker info </dev/null >/dev/null 2>&1 || die "the Docker engine does not answer: run scripts/docker-env"
	docker image inspect "$BASE_IMAGE" </dev/null >/dev/null 2>&1 ||
		die "no image $BASE_IMAGE: run scripts/docker-env"
	ID_BASE=$(((RANDOM * 32768 + RANDOM) % 800000 + 100000))
	BENCH_RUN="${PROG#bench/}-$$-$ID_BASE"
	bench_on_exit docker_bench_cleanup
}

sqlite_id_base() {
	sqlite3 -bail "$1" >/dev/null <<-SQL || die "cannot set the ID sequences of $1"
		DELETE FROM sqlite_sequence WHERE name IN ('tasks', 'steps');
		INSERT INTO sqlite_sequence (name, seq) VALUES ('tasks', $ID_BASE), ('steps', $ID_BASE);
	SQL
}

sqlite_db8() {
	local id
	id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	sqlite3 -bail "$1" "INSERT INTO database_identity (id, identity) VALUES (1, '$id')" >/dev/null ||
		die "cannot set the identity of $1"
	printf '%s\n' "${id:0:8}"
}

docker_logger() {
	cat >"$1" <<-EOF
		#!/bin/sh
		# log each docker call, on one line (an argument may hold a
		# script); keep the stdin of exec -i
		n=\$(date +%s%N)
		a=\$(printf '%s ' "\$@" | tr '\n' ' ')
		printf '%s %s\\n' "\$n" "\$a" >>"$1.log"
		case " \$* " in *" exec -i "*) tee "$1.stdin.\$n" | exec docker "\$@" ;; esac
		exec docker "\$@"
	EOF
	chmod +x "$1"
}
