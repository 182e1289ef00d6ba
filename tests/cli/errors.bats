#!/usr/bin/env bats
# the top level, help everywhere, usage errors, and database errors

load helpers

# every command that takes options, as "group sub"
SUBCOMMANDS=(
	"task create" "task list" "task info" "task edit" "task delete" "task reset-containers"
	"step create" "step list" "step info" "step edit" "step copy" "step delete" "step tree"
	"step cleanup-rubric-shells"
	"migrate up" "migrate down" "migrate status" "migrate force" "migrate reset"
	"config" "cleanup"
)

# commands that need the database, with valid arguments
NEEDS_DB=(
	"task list" "task create --name x" "task info 1" "task edit 1 --set name=y" "task delete 1"
	"task reset-containers 1"
	"step list" "step create --task 1 --title t --settings {\"file_exists\":\"a\"}" "step info 1"
	"step edit 1 --set title=u" "step copy --id 1 --to-task-id 1" "step delete 1" "step tree"
	"step cleanup-rubric-shells 1" "cleanup legacy-results"
	"migrate up" "migrate status" "migrate down --yes --step 1" "migrate force 3" "migrate reset --yes"
)

# one task and one step, and the snapshot of them
some_rows() {
	make_task demo >/dev/null
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	BEFORE=$(db_snapshot)
}

# run every DB command with the current environment and expect exit 3 and MESSAGE
all_fail_with() {
	local c
	local -a argv
	[[ ${#NEEDS_DB[@]} -eq 20 ]] || fail "NEEDS_DB lost its entries"
	for c in "${NEEDS_DB[@]}"; do
		read -r -a argv <<<"$c"
		run --separate-stderr "$TS_BIN" "${argv[@]}"
		check_status 3
		err_has "$1"
		err_lacks "hunter2"
		[[ -z $output ]] || { show_run; fail "stdout is not empty for: $c"; }
		[[ $stderr == error:* ]] || { show_run; fail "stderr does not start with error: for: $c"; }
	done
}

teardown() {
	# the read-only database's folder, when its test failed half-way
	if [[ -n ${RO:-} ]]; then rm -rf "$RO"; fi
}

# ---- the top level -----------------------------------------------------------

# bats test_tags=no-storage
@test "no arguments: usage on stderr, exit 2" {
	run_ts 2
	err_has "usage: task-sync <command> [<args>]"
	[[ -z $output ]]
}

# bats test_tags=no-storage
@test "--help, -h and help print the commands and exit codes on stdout" {
	local h
	for h in --help -h help; do
		run_ts 0 "$h"
		out_has "usage: task-sync <command> [<args>]"
		out_has "  task "
		out_has "  step "
		out_has "  migrate "
		out_has "  config "
		out_has "  cleanup "
		out_has "  version "
		out_has "Exit codes: 0 ok, 1 a step failed, 2 usage error, 3 configuration or database error, 4 not found."
		[[ -z $stderr ]]
	done
}

# bats test_tags=no-storage
@test "version and --version print the version" {
	run_ts 0 version
	[[ $output =~ ^task-sync\ [0-9]+\.[0-9]+\.[0-9]+\ \(.+\)$ ]] || { show_run; false; }
	v=$output
	run_ts 0 --version
	out_is "$v"
}

# bats test_tags=no-storage
@test "an unknown command exits 2 with a hint" {
	run_ts 2 tasks list
	err_has "error: unknown command 'tasks'"
	err_has "hint: see 'task-sync --help'"
	[[ -z $output ]]
	run_ts 2 --verbose
	err_has "unknown command '--verbose'"
}

# bats test_tags=no-storage
@test "-h and --help work on every command without touching the database" {
	local c h
	local -a argv
	export DATABASE_URL=postgres://postgres@127.0.0.1:1/x
	[[ ${#SUBCOMMANDS[@]} -eq 21 ]]
	for c in task step migrate "${SUBCOMMANDS[@]}"; do
		read -r -a argv <<<"$c"
		for h in -h --help; do
			run --separate-stderr "$TS_BIN" "${argv[@]}" "$h"
			check_status 0
			out_has "usage: task-sync $c"
			[[ -z $stderr ]] || { show_run; false; }
		done
	done
	# --help anywhere among the options
	run_ts 0 step create --task 1 --help
	out_has "usage: task-sync step create"
}

# bats test_tags=no-storage
@test "an unknown option exits 2 with a hint naming the command" {
	local c
	local -a argv
	for c in "${SUBCOMMANDS[@]}"; do
		read -r -a argv <<<"$c"
		run --separate-stderr "$TS_BIN" "${argv[@]}" --no-such-option
		check_status 2
		err_has "error: unknown option '--no-such-option' for '$c'"
		err_has "hint: see 'task-sync $c --help'"
		run --separate-stderr "$TS_BIN" "${argv[@]}" -Z
		check_status 2
		err_has "unknown option '-Z'"
	done
}

@test "a mistyped long option gets the did-you-mean hint a mistyped command gets" {
	make_task demo >/dev/null
	before=$(db_snapshot)
	# the issue: "`--task_id` gets the same \"did you mean\" hint that `step creat` gets"
	run_ts 2 step creat --task-id 1
	err_is "error: unknown command 'step creat'"$'\n'"hint: did you mean 'step create'?"$'\n'"hint: see 'task-sync step --help'"
	run_ts 2 step create --task_id 1 --title "Build App Image" --settings '{"file_exists": "a"}'
	err_is "error: unknown option '--task_id' for 'step create'"$'\n'"hint: did you mean '--task-id'?"$'\n'"hint: see 'task-sync step create --help'"
	# with =VALUE, in any case; an alias is matched like the long name
	run_ts 2 step list --Task_ID=1
	err_has "hint: did you mean '--task-id'?"
	# a shared first two letters, as for commands
	run_ts 2 task list --jsno
	err_is "error: unknown option '--jsno' for 'task list'"$'\n'"hint: did you mean '--json'?"$'\n'"hint: see 'task-sync task list --help'"
	run_ts 2 task info 1 --hepl
	err_has "hint: did you mean '--help'?"
	# nothing close: only the --help hint
	run_ts 2 task list --zzz
	err_is "error: unknown option '--zzz' for 'task list'"$'\n'"hint: see 'task-sync task list --help'"
	assert_db_unchanged "$before"
}

@test "a flag that takes no value refuses one" {
	run_ts 2 task list --json=yes
	err_has "option '--json' takes no value"
}

@test "-- ends the options" {
	run_ts 2 task info -- --json
	err_has "invalid task ID '--json'"
}

@test "usage errors do not open the database" {
	export DATABASE_URL=postgres://postgres@127.0.0.1:1/x
	run_ts 2 task create
	run_ts 2 step create --task 1 --title t --settings '{'
	run_ts 2 step edit 1
	run_ts 2 task info x
	run_ts 2 migrate force 99
	err_lacks "cannot connect"
}

# ---- database errors ---------------------------------------------------------

@test "an unreachable PostgreSQL exits 3 naming host and port, for every command" {
	some_rows
	export DATABASE_URL=postgres://postgres:hunter2@127.0.0.1:1/x
	all_fail_with "error: cannot connect to PostgreSQL at 127.0.0.1:1"
	err_lacks "hunter2"
	err_has "postgres://postgres:****@127.0.0.1:1/x"
	unset DATABASE_URL
	[[ $TS_BACKEND == postgres ]] && export DATABASE_URL=$TASK_SYNC_PG_URL
	assert_db_unchanged "$BEFORE"
}

@test "an unreachable PostgreSQL from DB_* keys in task.conf exits 3 too" {
	some_rows
	write_conf DB_HOST=127.0.0.1 DB_PORT=1 DB_USER=postgres DB_PASSWORD=hunter2 DB_NAME=x
	run_ts 3 task list
	err_has "cannot connect to PostgreSQL at 127.0.0.1:1"
	err_lacks "hunter2"
	rm "$TASK_SYNC_CONFIG"
	assert_db_unchanged "$BEFORE"
}

@test "an SQLite URL in a missing directory exits 3 naming the directory" {
	some_rows
	export DATABASE_URL=sqlite:/nonexistent-dir/x.db
	all_fail_with "error: cannot open database '/nonexistent-dir/x.db': directory '/nonexistent-dir' does not exist"
	[[ ! -e /nonexistent-dir ]]
	unset DATABASE_URL
	[[ $TS_BACKEND == postgres ]] && export DATABASE_URL=$TASK_SYNC_PG_URL
	assert_db_unchanged "$BEFORE"
}

@test "an SQLite URL below a regular file exits 3 naming it" {
	some_rows
	: >"$BATS_TEST_TMPDIR/afile"
	export DATABASE_URL="sqlite:$BATS_TEST_TMPDIR/afile/x.db"
	all_fail_with "directory '$BATS_TEST_TMPDIR/afile' is not a directory"
	export DATABASE_URL="sqlite:$BATS_TEST_TMPDIR/afile/deeper/x.db"
	run_ts 3 task list
	err_has "directory '$BATS_TEST_TMPDIR/afile/deeper' is not a directory"
	[[ -f $BATS_TEST_TMPDIR/afile && ! -s $BATS_TEST_TMPDIR/afile ]]
	unset DATABASE_URL
	[[ $TS_BACKEND == postgres ]] && export DATABASE_URL=$TASK_SYNC_PG_URL
	assert_db_unchanged "$BEFORE"
}

@test "an SQLite file that cannot be created exits 3 naming it" {
	# tests run as root, which ignores permissions; /proc refuses new files anyway
	export DATABASE_URL=sqlite:/proc/task-sync-test.db
	run_ts 3 task list
	err_has "error: cannot open database '/proc/task-sync-test.db'"
	[[ ! -e /proc/task-sync-test.db ]]
}

# run task-sync as nobody (tests run as root, which ignores permissions) on
# the SQLite database $RO/ro.db; $RO is outside BATS_TEST_TMPDIR, whose
# parents nobody may not enter
as_nobody() {
	run --separate-stderr env -C "$RO" DATABASE_URL="sqlite:$RO/ro.db" TASK_SYNC_CONFIG=/nonexistent/task.conf \
		setpriv --reuid 65534 --regid 65534 --clear-groups "$TS_BIN" "$@"
}

@test "a read-only SQLite database: reading commands work, writing ones name the file and why" {
	command -v setpriv >/dev/null || skip "no setpriv"
	RO=$(mktemp -d /tmp/task-sync-ro.XXXXXX)
	chmod 755 "$RO"
	DATABASE_URL="sqlite:$RO/ro.db" ts task create --name demo --quiet >/dev/null
	DATABASE_URL="sqlite:$RO/ro.db" ts step create --task 1 --title check --settings '{"file_exists": "a"}' --quiet >/dev/null
	chown -R 65534:65534 "$RO"
	# a folder nobody may write, with the -wal and -shm files task-sync
	# leaves beside the database: reading goes through them
	chmod 555 "$RO"
	[[ -e $RO/ro.db-wal && -e $RO/ro.db-shm ]] || fail "task-sync did not keep the -wal and -shm files"
	wal_sum=$(cksum <"$RO/ro.db-wal")
	as_nobody task list
	check_status 0
	[[ $output == *demo* ]] || { show_run; fail "task list did not list the task"; }
	as_nobody task create --name other
	check_status 3
	err_is "error: cannot write database '$RO/ro.db': its directory is not writable (SQLite keeps its -wal and -shm files there)"
	[[ $(cksum <"$RO/ro.db-wal") == "$wal_sum" ]] || fail "the refused command changed the WAL"
	# another program closed the database last, folding the WAL in and
	# removing both files: none can be made there now
	sqlite3 "$RO/ro.db" 'SELECT count(*) FROM tasks' >/dev/null
	[[ ! -e $RO/ro.db-wal && ! -e $RO/ro.db-shm ]] || fail "sqlite3 left the -wal or -shm file"
	as_nobody task list
	check_status 0
	[[ $output == *demo* ]] || { show_run; fail "task list did not list the task"; }
	as_nobody step info 1
	check_status 0
	as_nobody task create --name other
	check_status 3
	err_is "error: cannot write database '$RO/ro.db': its directory is not writable (SQLite keeps its -wal and -shm files there)"
	as_nobody step edit 1 --set title=x
	check_status 3
	err_has "cannot write database '$RO/ro.db'"
	[[ ! -e $RO/ro.db-wal ]]
	# a file nobody may write, in a folder it may
	chmod 755 "$RO"
	chmod 444 "$RO/ro.db"
	as_nobody step list
	check_status 0
	[[ $output == *check* ]] || { show_run; fail "step list did not list the step"; }
	as_nobody task create --name other
	check_status 3
	err_is "error: cannot write database '$RO/ro.db': the file is read-only"
	as_nobody task run 1
	check_status 3
	err_is "error: cannot write database '$RO/ro.db': the file is read-only"
	[[ $(DATABASE_URL="sqlite:$RO/ro.db" ts task list | grep -c demo) == 1 ]]
}

@test "an SQLite file that is not a database exits 3" {
	printf 'this is not an sqlite database, just text that is long enough %0100d\n' 0 >notadb.db
	export DATABASE_URL=sqlite:notadb.db
	run_ts 3 task list
	err_has "error:"
	err_has "not a database"
}

@test "a failed write to stdout is an error" {
	make_task demo >/dev/null
	run --separate-stderr bash -c '"$0" task list >/dev/full' "$TS_BIN"
	check_status 3
	err_has "error: cannot write to standard output"
}

# bats test_tags=no-storage
@test "--help and --version report a failed write to stdout too" {
	for c in --help help -h --version; do
		run --separate-stderr bash -c '"$0" "$1" >/dev/full' "$TS_BIN" "$c"
		check_status 3
		err_is "error: cannot write to standard output"
	done
}

@test "every usage error (exit 2) ends with a hint" {
	make_task demo >/dev/null
	make_task demo >/dev/null
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	before=$(db_snapshot)
	run_ts 2 task edit 1 --set status=zzz
	err_is "error: invalid status 'zzz': must be one of active|inactive|disabled|running"$'\n'"hint: see 'task-sync task edit --help'"
	run_ts 2 step create --task demo --title t --settings '{"file_exists": "a"}'
	err_is "error: task name 'demo' is ambiguous: it matches tasks 1 and 2; use the ID"$'\n'"hint: 'task-sync task list' shows each task's ID"
	run_ts 2 step delete x
	err_is "error: invalid step ID 'x': expected a positive integer"$'\n'"hint: see 'task-sync step delete --help'"
	run_ts 2 task info 0
	err_is "error: invalid task ID '0': expected a positive integer"$'\n'"hint: see 'task-sync task info --help'"
	run_ts 2 step edit 1 --set =x
	err_is "error: invalid key path ''"$'\n'"hint: see 'task-sync step edit --help'"
	run_ts 2 step edit 1 --set file_exists.path.x=1
	err_is "error: cannot set value at path 'file_exists.path.x': segment 'file_exists' is not an object"$'\n'"hint: see 'task-sync step edit --help'"
	run_ts 2 step create --task 1 --title t --settings '{'
	err_has "hint: see 'task-sync step create --help'"
	run_ts 2 run-steps extra
	err_is "error: unexpected argument 'extra'"$'\n'"hint: see 'task-sync run-steps --help'"
	# one hint, not two
	run_ts 2 task info --verbose 1
	[[ $(grep -c '^hint:' <<<"$stderr") == 1 ]] || { show_run; fail "not one hint"; }
	assert_db_unchanged "$before"
}

@test "not found exits 4 everywhere, with the error on stderr" {
	some_rows
	local c
	local -a argv
	for c in "task info 9" "task edit 9 --set name=x" "task delete 9" "task delete --id 9" \
		"task reset-containers 9" "step info 9" "step edit 9 --set title=x" "step delete 9" \
		"step copy --id 9 --to-task-id 1" "step copy --id 1 --to-task-id 9" "step list --task 9" \
		"step tree 9" "step create --task 9 --title t --settings {\"file_exists\":\"a\"}" \
		"step create --task nosuch --title t --settings {\"file_exists\":\"a\"}"; do
		read -r -a argv <<<"$c"
		run --separate-stderr "$TS_BIN" "${argv[@]}"
		check_status 4
		[[ $stderr =~ ^error:\ no\ (task|step)\ found\ with\ (ID\ 9|name\ \'nosuch\')$ ]] || { show_run; fail "for: $c"; }
		[[ -z $output ]]
	done
	assert_db_unchanged "$BEFORE"
}
