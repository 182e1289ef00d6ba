# shellcheck shell=bash disable=SC2154 # status, output, lines, stderr come from bats' run
# Common setup for the CLI tests. Every .bats file starts with `load helpers`.
#
# Environment:
#   TASK_SYNC_BIN       the binary (default: build/task-sync in this repository)
#   TASK_SYNC_BACKEND   sqlite (default) or postgres
#   TASK_SYNC_PG_URL    the PostgreSQL test server (postgres backend only);
#                       setup_suite.bash gives each run a database of its own
#                       there, and ts_setup gives each test one of the run's
#                       slots (pg_slot), whose task-sync tables are reset
#                       before every test; in a test TASK_SYNC_PG_URL and
#                       DATABASE_URL are that slot's database
#
# Each test gets a fresh HOME under BATS_TEST_TMPDIR, with XDG_DATA_HOME below
# it (so the embedded SQLite database is new for every test), TASK_SYNC_CONFIG
# pointing at a task.conf that does not exist yet, and a fresh working
# directory (so no stray .env is read). Nothing is written to the real home.
# Every variable named DB_* or PG* is unset: do not name test variables so.
#
# Helpers:
#   ts ARGS...            run task-sync
#   run_ts N ARGS...      `run --separate-stderr` task-sync and assert exit N
#                         (stdout in $output/$lines, stderr in $stderr)
#   out_has / out_lacks / err_has / err_lacks STRING   fixed-string checks
#   out_is STRING         stdout is exactly STRING
#   err_is STRING         stderr is exactly STRING
#   masked_output         stdout with timestamps shown as <ts>
#   assert_json           stdout parses as JSON
#   json_get EXPR [JSON]  print EXPR (Python, over `d`) of stdout or JSON, as
#                         compact JSON with sorted keys
#   assert_json_eq EXPR EXPECTED   json_get EXPR equals EXPECTED (JSON text)
#   db_snapshot           every task and step, as JSON (for before/after checks)
#   assert_db_unchanged BEFORE
#   db_sql SQL            run SQL on the test database (sqlite3 or psql)
#   make_task NAME [ARGS] create a task, print its ID
#   make_step TASK TITLE SETTINGS   create a step, print its ID
#   make_step_unchecked TASK TITLE SETTINGS   write a step straight into the
#                         database (settings step create would refuse, such as
#                         a dependency on a step that does not exist), print its ID
#   write_conf LINES...   write task.conf, one argument per line
#   pg_only / sqlite_only skip the test on the other backend

bats_require_minimum_version 1.5.0

# This file is sourced again by every test: nothing here starts a process
# once the run's first test has made the links below (it used to start about
# ten a test: 50 ms of CPU on the 2-core VM, where bats itself takes 80 ms)
# (BATS_TEST_DIRNAME is absolute: tests/cli or tests/docker)
REPO_ROOT=${BATS_TEST_DIRNAME%/tests/*}
TS_BIN="${TASK_SYNC_BIN:-$REPO_ROOT/build/task-sync}"
TS_BACKEND="${TASK_SYNC_BACKEND:-sqlite}"

# ts_path_first NAME TARGET: NAME on PATH is TARGET, through a link in
# $BATS_RUN_TMPDIR/NAME/ put first on PATH
ts_path_first() {
	local d="$BATS_RUN_TMPDIR/$1"
	if [[ ! -L $d/$1 ]]; then
		mkdir -p "$d"
		ln -s "$2" "$d/$1" 2>/dev/null || true
	fi
	PATH="$d:$PATH"
}

# Debian's python3 ahead of a version manager's shim on PATH: pyenv's shim
# costs about 0.7 s a call, and the tests make thousands of calls
# (`hash` finds the command as PATH would, without a subshell: BASH_CMDS)
hash python3 2>/dev/null || true
if [[ -x /usr/bin/python3 && ${BASH_CMDS[python3]:-} != /usr/bin/python3 ]]; then
	ts_path_first python3 /usr/bin/python3
fi
# and the newest installed psql itself ahead of Debian's /usr/bin/psql, which
# is pg_wrapper, a Perl script: 96 ms a call against 40 ms, and every
# PostgreSQL test calls psql at least once (pg_fresh)
ts_newest_psql() {
	local p v best=-1
	TS_PSQL=
	for p in /usr/lib/postgresql/*/bin/psql; do
		v=${p#/usr/lib/postgresql/}
		v=${v%%/*}
		if [[ -x $p && $v =~ ^[0-9]+$ ]] && ((v > best)); then
			best=$v
			TS_PSQL=$p
		fi
	done
}
ts_newest_psql
hash psql 2>/dev/null || true
if [[ -n $TS_PSQL && ${BASH_CMDS[psql]:-} == /usr/bin/psql ]]; then
	ts_path_first psql "$TS_PSQL"
fi

# an RFC 3339 UTC timestamp as task-sync prints them
TS_RE='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z'

fail() {
	printf '%s\n' "$*" >&2
	return 1
}

ts() {
	"$TS_BIN" "$@"
}

ts_setup() {
	[[ -x $TS_BIN ]] || fail "task-sync binary '$TS_BIN' is not built (ninja -C build, or set TASK_SYNC_BIN)"
	export HOME="$BATS_TEST_TMPDIR/home"
	export XDG_DATA_HOME="$HOME/.local/share"
	export XDG_CONFIG_HOME="$HOME/.config"
	export TASK_SYNC_CONFIG="$HOME/.config/task/task.conf"
	mkdir -p "$HOME/.config/task" "$BATS_TEST_TMPDIR/work"
	# the caller's database settings, markers and libpq defaults must not leak in
	unset DATABASE_URL PASS_MARKER FAIL_MARKER TIMEOUT_MARKER TIMEOUT_SECONDS LOG_FILE
	unset "${!DB_@}" "${!PG@}"
	cd "$BATS_TEST_TMPDIR/work" || return 1
	TS_SQLITE_DB="$XDG_DATA_HOME/task-sync/task-sync.db"
	case $TS_BACKEND in
	sqlite) ;;
	postgres)
		[[ -n ${TASK_SYNC_PG_URL:-} ]] || fail "TASK_SYNC_BACKEND=postgres needs TASK_SYNC_PG_URL"
		pg_slot || fail "cannot take a PostgreSQL test database"
		export DATABASE_URL="$TASK_SYNC_PG_URL"
		pg_fresh || fail "cannot reset the PostgreSQL test database"
		;;
	*) fail "unknown TASK_SYNC_BACKEND '$TS_BACKEND' (sqlite or postgres)" ;;
	esac
}

setup() {
	ts_setup
}

# the schema's fingerprint: tables and columns, constraints, indexes,
# triggers, functions, views and the migrations recorded
SCHEMA_PRINT_SQL="SELECT md5(concat_ws('|',
	(SELECT string_agg(table_name || '.' || column_name || ' ' || data_type || ' ' ||
		coalesce(column_default, ''), ',' ORDER BY table_name, ordinal_position)
		FROM information_schema.columns WHERE table_schema = 'public'),
	(SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ',' ORDER BY conrelid, conname)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace),
	(SELECT string_agg(indexdef, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'),
	(SELECT string_agg(tgrelid::regclass || ' ' || pg_get_triggerdef(oid), ',' ORDER BY tgrelid, tgname)
		FROM pg_trigger WHERE NOT tgisinternal),
	(SELECT string_agg(proname || ' ' || md5(prosrc), ',' ORDER BY proname, oid)
		FROM pg_proc WHERE pronamespace = 'public'::regnamespace),
	(SELECT string_agg(viewname, ',' ORDER BY viewname) FROM pg_views WHERE schemaname = 'public'),
	(SELECT string_agg(version || ' ' || dirty, ',' ORDER BY version) FROM schema_migrations)))"

# pg_slot: take one of the run's PostgreSQL test databases for this test
# (TS_PG_SLOT, 1 to TS_PG_SLOTS), so tests run side by side (bats --jobs)
# never share one. A slot is held by an exclusive flock on
# $BATS_RUN_TMPDIR/pg-slot-N.lock, through a file descriptor left open for
# the test's life: it is free again when the test's process and whatever it
# started (a worker, a proxy) have ended. Slot 1 is the run's database
# (setup_suite.bash); slot N > 1 is <that name>_N, created when first taken
# and dropped by teardown_suite. Without a run database (no right to create
# one) there is only slot 1, TASK_SYNC_PG_URL as given, and tests wait for it.
# Points TASK_SYNC_PG_URL at the slot's database.
TS_PG_SLOTS=4
pg_slot() {
	local lock="$BATS_RUN_TMPDIR/pg-slot" fd i tries run_db=${TASK_SYNC_PG_RUN_DB:-}
	[[ -z ${TS_PG_SLOT:-} ]] || return 0
	if [[ -z $run_db ]]; then
		exec {fd}>"$lock-1.lock" && flock "$fd" || return 1
		TS_PG_SLOT=1
		return 0
	fi
	# four slots for two jobs: one is free unless a test left a process behind
	for ((tries = 0; tries < 600; tries++)); do
		for ((i = 1; i <= TS_PG_SLOTS; i++)); do
			exec {fd}>"$lock-$i.lock" || return 1
			if flock -n "$fd"; then
				TS_PG_SLOT=$i
				break 2
			fi
			exec {fd}>&-
		done
		sleep 0.5
	done
	[[ -n ${TS_PG_SLOT:-} ]] || fail "no free PostgreSQL test slot of $TS_PG_SLOTS (processes of earlier tests still hold them)"
	[[ $TS_PG_SLOT -gt 1 ]] || return 0
	# the run's database name appears once in its URL, as its path
	export TASK_SYNC_PG_URL="${TASK_SYNC_PG_URL/"/$run_db"/"/${run_db}_$TS_PG_SLOT"}"
	if [[ ! -e $lock-$TS_PG_SLOT.made ]]; then
		psql -q -X -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_ADMIN_URL" \
			-c "CREATE DATABASE ${run_db}_$TS_PG_SLOT" >/dev/null || return 1
		: >"$lock-$TS_PG_SLOT.made"
	fi
}

# pg_fresh: the test database as `migrate reset --yes` leaves it. The first
# test in a slot resets it and keeps the schema's fingerprint; a later test
# whose database has that schema still only empties the tables and restarts
# their sequences (one psql: a reset costs ten times its CPU); any other
# database (a migration undone, a table or trigger a test added) is reset.
pg_fresh() {
	local print="$BATS_RUN_TMPDIR/pg-schema-${TS_PG_SLOT:-1}"
	if [[ -s $print ]] && psql -q -X -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_URL" >/dev/null 2>&1 <<-SQL; then
		DO \$\$
		BEGIN
			IF ($SCHEMA_PRINT_SQL) IS DISTINCT FROM '$(cat "$print")' THEN
				RAISE EXCEPTION 'the schema changed';
			END IF;
			EXECUTE (SELECT 'TRUNCATE ' || string_agg(quote_ident(tablename), ', ') || ' RESTART IDENTITY'
				FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations');
		END \$\$;
	SQL
		return 0
	fi
	"$TS_BIN" migrate reset --yes >/dev/null || return 1
	psql -q -X -A -t -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_URL" -c "$SCHEMA_PRINT_SQL" >"$print"
}

pg_only() {
	[[ $TS_BACKEND == postgres ]] || skip "PostgreSQL only"
}

sqlite_only() {
	[[ $TS_BACKEND == sqlite ]] || skip "SQLite only"
}

# ---- running and asserting --------------------------------------------------

show_run() {
	printf -- '--- exit status: %s\n--- stdout:\n%s\n--- stderr:\n%s\n' \
		"$status" "$output" "${stderr:-}" >&2
}

# check_status N: the last `run` exited N
check_status() {
	if [[ $status -ne $1 ]]; then
		printf 'expected exit status %s, got %s\n' "$1" "$status" >&2
		show_run
		return 1
	fi
}

run_ts() {
	local want=$1
	shift
	run --separate-stderr "$TS_BIN" "$@"
	check_status "$want"
}

out_has() {
	[[ $output == *"$1"* ]] || { show_run; fail "stdout lacks: $1"; }
}

out_lacks() {
	[[ $output != *"$1"* ]] || { show_run; fail "stdout has: $1"; }
}

err_has() {
	[[ ${stderr:-} == *"$1"* ]] || { show_run; fail "stderr lacks: $1"; }
}

err_lacks() {
	[[ ${stderr:-} != *"$1"* ]] || { show_run; fail "stderr has: $1"; }
}

# stdout with every timestamp replaced by <ts>
masked_output() {
	sed -E "s/$TS_RE/<ts>/g" <<<"$output"
}

out_is() {
	[[ $output == "$1" ]] || {
		show_run
		fail "stdout differs; expected:"$'\n'"$1"
	}
}

err_is() {
	[[ $stderr == "$1" ]] || {
		show_run
		fail "stderr differs; expected:"$'\n'"$1"
	}
}

assert_json() {
	python3 -c 'import json,sys; json.load(sys.stdin)' <<<"$output" ||
		{ show_run; fail "stdout is not JSON"; }
}

json_get() {
	python3 -c '
import json, sys
d = json.loads(sys.argv[2])
print(json.dumps(eval(sys.argv[1], {"d": d}), sort_keys=True, separators=(",", ":")))
' "$1" "${2-$output}"
}

# assert_json_eq EXPR EXPECTED: EXPR over stdout's JSON equals the JSON text EXPECTED
assert_json_eq() {
	python3 -c '
import json, sys
got = json.dumps(eval(sys.argv[1], {"d": json.loads(sys.argv[2])}), sort_keys=True)
want = json.dumps(json.loads(sys.argv[3]), sort_keys=True)
if got != want:
    sys.exit("json %s: expected %s, got %s" % (sys.argv[1], want, got))
' "$1" "$output" "$2" || { show_run; fail "assert_json_eq failed"; }
}

# ---- the database -----------------------------------------------------------

db_snapshot() {
	"$TS_BIN" task list --json && "$TS_BIN" step list --json
}

assert_db_unchanged() {
	local now
	now=$(db_snapshot 2>&1) || fail "cannot read the database: $now"
	[[ $now == "$1" ]] || fail "the database changed"$'\n'"before: $1"$'\n'"after: $now"
}

db_sql() {
	case $TS_BACKEND in
	sqlite) sqlite3 -batch -bail "$TS_SQLITE_DB" "$1" ;;
	postgres) psql -q -X -A -t -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_URL" -c "$1" ;;
	esac
}

make_task() {
	local name=$1
	shift
	"$TS_BIN" task create --name "$name" --quiet "$@"
}

make_step() {
	"$TS_BIN" step create --task "$1" --title "$2" --settings "$3" --quiet
}

make_step_unchecked() {
	local q="'"
	local title=${2//$q/$q$q} settings=${3//$q/$q$q}
	db_sql "INSERT INTO steps (task_id, title, settings) VALUES ($1, '$title', '$settings') RETURNING id;"
}

write_conf() {
	mkdir -p "$(dirname "$TASK_SYNC_CONFIG")"
	printf '%s\n' "$@" >"$TASK_SYNC_CONFIG"
}

# a ./task-sync in the working directory, so the seed's "./task-sync ..."
# lines run exactly as written
link_wrapper() {
	ln -sf "$TS_BIN" task-sync
}
