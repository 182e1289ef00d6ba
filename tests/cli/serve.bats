#!/usr/bin/env bats
# Issue 12, first cut: "`task-sync serve [--listen ADDR:PORT]`, default
# `127.0.0.1:8064` (the original's port). The original's endpoints keep their
# paths and shapes ... with its bugs fixed (404 for an unknown ID, never
# `{"ok":true}` for nothing)"; "Every write needs a bearer token. The token is
# created on first start in a file only its owner can read (its path is
# printed and documented); compared in constant time; `--listen` on a
# non-loopback address is refused unless a token exists"; "Bad requests get
# 4xx with a JSON error and the server keeps serving: bodies over a limit,
# invalid JSON, unknown routes and methods, IDs that are not numbers, `..` in
# paths"; "SIGINT/SIGTERM shut it down cleanly within 5 s".
# Each test starts a real server on a free loopback port (--listen
# 127.0.0.1:0) and talks to it with curl.

load helpers
load serve_helpers

setup() {
	ts_setup
	make_task demo >/dev/null
	make_step 1 files '{"file_exists": ["a"]}' >/dev/null
	make_step 1 more '{"file_exists": ["b"], "depends_on": [{"id": 1}]}' >/dev/null
}

teardown() {
	stop_serve
}

TOKEN_FILE() { printf '%s' "$XDG_CONFIG_HOME/task-sync/serve-token"; }

# api METHOD PATH [CURL ARGS...]: $code the status, $output the body
api() {
	local method=$1 path=$2
	shift 2
	code=$(curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' -X "$method" \
		"$@" "http://127.0.0.1:$PORT$path")
	output=$(cat "$BATS_TEST_TMPDIR/body")
}

# expect CODE: the last api call answered CODE
expect() {
	[[ $code == "$1" ]] || fail "expected HTTP $1, got $code: $output"
}

auth() { printf 'Authorization: Bearer %s' "$(cat "$(TOKEN_FILE)")"; }

# open_events FILE: an /events stream into FILE, once it is open (its
# "retry:" line came); EV_PID is its curl
open_events() {
	curl -sN "http://127.0.0.1:$PORT/events" >"$1" 3>&- &
	EV_PID=$!
	for _ in $(seq 200); do
		grep -qx 'retry: 1000' "$1" && return 0
		sleep 0.05
	done
	fail "the /events stream did not open"
}

# wait_ids N FILE: until FILE has N messages (at most 10 s)
wait_ids() {
	for _ in $(seq 200); do
		(($(grep -c '^id: ' "$2") >= $1)) && return 0
		sleep 0.05
	done
	fail "not $1 messages: $(cat "$2")"
}

@test "serve: the index, /status and /tasks in the original's shape" {
	start_serve
	api GET /
	expect 200
	assert_json_eq 'd["message"]' '"Welcome to Task Sync"'
	assert_json_eq '"GET, PUT /steps/#/settings" in d["endpoints"]' 'true'
	api GET /status
	expect 200
	assert_json_eq 'd["status"]' '"ok"'
	assert_json_eq 'd["backend"]' "\"$TS_BACKEND\""
	api GET /tasks
	expect 200
	assert_json_eq '[sorted(t) for t in d["tasks"]]' \
		'[["created_at", "id", "local_path", "name", "status", "updated_at"]]'
	assert_json_eq '[d["tasks"][0][k] for k in ("id", "name", "status", "local_path")]' \
		'[1, "demo", "active", ""]'
	[[ $(json_get 'd["tasks"][0]["created_at"]') =~ ^\"$TS_RE\"$ ]]
}

# Issue 12, the page: "Embedded in the binary (no files to install, no build
# tools at compile time, nothing fetched at run time)"
@test "serve: / is the page for a browser (Accept: text/html), the JSON index for an API client and at /api" {
	start_serve
	curl -s -D "$BATS_TEST_TMPDIR/h" -o "$BATS_TEST_TMPDIR/page" \
		-H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' "http://127.0.0.1:$PORT/"
	grep -q '^HTTP/1.1 200' "$BATS_TEST_TMPDIR/h"
	grep -qi '^Content-Type: text/html; charset=utf-8' "$BATS_TEST_TMPDIR/h"
	# it may load nothing but itself and the API
	grep -qi "^Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; .*connect-src 'self'" \
		"$BATS_TEST_TMPDIR/h"
	grep -q '^<!DOCTYPE html>' "$BATS_TEST_TMPDIR/page"
	grep -q '<title>task-sync</title>' "$BATS_TEST_TMPDIR/page"
	# nothing fetched from elsewhere: no http(s) URL, no src= or href= to a file
	if grep -Eq 'https?://|src=|<link' "$BATS_TEST_TMPDIR/page"; then
		fail "the page refers to another resource"
	fi
	[[ $(wc -c <"$BATS_TEST_TMPDIR/page") == $(wc -c <"$BATS_TEST_DIRNAME/../../src/serve/page.html") ]]
	api GET /api
	expect 200
	assert_json_eq 'd["message"]' '"Welcome to Task Sync"'
	assert_json_eq '"GET /api" in d["endpoints"]' 'true'
	api GET / -H 'Accept: application/json'
	expect 200
	assert_json_eq 'd["message"]' '"Welcome to Task Sync"'
}

@test "serve: a task, its steps, a step and their settings" {
	ts task edit 1 --set owner=ann >/dev/null
	start_serve
	api GET /tasks/1
	expect 200
	assert_json_eq '[d["task"][k] for k in ("id", "name", "settings")]' \
		'[1, "demo", {"owner": "ann"}]'
	api GET /tasks/1/steps
	expect 200
	assert_json_eq '[(s["id"], s["title"]) for s in d["steps"]]' '[[1, "files"], [2, "more"]]'
	assert_json_eq 'sorted(d["steps"][0])' \
		'["created_at", "depends_on", "generated_by", "id", "results", "settings", "state", "task_id", "title", "type", "updated_at"]'
	assert_json_eq '[(s["type"], s["depends_on"], s["state"]) for s in d["steps"]]' \
		'[["file_exists", [], "not run"], ["file_exists", [1], "not run"]]'
	api GET /steps/2
	expect 200
	assert_json_eq 'd["step"]["settings"]' '{"file_exists": ["b"], "depends_on": [{"id": 1}]}'
	assert_json_eq 'd["step"]["results"]' 'null'
	api GET /steps/1/settings
	expect 200
	assert_json_eq 'd' '{"settings": {"file_exists": ["a"]}}'
	api GET /tasks/1/settings
	expect 200
	assert_json_eq 'd' '{"settings": {"owner": "ann"}}'
}

@test "serve: 404 for an unknown ID or route, 400 for an ID that is not a number, 405 for a wrong method" {
	start_serve
	for p in /tasks/9 /tasks/9/steps /tasks/9/settings /steps/9 /steps/9/settings /steps/9/runs; do
		api GET "$p"
		expect 404
		[[ $output == *'"error": "'*' 9 not found"'* ]] || fail "$p: $output"
	done
	# a task with no settings has {}
	api GET /tasks/1/settings
	expect 200
	assert_json_eq 'd' '{"settings": {}}'
	api GET /nope
	expect 404
	assert_json_eq 'd["error"]' '"no such endpoint: /nope (GET / lists them)"'
	api GET /tasks/abc
	expect 400
	assert_json_eq 'd["error"]' "\"invalid task ID 'abc': not a positive integer\""
	api GET /steps/-1/settings
	expect 400
	api GET /tasks/0
	expect 400
	api GET /tasks/1/../1 --path-as-is
	expect 400
	assert_json_eq 'd["error"]' '"path '"'"'/tasks/1/../1'"'"': '"'"'.'"'"', '"'"'..'"'"' and empty segments are refused"'

	api DELETE /tasks/1
	expect 405
	assert_json_eq 'd["error"]' '"method DELETE not allowed on /tasks/1 (allowed: GET, HEAD)"'
	curl -s -i -X POST "http://127.0.0.1:$PORT/tasks" -H "$(auth)" | grep -qi '^Allow: GET, HEAD'
	# the server kept serving through all of them
	api GET /status
	expect 200
}

@test "serve: the token file is made on the first start, 0600, and its path printed" {
	[[ ! -e $(TOKEN_FILE) ]]
	start_serve
	grep -qxF "token for writes: $(TOKEN_FILE)" "$BATS_TEST_TMPDIR/serve.out"
	[[ $(stat -c %a "$(TOKEN_FILE)") == 600 ]]
	grep -qxE '[0-9a-f]{64}' "$(TOKEN_FILE)"
	# a second start keeps it
	before=$(cat "$(TOKEN_FILE)")
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	start_serve
	[[ $(cat "$(TOKEN_FILE)") == "$before" ]]
}

@test "serve: a token file others can read is refused" {
	mkdir -p "$(dirname "$(TOKEN_FILE)")"
	printf '%064d\n' 0 >"$(TOKEN_FILE)"
	chmod 644 "$(TOKEN_FILE)"
	run_ts 3 serve --listen 127.0.0.1:0
	err_has "must be yours and readable by you alone (chmod 600)"
}

@test "serve: PUT settings needs the token: 401 without it or with a wrong one, nothing written" {
	start_serve
	before=$(db_snapshot)
	api PUT /steps/1/settings -d '{"file_exists": ["c"]}'
	expect 401
	assert_json_eq 'd["error"]' '"this request needs the token: Authorization: Bearer <the token file'"'"'s contents>"'
	api PUT /tasks/1/settings -d '{"x": 1}' -H "Authorization: Bearer $(printf '%064d' 1)"
	expect 401
	api PUT /tasks/1/settings -d '{"x": 1}' -H "Authorization: Bearer short"
	expect 401
	assert_db_unchanged "$before"
}

@test "serve: PUT settings with the token replaces them, checked as step edit checks them" {
	start_serve
	api PUT /steps/1/settings -H "$(auth)" -d '{"file_exists": ["c"]}'
	expect 200
	assert_json_eq 'd' '{"settings": {"file_exists": ["c"]}}'
	run_ts 0 step list --json
	assert_json_eq 'd[0]["settings"]' '{"file_exists": ["c"]}'
	api PUT /tasks/1/settings -H "$(auth)" -d '{"owner": "bob"}'
	expect 200
	run_ts 0 task info 1 --json
	out_has '"owner": "bob"'
	before=$(db_snapshot)
	# as step edit: a wrong kind, no type, a dependency that does not exist
	api PUT /steps/1/settings -H "$(auth)" -d '{"file_exists": 3}'
	expect 400
	[[ $output == *'"error": "step 1: file_exists:'* ]] || fail "$output"
	api PUT /steps/1/settings -H "$(auth)" -d '{"nothing": 1}'
	expect 400
	api PUT /steps/2/settings -H "$(auth)" -d '{"file_exists": ["b"], "depends_on": [{"id": 77}]}'
	expect 404
	assert_json_eq 'd["error"]' '"step 2: depends_on: step 77 does not exist"'
	api PUT /steps/2/settings -H "$(auth)" -d '{"file_exists": ["b"], "depends_on": [2]}'
	expect 400
	assert_json_eq 'd["error"]' '"step 2: depends_on: step 2 cannot depend on itself"'
	# invalid JSON, not an object, an unknown step or task: never {"ok":true}
	api PUT /steps/1/settings -H "$(auth)" -d '{"file_exists": '
	expect 400
	[[ $output == *'"error": "invalid JSON: '* ]] || fail "$output"
	api PUT /tasks/1/settings -H "$(auth)" -d '[1]'
	expect 400
	assert_json_eq 'd["error"]' '"settings must be a JSON object"'
	api PUT /steps/99/settings -H "$(auth)" -d '{"file_exists": ["c"]}'
	expect 404
	assert_json_eq 'd["error"]' '"step 99 not found"'
	api PUT /tasks/99/settings -H "$(auth)" -d '{}'
	expect 404
	assert_json_eq 'd["error"]' '"task 99 not found"'
	assert_db_unchanged "$before"
}

@test "serve: a body over 1 MiB is 413, and the server keeps serving" {
	start_serve
	before=$(db_snapshot)
	head -c 1100000 /dev/zero | tr '\0' ' ' >"$BATS_TEST_TMPDIR/big"
	api PUT /tasks/1/settings -H "$(auth)" --data-binary @"$BATS_TEST_TMPDIR/big"
	expect 413
	assert_json_eq 'd["error"]' '"the body is over 1048576 bytes"'
	# the same without a Content-Length (chunked): read, then refused
	api PUT /tasks/1/settings -H "$(auth)" -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/big"
	expect 413
	assert_db_unchanged "$before"
	api GET /status
	expect 200
}

@test "serve: a step's runs, one run, and its output in byte ranges" {
	db_sql "INSERT INTO step_runs (step_id, status, exit_code, duration_ms, output)
		VALUES (1, 'failure', 2, 71, '0123456789abcdef')"
	start_serve
	api GET /steps/1/runs
	expect 200
	assert_json_eq '[(r["id"], r["status"], r["exit_code"], r["duration_ms"]) for r in d["runs"]]' \
		'[[1, "failure", 2, 71]]'
	api GET /steps/1/runs/1
	expect 200
	assert_json_eq 'd["run"]["step_id"]' '1'
	api GET /steps/1/runs/1/output
	expect 200
	[[ $output == 0123456789abcdef ]]
	api GET '/steps/1/runs/1/output?offset=10&length=4'
	expect 200
	[[ $output == abcd ]]
	curl -s -D - -o /dev/null "http://127.0.0.1:$PORT/steps/1/runs/1/output?offset=10&length=4" |
		grep -qi '^Content-Range: bytes 10-13/16'
	api GET '/steps/1/runs/1/output?offset=14&length=100'
	[[ $output == ef ]]
	api GET '/steps/1/runs/1/output?offset=17'
	expect 416
	api GET '/steps/1/runs/1/output?offset=x'
	expect 400
	api GET /steps/1/runs/5/output
	expect 404
	api GET /steps/2/runs/1
	expect 404
}

@test "serve: SIGTERM and SIGINT stop it within 5 s, exit 0" {
	for sig in TERM INT; do
		start_serve
		# a client that holds a connection open does not delay the stop
		{ sleep 3 | curl -s -m 4 -X PUT -T - "http://127.0.0.1:$PORT/tasks/1/settings" \
			-H "$(auth)" >/dev/null 2>&1 3>&- & } 3>&-
		sleep 0.2
		start=$(date +%s%N)
		kill -"$sig" "$SERVE_PID"
		rc=0
		wait "$SERVE_PID" || rc=$?
		took=$((($(date +%s%N) - start) / 1000000))
		[[ $rc == 0 ]] || fail "SIG$sig: exit $rc"
		((took < 5000)) || fail "SIG$sig: took $took ms"
		grep -qxF "task-sync serve: SIG$sig, stopping" "$BATS_TEST_TMPDIR/serve.out"
	done
}

@test "serve: beyond loopback only once a token exists, and then reads need it too" {
	run_ts 2 serve --listen 0.0.0.0:0
	err_has "error: refusing to listen on 0.0.0.0:0, beyond loopback, without a token"
	[[ ! -e $(TOKEN_FILE) ]]
	start_serve
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	: >"$BATS_TEST_TMPDIR/serve.out"
	"$TS_BIN" serve --listen 0.0.0.0:0 >"$BATS_TEST_TMPDIR/serve.out" 2>/dev/null 3>&- &
	SERVE_PID=$!
	for _ in $(seq 100); do
		PORT=$(sed -n 's|^task-sync serve: listening on http://0.0.0.0:\([0-9]*\)/$|\1|p' \
			"$BATS_TEST_TMPDIR/serve.out")
		[[ -n $PORT ]] && break
		sleep 0.05
	done
	[[ -n $PORT ]]
	api GET /tasks
	expect 401
	api GET /tasks -H "$(auth)"
	expect 200
}

# bats test_tags=no-storage
@test "serve: a bad --listen is a usage error before the database" {
	run_ts 2 serve --listen nowhere
	err_is "error: --listen 'nowhere': expected ADDR:PORT, such as 127.0.0.1:8064"$'\n'"hint: see 'task-sync serve --help'"
	for bad in 127.0.0.1:99999 127.0.0.1: 127.0.0.1:+80 '127.0.0.1: 80' 127.0.0.1:-1; do
		run_ts 2 serve --listen "$bad"
		err_has "the port must be a number from 0 to 65535"
	done
	run_ts 2 serve --listen example.org:80
	err_has "must be an IPv4 address"
	run_ts 0 serve --help
	out_has "usage: task-sync serve [--listen ADDR:PORT]"
}

@test "serve: the commands and the server share the database while it runs" {
	start_serve
	make_task two >/dev/null
	api GET /tasks
	assert_json_eq '[t["name"] for t in d["tasks"]]' '["demo", "two"]'
	api PUT /tasks/2/settings -H "$(auth)" -d '{"a": 1}'
	expect 200
	ts task edit 2 --set b=2 >/dev/null
	api GET /tasks/2/settings
	assert_json_eq 'd' '{"settings": {"a": 1, "b": 2}}'
}

@test "serve: no CORS headers, HEAD answers without a body" {
	start_serve
	curl -s -D "$BATS_TEST_TMPDIR/h" -o /dev/null -H 'Origin: http://evil.example' \
		"http://127.0.0.1:$PORT/tasks"
	grep -q '^HTTP/1.1 200' "$BATS_TEST_TMPDIR/h"
	if grep -qi '^Access-Control-' "$BATS_TEST_TMPDIR/h"; then fail "a CORS header was sent"; fi
	api OPTIONS /tasks -H 'Origin: http://evil.example' -H 'Access-Control-Request-Method: PUT'
	expect 405
	code=$(curl -s -I -o "$BATS_TEST_TMPDIR/head" -w '%{http_code}' "http://127.0.0.1:$PORT/tasks/1")
	[[ $code == 200 ]]
	grep -qi '^Content-Type: application/json' "$BATS_TEST_TMPDIR/head"
}

@test "serve: an address in use is exit 3, naming it" {
	start_serve
	run_ts 3 serve --listen "127.0.0.1:$PORT"
	err_has "error: cannot listen on 127.0.0.1:$PORT (in use, or not an address of this machine)"
	api GET /status
	expect 200
}

@test "serve: libmicrohttpd is loaded by serve alone: without it the other commands run, serve names the package (exit 3)" {
	# a libmicrohttpd.so.12 that is no library, found before the real one:
	# a binary linked with it would not even start
	mkdir "$BATS_TEST_TMPDIR/lib"
	: >"$BATS_TEST_TMPDIR/lib/libmicrohttpd.so.12"
	export LD_LIBRARY_PATH="$BATS_TEST_TMPDIR/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	run_ts 0 task list
	out_has demo
	run_ts 0 step info 1
	run_ts 3 serve --listen 127.0.0.1:0
	err_has "error: cannot load the HTTP server library (libmicrohttpd.so.12, Debian package libmicrohttpd12): $BATS_TEST_TMPDIR/lib/libmicrohttpd.so.12: file too short"
	[[ ! -e $(TOKEN_FILE) ]] || fail "a token file was made"
}

@test "serve: /tasks/:id/report is the document task report --json prints" {
	make_step 1 "Rubric 1: crit-a" '{"rubric_shell": {"command": "true", "criterion_id": "crit-a",
		"score": 2, "required": true, "depends_on": [{"id": 1}]}}' >/dev/null
	db_sql "UPDATE steps SET results = '{\"solution1.patch\": {\"status\": \"PASS\"},
		\"solution2.patch\": {\"status\": \"FAIL\"}, \"golden\": {\"status\": \"PASS\"},
		\"result\": \"success\"}' WHERE id = 3"
	run_ts 0 task report 1 --json
	want=$output
	start_serve
	api GET /tasks/1/report
	expect 200
	assert_json_eq 'd' "$want"
	assert_json_eq 'd["candidates"]["solution2.patch"]["required_failed"]' '[3]'
	api GET /tasks/9/report
	expect 404
	assert_json_eq 'd' '{"error": "task 9 not found"}'
	api GET /tasks/x/report
	expect 400
}

# "`/events` (Server-Sent Events): a message for each result written ...
# on both backends (PostgreSQL LISTEN/NOTIFY or polling; SQLite polling),
# with a resume point so a reconnecting page misses nothing"
@test "serve: /events sends a message with an id for each result written, replays after Last-Event-ID, resets on an unknown one" {
	start_serve
	open_events "$BATS_TEST_TMPDIR/ev"
	db_sql "UPDATE steps SET results = '{\"result\": \"success\"}' WHERE id = 2"
	wait_ids 1 "$BATS_TEST_TMPDIR/ev"
	db_sql "UPDATE steps SET results = '{\"result\": \"failure\"}' WHERE id = 1"
	wait_ids 2 "$BATS_TEST_TMPDIR/ev"
	sleep 0.6 # a poll more: nothing else comes
	kill "$EV_PID"
	wait "$EV_PID" || true
	grep -qx 'retry: 1000' "$BATS_TEST_TMPDIR/ev"
	mapfile -t ids < <(sed -n 's/^id: //p' "$BATS_TEST_TMPDIR/ev")
	[[ ${#ids[@]} == 2 && ${ids[1]} -gt ${ids[0]} ]] || fail "ids: ${ids[*]}"
	[[ $(grep -c '^event: result$' "$BATS_TEST_TMPDIR/ev") == 2 ]]
	grep -qx 'data: {"task_id": 1, "step_id": 2}' "$BATS_TEST_TMPDIR/ev"
	grep -qx 'data: {"task_id": 1, "step_id": 1}' "$BATS_TEST_TMPDIR/ev"
	grep -qi '^Content-Type: text/event-stream' < <(curl -s -m 1 -D - -o /dev/null "http://127.0.0.1:$PORT/events")
	# back after the first: the second again, nothing lost
	curl -sN -m 1 -H "Last-Event-ID: ${ids[0]}" "http://127.0.0.1:$PORT/events" >"$BATS_TEST_TMPDIR/ev2" || true
	[[ $(sed -n 's/^id: //p' "$BATS_TEST_TMPDIR/ev2") == "${ids[1]}" ]]
	grep -qx 'data: {"task_id": 1, "step_id": 1}' "$BATS_TEST_TMPDIR/ev2"
	# an id this server never gave: start again
	curl -sN -m 1 -H 'Last-Event-ID: 5' "http://127.0.0.1:$PORT/events" >"$BATS_TEST_TMPDIR/ev3" || true
	grep -qx 'event: reset' "$BATS_TEST_TMPDIR/ev3"
	[[ $(sed -n 's/^id: //p' "$BATS_TEST_TMPDIR/ev3") == "${ids[1]}" ]]
	api PUT /events -H "$(auth)" -d '{}'
	expect 405
}

@test "serve: SIGTERM ends open /events streams and stops within 5 s" {
	start_serve
	curl -sN "http://127.0.0.1:$PORT/events" >/dev/null &
	curl -sN "http://127.0.0.1:$PORT/events" >/dev/null &
	sleep 0.3
	local t0=$SECONDS
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	(( SECONDS - t0 <= 5 ))
	wait
}

# ---- runs: "start a task or step run (with the CLI's modes: golden,
# original, force), regrade. The same run lock as the CLI: a run started
# from the page and one from a shell never overlap."

# a fake docker on PATH (for the server's runs too): `exec` writes its PID
# to $FAKE_READY, then waits (at most 60 s) for $FAKE_GO to exist and
# succeeds: the test decides when the run ends
slow_docker() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/docker" <<-'EOF2'
		#!/bin/sh
		case "$1" in
		container) echo '{"Id": "c1id", "Name": "/c1", "State": {"Running": true, "ExitCode": 0}, "Config": {"Labels": {}}}' ;;
		exec)
			echo $$ >"$FAKE_READY"
			i=0
			while [ ! -e "$FAKE_GO" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done ;;
		*) exit 1 ;;
		esac
	EOF2
	chmod +x "$BATS_TEST_TMPDIR/bin/docker"
	export PATH="$BATS_TEST_TMPDIR/bin:$PATH" FAKE_READY="$BATS_TEST_TMPDIR/ready" \
		FAKE_GO="$BATS_TEST_TMPDIR/go"
	rm -f "$FAKE_READY" "$FAKE_GO"
}

wait_ready() {
	for _ in $(seq 100); do
		[[ -s $FAKE_READY ]] && return 0
		sleep 0.1
	done
	fail "the fake docker never started"
}

# assert_step_result ID RESULT: the step's results.result
assert_step_result() {
	run_ts 0 step info "$1" --json
	assert_json_eq 'd["results"]["result"]' "\"$2\""
}

# wait_job ID: until the job is no longer running; $output its JSON
wait_job() {
	for _ in $(seq 100); do
		api GET "/jobs/$1"
		[[ $(json_get 'd["job"]["state"]') =~ ^\"(starting|running)\"$ ]] || return 0
		sleep 0.1
	done
	fail "job $1 still runs: $output"
}

@test "serve: POST /tasks/:id/run runs the task in a child process; its results land; /events says run-started, result, run-finished" {
	start_serve
	open_events "$BATS_TEST_TMPDIR/ev"
	api POST /tasks/1/run -H "$(auth)"
	expect 202
	assert_json_eq 'd["job"]' \
		'{"id": 1, "kind": "task", "task_id": 1, "step_id": null, "mode": [], "state": "running", "exit_code": null}'
	wait_job 1
	# file "a" is not there: step 1 failed, step 2 blocked, as task run has it
	assert_json_eq '[d["job"]["state"], d["job"]["exit_code"]]' '["failed", 1]'
	run_ts 0 step runs 1 --json
	assert_json_eq '[r["status"] for r in d]' '["failure"]'
	assert_step_result 2 blocked
	api GET /jobs/1/output
	expect 200
	[[ $output == *"Running all steps for task ID 1..."*"1 ran (0 succeeded, 1 failed), 0 fresh, 1 blocked"* ]] ||
		fail "output: $output"
	api GET /jobs
	assert_json_eq '[j["id"] for j in d["jobs"]]' '[1]'
	wait_ids 4 "$BATS_TEST_TMPDIR/ev"
	kill "$EV_PID"
	wait "$EV_PID" || true
	# in this order: started, the results, finished
	[[ $(grep '^event: ' "$BATS_TEST_TMPDIR/ev" | tr '\n' ' ') == \
		"event: run-started event: result event: result event: run-finished " ]] ||
		fail "events: $(cat "$BATS_TEST_TMPDIR/ev")"
	grep -qx 'data: {"exit_code":1,"id":1,"kind":"task","mode":\[\],"state":"failed","step_id":null,"task_id":1}' \
		"$BATS_TEST_TMPDIR/ev"
	# resumed after run-started: the rest again
	first=$(sed -n 's/^id: //p' "$BATS_TEST_TMPDIR/ev" | head -1)
	curl -sN -m 1 -H "Last-Event-ID: $first" "http://127.0.0.1:$PORT/events" >"$BATS_TEST_TMPDIR/ev2" || true
	[[ $(grep '^event: ' "$BATS_TEST_TMPDIR/ev2" | tr '\n' ' ') == \
		"event: result event: result event: run-finished " ]]
}

@test "serve: a run's modes are the CLI's flags: force, golden, original; a step run; unknown keys are 400" {
	mkdir -p "$BATS_TEST_TMPDIR/proj"
	touch "$BATS_TEST_TMPDIR/proj/a" "$BATS_TEST_TMPDIR/proj/b"
	ts task edit 1 --set "local_path=$BATS_TEST_TMPDIR/proj" >/dev/null
	ts task run 1 >/dev/null
	start_serve
	# fresh: nothing to run, so no lock is taken; the run ends at once
	api POST /tasks/1/run -H "$(auth)"
	expect 200
	assert_json_eq '[d["job"]["state"], d["job"]["exit_code"]]' '["succeeded", 0]'
	api GET /jobs/1/output
	[[ $output == *"0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"* ]] || fail "$output"
	api POST /tasks/1/run -H "$(auth)" -d '{"force": true, "golden": true, "original": false}'
	expect 202
	assert_json_eq 'd["job"]["mode"]' '["force", "golden"]'
	wait_job 2
	api GET /jobs/2/output
	[[ $output == *"2 ran (2 succeeded, 0 failed), 0 fresh, 0 blocked"* ]] || fail "$output"
	api POST /steps/2/run -H "$(auth)" -d '{"original": true}'
	expect 202
	assert_json_eq '[d["job"][k] for k in ("kind", "task_id", "step_id", "mode")]' '["step", 1, 2, ["original"]]'
	wait_job 3
	assert_json_eq 'd["job"]["state"]' '"succeeded"'
	api GET /jobs/3/output
	[[ $output == *"Running step ID 2..."* ]] || fail "$output"
	api POST /tasks/1/run -H "$(auth)" -d '{"fast": true}'
	expect 400
	assert_json_eq 'd' '{"error": "unknown key \"fast\""}'
	api POST /tasks/1/run -H "$(auth)" -d '{"force": 1}'
	expect 400
	api POST /tasks/1/run -H "$(auth)" -d '[]'
	expect 400
	api POST /tasks/9/run -H "$(auth)"
	expect 404
	api POST /steps/9/run -H "$(auth)"
	expect 404
	api GET /jobs/9
	expect 404
	api GET /tasks/1/run
	expect 405
	ts task edit 1 --set status=inactive >/dev/null
	api POST /tasks/1/run -H "$(auth)"
	expect 409
	assert_json_eq 'd' '{"error": "task 1 is inactive: only active tasks run"}'
}

@test "serve: writes that start work need the token: 401 without it, nothing started" {
	start_serve
	for path in /tasks/1/run /steps/1/run /tasks/1/regrade; do
		api POST "$path"
		expect 401
		api POST "$path" -H 'Authorization: Bearer nope'
		expect 401
	done
	api GET /jobs
	assert_json_eq 'd' '{"jobs": []}'
	run_ts 0 step runs 1 --json
	assert_json_eq 'd' '[]'
}

@test "serve: a run from the API and one from the CLI never overlap: the second is refused (409 / exit 1)" {
	slow_docker
	make_step 1 slow '{"docker_shell": {"container_name": "c1", "command": "make test"}}' >/dev/null
	start_serve
	# the API's run first: a second one from the API, a regrade, and the
	# CLI's run are refused
	api POST /steps/3/run -H "$(auth)"
	expect 202
	wait_ready
	api POST /tasks/1/regrade -H "$(auth)"
	expect 409
	api POST /tasks/1/run -H "$(auth)" -d '{"force": true}'
	expect 409
	assert_json_eq 'd' '{"error": "task 1 is being run by another task-sync process; try again when it finishes"}'
	run_ts 1 task run 1
	err_has "task 1 is being run by another task-sync process"
	run_ts 1 step run 3
	err_has "task 1 is being run by another task-sync process"
	# the server keeps serving meanwhile
	api GET /tasks/1/report
	expect 200
	touch "$FAKE_GO"
	wait_job 1
	assert_json_eq 'd["job"]["state"]' '"succeeded"'
	# the CLI's run first: the API's is refused
	rm -f "$FAKE_READY" "$FAKE_GO"
	"$TS_BIN" step run 3 --force >/dev/null 2>&1 3>&- &
	local cli=$!
	wait_ready
	api POST /steps/3/run -H "$(auth)"
	expect 409
	api POST /tasks/1/regrade -H "$(auth)"
	expect 409
	touch "$FAKE_GO"
	wait "$cli"
	api POST /tasks/1/regrade -H "$(auth)" -d '{"dry_run": true}'
	expect 200
	assert_json_eq '[d[k] for k in ("changed", "changes", "dry_run")]' '[0, [], true]'
	# the refused ones are listed too, newest first
	api GET /jobs
	assert_json_eq '[(j["id"], j["state"]) for j in d["jobs"]]' \
		'[[3, "refused"], [2, "refused"], [1, "succeeded"]]'
}

@test "serve: SIGTERM stops the runs it started (no child left) and exits within 5 s" {
	slow_docker
	make_step 1 slow '{"docker_shell": {"container_name": "c1", "command": "make test"}}' >/dev/null
	start_serve
	api POST /steps/3/run -H "$(auth)"
	expect 202
	wait_ready
	local child docker t0=$SECONDS
	child=$(pgrep -P "$SERVE_PID")
	docker=$(cat "$FAKE_READY")
	[[ -n $child ]]
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	(( SECONDS - t0 <= 5 )) || fail "took $((SECONDS - t0)) s"
	# no task-sync child and no (fake) docker left behind
	if kill -0 "$child" 2>/dev/null || kill -0 "$docker" 2>/dev/null; then
		fail "a child outlived the server"
	fi
	# the interrupted step was recorded as the CLI records it
	assert_step_result 3 error
	# the lock was freed: the CLI can run the task
	touch "$FAKE_GO"
	run_ts 0 step run 3
}

# ---- slow and vanishing clients, IPv6 ----------------------------------------

# "Bad requests get 4xx ... and the server keeps serving: ... slow clients
# (slowloris), a client that disconnects mid-stream"
# bats test_tags=any-backend
@test "serve: a client that sends its headers a byte at a time, or stops sending them, is closed after 10 s; the server keeps serving" {
	start_serve
	python3 - "$PORT" >"$BATS_TEST_TMPDIR/slow.out" 2>&1 3>&- <<'PY' &
import socket, sys, threading, time
port = int(sys.argv[1])
def client(name, trickle):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    s.settimeout(0.5)
    while time.monotonic() - t0 < 25:
        try:
            if trickle:
                s.sendall(b"X")  # never idle, never done
            if s.recv(1) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
    print(f"{name}: closed after {time.monotonic() - t0:.0f} s", flush=True)
ts = [threading.Thread(target=client, args=(n, t)) for n, t in (("trickle", True), ("stall", False))]
for t in ts: t.start()
for t in ts: t.join()
PY
	local slow=$!
	sleep 2
	# meanwhile: served at once
	api GET /status
	expect 200
	wait "$slow"
	sed "s/^/# /" "$BATS_TEST_TMPDIR/slow.out" >&3
	for name in trickle stall; do
		secs=$(sed -n "s/^$name: closed after \([0-9]*\) s$/\1/p" "$BATS_TEST_TMPDIR/slow.out")
		[[ -n $secs ]] && ((secs >= 9 && secs <= 16)) || fail "$name: $(cat "$BATS_TEST_TMPDIR/slow.out")"
	done
	grep -q '^serve: a client sent no complete request within 10 s: closed$' "$BATS_TEST_TMPDIR/serve.err"
	api GET /status
	expect 200
}

@test "serve: clients that vanish mid-stream (/events) do not hurt the server; the others still get their messages" {
	start_serve
	open_events "$BATS_TEST_TMPDIR/ev"
	# ten streams killed without a goodbye, one reset by its peer
	local pids=()
	for _ in $(seq 10); do
		curl -sN "http://127.0.0.1:$PORT/events" >/dev/null 3>&- &
		pids+=($!)
	done
	python3 - "$PORT" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
s.recv(10)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
	sleep 0.5
	kill -9 "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
	# messages for the dead streams to write to
	db_sql "UPDATE steps SET results = '{\"result\": \"success\"}' WHERE id = 1"
	wait_ids 1 "$BATS_TEST_TMPDIR/ev"
	db_sql "UPDATE steps SET results = '{\"result\": \"failure\"}' WHERE id = 1"
	wait_ids 2 "$BATS_TEST_TMPDIR/ev"
	api GET /status
	expect 200
	kill "$EV_PID"
	wait "$EV_PID" || true
	[[ $(grep -c '^event: result$' "$BATS_TEST_TMPDIR/ev") == 2 ]] || fail "$(cat "$BATS_TEST_TMPDIR/ev")"
	kill -0 "$SERVE_PID"
}

@test "serve: --listen [::1]:PORT serves over IPv6 loopback (reads without the token)" {
	python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null ||
		skip "no IPv6 loopback on this machine"
	start_serve '[::1]:0'
	[[ $URL =~ ^http://\[::1\]:[0-9]+/$ ]] || fail "URL: $URL"
	code=$(curl -sg -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "http://[::1]:$PORT/status")
	[[ $code == 200 ]]
	grep -q '"status": "ok"' "$BATS_TEST_TMPDIR/body"
	code=$(curl -sg -o /dev/null -w '%{http_code}' -X POST "http://[::1]:$PORT/tasks/1/run")
	[[ $code == 401 ]]
	# not on IPv4
	if curl -s -m 2 -o /dev/null "http://127.0.0.1:$PORT/status"; then
		fail "an IPv6 server answered on 127.0.0.1"
	fi
	run_ts 2 serve --listen '::1:8064'
	err_has "an IPv6 one in brackets such as [::1]"
}
