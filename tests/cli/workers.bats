#!/usr/bin/env bats
# The work queue without Docker (docs/workers.md): refused on SQLite;
# on PostgreSQL, task run --queue, dependencies, blocking, task status,
# task cancel, a worker --once. The grading grid across workers, kill -9,
# SIGTERM and late writers: tests/docker/workers.bats.

load helpers

setup() {
	ts_setup
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

@test "SQLite: worker, --queue, task status and task cancel are refused with one line, exit 3, and change nothing" {
	sqlite_only
	make_task demo >/dev/null
	make_step 1 a '{"file_exists": "a"}' >/dev/null
	BEFORE=$(db_snapshot)
	for c in "worker --once" "task run 1 --queue" "run-steps --queue" "task status 1" "task cancel 1"; do
		read -r -a argv <<<"$c"
		run_ts 3 "${argv[@]}"
		# shellcheck disable=SC2154 # stderr comes from run_ts
		[[ $(wc -l <<<"$stderr") -eq 1 ]] || fail "$c: $stderr"
		err_has "the work queue needs PostgreSQL (set DATABASE_URL); this database is SQLite"
	done
	assert_db_unchanged "$BEFORE"
}

@test "task run --queue queues the steps in order; a worker --once runs them, a failure blocks what waits on it" {
	pg_only
	make_task demo --local_path . >/dev/null
	touch here
	make_step 1 a '{"file_exists": "here"}' >/dev/null
	make_step 1 b '{"file_exists": "nope", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 1 c '{"file_exists": "here", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 d '{"file_exists": "here", "depends_on": [{"id": 1}]}' >/dev/null
	run_ts 0 task run 1 --queue
	out_has "Queued 4 items for task ID 1 (batch 1)"
	run_ts 0 task status 1
	out_has "Task 1, batch 1: queued 4, running 0, succeeded 0, failed 0, blocked 0, cancelled 0"
	# a second --queue while items are open is refused
	run_ts 1 task run 1 --queue
	err_has "task 1 already has 4 items queued or running"
	run_ts 0 worker --once --name w1 --heartbeat-ms 200
	out_has "worker w1: item 1 (task 1, step 1) succeeded: success"
	out_has "worker w1: item 2 (task 1, step 2) failed: did not succeed"
	out_has "worker w1: item 4 (task 1, step 4) succeeded: success"
	out_lacks "step 3)"
	run_ts 0 task status 1 --json
	assert_json_eq 'd["counts"]' '{"blocked": 1, "failed": 1, "succeeded": 2}'
	[[ $(db_sql "SELECT message FROM work_items WHERE step_id = 3") == "step 2 did not succeed" ]]
	# one claim took one item each time
	[[ $(db_sql "SELECT count(*) FROM work_items WHERE attempts <> 1 AND state <> 'blocked'") == 0 ]]
	# a result records where it ran
	[[ $(db_sql "SELECT detail->'graded_on'->>'worker' FROM step_runs WHERE step_id = 1") == w1 ]]
	# the queue is done: a new batch may start
	run_ts 0 task run 1 --queue
	out_has "(batch 2)"
}

@test "task run --queue of a task that is not active says why as task run does, and queues nothing" {
	pg_only
	make_task demo --status inactive >/dev/null
	make_step 1 a '{"file_exists": "a"}' >/dev/null
	run_ts 1 task run 1 --queue
	err_has "task 1 is inactive: only active tasks run (task-sync task edit 1 --set status=active)"
	[[ $(db_sql "SELECT count(*) FROM work_items") == 0 ]]
}

@test "task cancel withdraws the queued items; a worker --once then finds nothing" {
	pg_only
	make_task demo --local_path . >/dev/null
	make_step 1 a '{"file_exists": "nope"}' >/dev/null
	make_step 1 b '{"file_exists": "nope"}' >/dev/null
	run_ts 0 task run 1 --queue
	run_ts 0 task cancel 1
	out_is "Cancelled 2 queued items of task ID 1"
	run_ts 0 task status 1
	out_has "queued 0, running 0, succeeded 0, failed 0, blocked 0, cancelled 2"
	run_ts 0 worker --once --name w1
	out_has "worker w1: stopped: 0 claimed"
	run_ts 4 task cancel 9
	run_ts 0 task status 1 --json
	assert_json_eq 'd["running"]' '[]'
}

@test "a running item whose worker stopped heartbeating is claimed again by another worker, which runs it" {
	pg_only
	make_task demo --local_path . >/dev/null
	touch here
	make_step 1 a '{"file_exists": "here"}' >/dev/null
	run_ts 0 task run 1 --queue
	# a worker that claimed the item and died: its heartbeat is old
	db_sql "UPDATE work_items SET state = 'running', owner = 'dead', epoch = 1, lease_ms = 200,
		claimed_at = now() - interval '5 seconds', heartbeat_at = now() - interval '5 seconds'"
	run_ts 0 task status 1
	out_has "running 1"
	out_has "dead"
	run_ts 0 worker --once --name w2 --heartbeat-ms 100
	out_has "worker w2: item 1 (task 1, step 1) reclaimed from: dead"
	out_has "worker w2: item 1 (task 1, step 1) succeeded: success"
	[[ $(db_sql "SELECT owner, epoch, attempts, state FROM work_items") == "w2|2|1|succeeded" ]]
}

# a task whose one step (model_task_check) reads a FIFO no one writes: its
# item runs until its worker is killed
hanging_task() {
	PROJ=$BATS_TEST_TMPDIR/proj
	mkdir -p "$PROJ"
	printf 'T {YOUR_TASK_PROMPT}\n' >"$PROJ/template.md"
	printf '[]' >"$PROJ/rubrics.json"
	printf 'diff\n' >"$PROJ/held_out_tests.patch"
	mkfifo "$PROJ/prompt.md"
	make_task demo --local_path "$PROJ" >/dev/null
	make_step 1 prompt '{"model_task_check": {"model_prompt_sample": "template.md", "task_prompt": "prompt.md",
		"rubrics_json": "rubrics.json", "held_out_tests": "held_out_tests.patch", "generated_file": "out.md"}}' >/dev/null
}

# wait_sql SQL SECONDS: until SQL prints t
wait_sql() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ $(db_sql "$1") == t ]] && return 0
		sleep 0.1
	done
	fail "still not true after $2 s: $1"
}

@test "a worker killed with kill -9 loses its item to an idle worker when its lease ends, two heartbeat intervals after its last heartbeat (by the database's clock), not at the idle worker's next poll" {
	pg_only
	hanging_task
	run_ts 0 task run 1 --queue
	hb=500
	"$TS_BIN" worker --name w1 --heartbeat-ms $hb >"$BATS_TEST_TMPDIR/w1.log" 2>&1 3>&- &
	w1=$!
	PIDS+=("$w1")
	wait_sql "SELECT state = 'running' AND owner = 'w1' FROM work_items" 30
	# the idle worker polls every 10 minutes: only the lease's end, known
	# from its last look at the queue, can bring it the item in time
	"$TS_BIN" worker --name w2 --heartbeat-ms $hb --poll-ms 600000 >"$BATS_TEST_TMPDIR/w2.log" 2>&1 3>&- &
	w2=$!
	PIDS+=("$w2")
	# w2 has looked at the queue and waits; w1 has heartbeated since its claim
	wait_sql "SELECT count(*) >= 1 FROM pg_stat_activity WHERE application_name LIKE 'task-sync:$w2@%'
		AND state = 'idle' AND query LIKE '%FOR UPDATE SKIP LOCKED%'" 30
	wait_sql "SELECT heartbeat_at > claimed_at + interval '$((2 * hb)) milliseconds' FROM work_items" 30
	{
		kill -9 "$w1"
		wait "$w1"
	} 2>/dev/null || true
	# its last heartbeat, as the database recorded it, once its sessions
	# are gone (a beat sent just before the kill has committed or not)
	wait_sql "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name LIKE 'task-sync:$w1@%'" 30
	last=$(db_sql "SELECT heartbeat_at FROM work_items WHERE owner = 'w1' AND state = 'running'")
	[[ -n $last ]] || fail "w1's claim is gone already: $(db_sql "SELECT * FROM work_items")"
	wait_sql "SELECT owner = 'w2' FROM work_items" 30
	cat "$BATS_TEST_TMPDIR/w2.log" >&2
	ms=$(db_sql "SELECT (EXTRACT(EPOCH FROM claimed_at - '$last'::timestamptz) * 1000)::int FROM work_items")
	echo "reclaimed $ms ms after the last heartbeat (lease $((2 * hb)) ms)" >&3
	# never before the lease ends
	((ms >= 2 * hb)) || fail "reclaimed $ms ms after the last heartbeat, before the lease of $((2 * hb)) ms ended"
	# at its end: the slack is the time a woken thread takes to run and its
	# statement to start (milliseconds; 1 s allows for a loaded machine,
	# 600 times less than the poll interval it would otherwise wait for)
	((ms <= 2 * hb + 1000)) || fail "reclaimed $ms ms after the last heartbeat, lease $((2 * hb)) ms"
	# the worker says how long the item's owner had been silent: the same
	silent=$(sed -n 's/.*item 1 (task 1, step 1) reclaimed from: w1 (silent for \([0-9]*\) ms)$/\1/p' "$BATS_TEST_TMPDIR/w2.log")
	[[ -n $silent ]] || fail "no reclaim line: $(cat "$BATS_TEST_TMPDIR/w2.log")"
	((silent >= ms - 1 && silent <= ms + 1)) || fail "silent for $silent ms, measured $ms"
	[[ $(db_sql "SELECT epoch || ' ' || attempts FROM work_items") == "2 2" ]]
}

@test "a worker started again under a dead worker's name does not keep the dead one's items alive" {
	pg_only
	make_task demo --local_path . >/dev/null
	touch here
	make_step 1 a '{"file_exists": "here"}' >/dev/null
	make_step 1 b '{"file_exists": "here"}' >/dev/null
	run_ts 0 task run 1 --queue
	# w1 died holding item 1; a new w1 runs item 2, and heartbeats only it
	db_sql "UPDATE work_items SET state = 'running', owner = 'w1', epoch = 1, lease_ms = 400,
		claimed_at = now(), heartbeat_at = now() WHERE id = 1"
	run_ts 0 worker --once --name w1 --heartbeat-ms 200
	out_has "worker w1: item 1 (task 1, step 1) reclaimed from: w1"
	[[ $(db_sql "SELECT string_agg(state || ' ' || epoch, ',' ORDER BY id) FROM work_items") == "succeeded 2,succeeded 1" ]]
}

@test "an idle worker is woken by NOTIFY: an item queued while it waits with a 30 s poll interval is claimed within 5 s (in milliseconds when the machine is not loaded); SIGTERM ends the wait" {
	pg_only
	make_task demo --local_path . >/dev/null
	touch here
	make_step 1 a '{"file_exists": "here"}' >/dev/null
	"$TS_BIN" worker --name w1 --heartbeat-ms 30000 --poll-ms 30000 >"$BATS_TEST_TMPDIR/w1.log" 2>&1 3>&- &
	pid=$!
	# its look at the empty queue is over: it waits
	for _ in $(seq 100); do
		[[ $(db_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'task-sync:$pid@%'
			AND state = 'idle' AND query LIKE '%FOR UPDATE SKIP LOCKED%'") -ge 1 ]] && break
		sleep 0.1
	done
	sleep 0.3
	run_ts 0 task run 1 --queue
	for _ in $(seq 100); do
		[[ $(db_sql "SELECT state FROM work_items") == succeeded ]] && break
		sleep 0.1
	done
	ms=$(db_sql "SELECT (EXTRACT(EPOCH FROM claimed_at - created_at) * 1000)::int FROM work_items")
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	cat "$BATS_TEST_TMPDIR/w1.log" >&2
	[[ $(db_sql "SELECT state FROM work_items") == succeeded ]]
	echo "claimed $ms ms after it was queued" >&3
	((ms < 5000)) || fail "claimed $ms ms after it was queued"
	[[ $rc -eq 0 ]]
	grep -q "worker w1: stopped: 1 claimed" "$BATS_TEST_TMPDIR/w1.log"
}

@test "a worker claims first a dead worker's item, then the items whose image its Docker engine holds (the task's containers_map), then by ID" {
	pg_only
	held=$(docker images -q --no-trunc 2>/dev/null | head -1) || true
	[[ $held == sha256:* ]] || skip "needs a Docker engine holding an image"
	touch here
	make_task elsewhere --local_path . >/dev/null
	make_task here --local_path . >/dev/null
	"$TS_BIN" task edit 1 --set "containers_map={\"app\": {\"image_id\": \"sha256:$(printf '0%.0s' {1..64})\"}}" >/dev/null
	"$TS_BIN" task edit 2 --set "containers_map={\"app\": {\"image_id\": \"$held\"}}" >/dev/null
	make_step 1 a '{"file_exists": "here"}' >/dev/null
	make_step 1 b '{"file_exists": "here"}' >/dev/null
	make_step 2 c '{"file_exists": "here"}' >/dev/null
	make_step 2 d '{"file_exists": "here"}' >/dev/null
	run_ts 0 task run 1 --queue
	run_ts 0 task run 2 --queue
	# item 1's worker died: taken over before anything else
	db_sql "UPDATE work_items SET state = 'running', owner = 'dead', epoch = 1, lease_ms = 200,
		claimed_at = now() - interval '5 seconds', heartbeat_at = now() - interval '5 seconds' WHERE id = 1"
	run_ts 0 worker --once --name w1
	out_has "item 1 (task 1, step 1) reclaimed from: dead"
	# then task 2's items (3, 4), then the rest, each group by ID
	[[ $(db_sql "SELECT string_agg(id::text, ' ' ORDER BY claimed_at) FROM work_items") == "1 3 4 2" ]] ||
		fail "claimed in the order $(db_sql "SELECT string_agg(id::text, ' ' ORDER BY claimed_at) FROM work_items")"
}

@test "worker: usage errors exit 2 before the database is opened" {
	run_ts 2 worker --concurrency 0
	run_ts 2 worker --task x
	run_ts 2 worker extra
	run_ts 2 task run 1 --queue --dry-run
	err_has "--queue and --dry-run do not go together"
	run_ts 0 worker --help
	out_has "worker [--concurrency N]"
}
