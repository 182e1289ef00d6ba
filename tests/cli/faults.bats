#!/usr/bin/env bats
# Faults: a database that stops answering, a config file that is no file, a
# task deleted while it runs, a full disk, a row that cannot be read. Each
# must end in a clear error naming the thing, never in a hang or a
# "success" that recorded nothing.

load helpers

setup() {
	ts_setup
	PROJ="$BATS_TEST_TMPDIR/proj"
	mkdir -p "$PROJ"
	echo "FROM scratch" >"$PROJ/Dockerfile"
	export FAKE_READY="$BATS_TEST_TMPDIR/ready" FAKE_GO="$BATS_TEST_TMPDIR/go"
	PIDS=()
}

teardown() {
	local pid
	# a fake build left waiting by a failed test ends too
	touch "$FAKE_GO"
	for pid in "${PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n ${TMPFS:-} ]]; then
		umount "$TMPFS" 2>/dev/null || true
	fi
}

# a fake docker whose `build` says it started ($FAKE_READY), then waits
# until $FAKE_GO exists and succeeds: a long step the test ends when it wants
long_build() {
	export TASK_SYNC_DOCKER="$BATS_TEST_TMPDIR/docker"
	cat >"$TASK_SYNC_DOCKER" <<-'SH'
		#!/bin/sh
		[ "$1" = build ] || exit 1
		echo building
		: >"$FAKE_READY"
		while [ ! -e "$FAKE_GO" ]; do sleep 0.1; done
		while [ $# -gt 0 ]; do
			[ "$1" = --iidfile ] && echo sha256:0123456789ab >"$2"
			shift
		done
		exit 0
	SH
	chmod +x "$TASK_SYNC_DOCKER"
	rm -f "$FAKE_READY" "$FAKE_GO"
}

# a task with one docker_build step (the long one); prints nothing
build_task() {
	make_task demo --local_path "$PROJ" >/dev/null
	make_step 1 build '{"docker_build": {"image_tag": "ts-fake:1"}}' >/dev/null
}

# start `task-sync ARGS` in the background (BG_PID), output in $BG_OUT;
# a guard ends it if it hangs, so a hang fails the test instead of blocking it
start_bg() {
	BG_OUT="$BATS_TEST_TMPDIR/bg.out"
	timeout -s KILL 120 "$TS_BIN" "$@" >"$BG_OUT" 2>&1 3>&- &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

wait_for() {
	local i
	for ((i = 0; i < 300; i++)); do
		[[ -e $1 ]] && return 0
		sleep 0.1
	done
	fail "$1 never appeared"
}

# wait for the background run; BG_RC its exit status, BG_TEXT its output
wait_bg() {
	BG_RC=0
	wait "$BG_PID" || BG_RC=$?
	BG_TEXT=$(cat "$BG_OUT")
}

bg_has() {
	[[ $BG_TEXT == *"$1"* ]] || fail "background run (exit $BG_RC) lacks: $1"$'\n'"$BG_TEXT"
}

bg_lacks() {
	[[ $BG_TEXT != *"$1"* ]] || fail "background run (exit $BG_RC) has: $1"$'\n'"$BG_TEXT"
}

# a proxy in front of the test PostgreSQL that freezes while $FREEZE exists;
# sets PROXY_URL (the test database through it), PROXY_PORT and PROXY_PID
start_proxy() {
	FREEZE="$BATS_TEST_TMPDIR/freeze"
	local port_file="$BATS_TEST_TMPDIR/proxy.port" upstream
	upstream=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 5432)' "$TASK_SYNC_PG_URL")
	python3 "$REPO_ROOT/tests/pg_proxy.py" "$port_file" "$FREEZE" "$upstream" 3>&- &
	PROXY_PID=$!
	PIDS+=("$PROXY_PID")
	wait_for "$port_file"
	PROXY_PORT=$(cat "$port_file")
	PROXY_URL=$(python3 -c '
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
user = p.username + "@" if p.username else ""
print(u.urlunsplit(p._replace(netloc="%s127.0.0.1:%s" % (user, sys.argv[2]))))' "$TASK_SYNC_PG_URL" "$PROXY_PORT")
}

# ---- a database that stops answering ----------------------------------------

@test "a PostgreSQL server that freezes mid-run: exit 3 naming it, and the lock is not left behind" {
	pg_only
	build_task
	long_build
	start_proxy
	DATABASE_URL=$PROXY_URL DB_TIMEOUT_SECONDS=2 start_bg task run 1
	wait_for "$FAKE_READY"
	touch "$FREEZE" "$FAKE_GO"
	wait_bg
	[[ $BG_RC -eq 3 ]] || fail "exit $BG_RC, not 3"$'\n'"$BG_TEXT"
	bg_has "error: database server 127.0.0.1:$PROXY_PORT did not answer within 2 s (DB_TIMEOUT_SECONDS)"
	bg_lacks "success"
	bg_lacks "processed successfully"
	# the server still holds the dead run's session (the frozen proxy keeps
	# it open): a new run ends it rather than being refused as busy
	run_ts 0 task run 1
	err_lacks "is being run by another"
	out_has "Processing step ID 1 (build)... success"
	# a plain command through the frozen proxy: bounded too, naming it
	DATABASE_URL=$PROXY_URL DB_TIMEOUT_SECONDS=2 run_ts 3 task list
	err_has "cannot connect to PostgreSQL at 127.0.0.1:$PROXY_PORT"
}

@test "SIGTERM or Ctrl-C while the PostgreSQL server is frozen ends the run at once" {
	pg_only
	build_task
	long_build
	start_proxy
	local sig
	for sig in TERM INT; do
		rm -f "$FREEZE" "$FAKE_READY" "$FAKE_GO"
		# a deadline far beyond the test's patience: only the signal ends it
		DATABASE_URL=$PROXY_URL DB_TIMEOUT_SECONDS=3000 start_bg task run 1 --force
		wait_for "$FAKE_READY"
		touch "$FREEZE" "$FAKE_GO"
		# the run finishes its build and waits on the server
		sleep 0.5
		kill -"$sig" "$BG_PID"
		wait_bg
		[[ $BG_RC -ne 0 && $BG_RC -ne 137 ]] || fail "SIG$sig: exit $BG_RC"$'\n'"$BG_TEXT"
		bg_has "database server 127.0.0.1:$PROXY_PORT"
		bg_lacks "processed successfully"
	done
	# and the lock is free for the next run
	run_ts 0 task run 1 --force
	err_lacks "is being run by another"
}

@test "a PostgreSQL connection that is cut mid-run: exit 3 with the cause, never an empty reason" {
	pg_only
	build_task
	long_build
	start_proxy
	DATABASE_URL=$PROXY_URL start_bg task run 1
	wait_for "$FAKE_READY"
	# the proxy dies: every connection through it is closed
	kill -9 "$PROXY_PID"
	touch "$FAKE_GO"
	wait_bg
	[[ $BG_RC -eq 3 ]] || fail "exit $BG_RC, not 3"$'\n'"$BG_TEXT"
	bg_has "error: postgres "
	bg_lacks "This probably means"
	[[ ! $BG_TEXT =~ (failed|lost):\ *($'\n'|$) ]] || fail "an empty reason:"$'\n'"$BG_TEXT"
	bg_lacks "processed successfully"
	bg_lacks "success"
}

@test "an SQLite database another process keeps locked: exit 3 naming the file after DB_TIMEOUT_SECONDS" {
	sqlite_only
	make_task demo >/dev/null
	python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").write("held\n")
time.sleep(60)
' "$TS_SQLITE_DB" "$BATS_TEST_TMPDIR/held" 3>&- &
	PIDS+=($!)
	wait_for "$BATS_TEST_TMPDIR/held"
	DB_TIMEOUT_SECONDS=1 run_ts 3 task create --name other
	err_has "error: sqlite: database '$TS_SQLITE_DB' is locked by another process: gave up after 1 s (DB_TIMEOUT_SECONDS)"
}

@test "SIGBUS while SQLite reads through its memory map (a disk read error) ends the run: one line naming the database, exit 3" {
	sqlite_only
	build_task
	long_build
	start_bg task run 1
	wait_for "$FAKE_READY"
	# the run has read its steps through the map (db_read_many) and waits
	# on the fake build; the kernel's SIGBUS for a mapped page the disk
	# cannot read is sent here by hand (a real one cannot be made on demand)
	pid=$(pgrep -P "$BG_PID" -x task-sync) || fail "no task-sync under $BG_PID"
	kill -BUS "$pid"
	wait_bg
	[[ $BG_RC -eq 3 ]] || fail "exit $BG_RC: $BG_TEXT"
	bg_has "fatal: cannot read database '$TS_SQLITE_DB': an I/O error, or the file was cut short by another program (SIGBUS)"
	bg_lacks "processed successfully"
}

@test "DB_TIMEOUT_SECONDS must be a whole number of seconds" {
	DB_TIMEOUT_SECONDS=0 run_ts 3 task list
	err_has "environment DB_TIMEOUT_SECONDS: invalid DB_TIMEOUT_SECONDS '0': expected a whole number of seconds between 1 and 3600"
	write_conf "DB_TIMEOUT_SECONDS=soon"
	run_ts 3 task list
	err_has "task.conf:1: invalid DB_TIMEOUT_SECONDS 'soon'"
	write_conf "DB_TIMEOUT_SECONDS=5"
	run_ts 0 config
	out_has "DB_TIMEOUT_SECONDS"
}

# ---- a config file that is no file -------------------------------------------

@test "a FIFO or a device named as the config file is refused, naming it, not waited on" {
	mkfifo "$BATS_TEST_TMPDIR/conf.fifo"
	TASK_SYNC_CONFIG="$BATS_TEST_TMPDIR/conf.fifo" run --separate-stderr timeout -s KILL 30 "$TS_BIN" task list
	check_status 3
	err_is "error: config file '$BATS_TEST_TMPDIR/conf.fifo' is not a regular file (it is a FIFO)"
	TASK_SYNC_CONFIG=/dev/zero run --separate-stderr timeout -s KILL 30 "$TS_BIN" task list
	check_status 3
	err_is "error: config file '/dev/zero' is not a regular file (it is a device)"
	mkfifo .env
	run --separate-stderr timeout -s KILL 30 "$TS_BIN" task list
	check_status 3
	err_is "error: config file '.env' is not a regular file (it is a FIFO)"
}

# ---- a task deleted while it runs --------------------------------------------

@test "task delete of a task being run is refused (exit 1); --wait waits for the run to end" {
	build_task
	long_build
	start_bg task run 1
	wait_for "$FAKE_READY"
	run_ts 1 task delete 1
	err_is "error: task 1 is being run by another task-sync process: not deleted (wait for the run to end, or use --wait SECONDS)"
	run_ts 0 task info 1
	# --wait: deleted once the run has ended
	(sleep 1 && touch "$FAKE_GO") 3>&- &
	PIDS+=($!)
	run_ts 0 task delete 1 --wait 60
	out_is "Task 1 deleted successfully."
	wait_bg
	[[ $BG_RC -eq 0 ]] || fail "the run: exit $BG_RC"$'\n'"$BG_TEXT"
	bg_has "processed successfully"
	run_ts 4 task info 1
}

@test "a run whose task is deleted under it says so and exits non-zero" {
	build_task
	long_build
	start_bg task run 1
	wait_for "$FAKE_READY"
	# as a process that ignores the run lock would
	case $TS_BACKEND in
	sqlite) db_sql "PRAGMA foreign_keys = ON; DELETE FROM tasks WHERE id = 1" ;;
	postgres) db_sql "DELETE FROM tasks WHERE id = 1" ;;
	esac
	touch "$FAKE_GO"
	wait_bg
	[[ $BG_RC -eq 4 ]] || fail "exit $BG_RC, not 4"$'\n'"$BG_TEXT"
	bg_has "Processing step ID 1 (build)... error: its task or step was deleted while it ran; nothing was recorded"
	bg_has "error: task 1, or the step that ran, was deleted while it ran: its result is lost"
	bg_lacks "success"
}

# ---- messages ----------------------------------------------------------------

@test "a full disk names the SQLite database file" {
	sqlite_only
	TMPFS="$BATS_TEST_TMPDIR/small"
	mkdir -p "$TMPFS"
	mount -t tmpfs -o size=400k tmpfs "$TMPFS" 2>/dev/null || {
		TMPFS=
		skip "cannot mount a small tmpfs here"
	}
	export DATABASE_URL="sqlite:$TMPFS/t.db"
	make_task demo >/dev/null
	big=$(python3 -c 'print("x" * 100000)')
	for _ in 1 2 3 4 5 6; do
		run --separate-stderr "$TS_BIN" step create --task 1 --title t --settings "{\"file_exists\": \"$big\"}"
		[[ $status -eq 0 ]] || break
	done
	check_status 3
	err_is "error: sqlite: cannot write database '$TMPFS/t.db': disk is full"
}

@test "a step whose stored settings cannot be read is named, and the command exits 3" {
	make_task demo >/dev/null
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	# deeper than task-sync's JSON parser goes (PostgreSQL stores it)
	deep=$(python3 -c 'print("{\"file_exists\": " + "[" * 3000 + "]" * 3000 + "}")')
	db_sql "UPDATE steps SET settings = '$deep' WHERE id = 1"
	run_ts 3 step list --task 1
	err_has "error: step 1: its stored settings cannot be read (nested deeper than 2048 levels)"
	err_lacks "of step of"
}
