#!/usr/bin/env bats
# The step engine: task run | step run | run-steps, step runs | step log.
# Order, blocking, cycles, inactive tasks, freshness, --force, --dry-run,
# exit codes, file_exists, and the per-task run lock.

load helpers

setup() {
	ts_setup
	PROJ="$BATS_TEST_TMPDIR/proj"
	mkdir -p "$PROJ"
}

teardown() {
	# a lock holder a failed test left behind
	if [[ -n ${HOLDER_PID:-} ]]; then
		kill -9 "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
}

# a task whose folder is $PROJ; prints its ID
proj_task() {
	make_task "${1:-demo}" --local_path "$PROJ" "${@:2}"
}

# the step IDs of the "Processing step ID N" lines of stdout, space-separated
processed_order() {
	grep -o 'Processing step ID [0-9]*' <<<"$output" | awk '{printf "%s%s", sep, $4; sep=" "}'
}

assert_order() {
	local got
	got=$(processed_order)
	[[ $got == "$1" ]] || { fail "processing order: expected '$1', got '$got'"; show_run; return 1; }
}

# the result of step ID (results.result, or null)
step_result() {
	local out
	out=$(ts step info "$1" --json) || return 1
	json_get 'd["results"]["result"] if d["results"] else None' "$out" | tr -d '"'
}

step_message() {
	local out
	out=$(ts step info "$1" --json) || return 1
	json_get 'd["results"]["message"]' "$out"
}

assert_result() {
	local got
	got=$(step_result "$1")
	[[ $got == "$2" ]] || { fail "step $1: expected result '$2', got '$got'"; return 1; }
}

# the number of step_runs rows of step ID
run_count() {
	local out
	out=$(ts step runs "$1" --json) || return 1
	json_get 'len(d)' "$out"
}

assert_runs() {
	local got
	got=$(run_count "$1")
	[[ $got == "$2" ]] || { fail "step $1: expected $2 step_runs rows, got $got"; return 1; }
}

# new content, with an mtime certainly different from the old one
rewrite() {
	printf '%s\n' "$2" >"$1"
	touch -d "@$(($(date +%s) + ${3:-5}))" "$1"
}

# ---- order -------------------------------------------------------------------

@test "task run orders steps by dependency: a lower ID that depends on a higher one runs after it" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 first '{"file_exists": "a", "depends_on": [{"id": 3}]}' >/dev/null
	make_step 1 second '{"file_exists": "a"}' >/dev/null
	make_step 1 third '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	assert_order "2 3 1"
	out_has "Processing step ID 3 (third)... success: 1 file present"
	out_has "Processing step ID 1 (first)... success"
	out_has "3 ran (3 succeeded, 0 failed), 0 fresh, 0 blocked"
	out_has "All steps for task processed successfully."
	assert_result 1 success
	assert_result 2 success
	assert_result 3 success
}

@test "task run breaks ties by step ID once dependencies are met" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 one '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 two '{"file_exists": "a"}' >/dev/null
	make_step 1 three '{"file_exists": "a"}' >/dev/null
	make_step 1 four '{"file_exists": "a", "depends_on": [{"id": 3}, {"id": 1}]}' >/dev/null
	make_step 1 five '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	# ready: 2 3 5 -> 2; then 1 3 5 -> 1; then 3 5 -> 3; then 4 5 -> 4; then 5
	assert_order "2 1 3 4 5"
}

@test "task run without dependencies runs steps in ID order" {
	proj_task >/dev/null
	touch "$PROJ/a"
	for t in a b c d; do make_step 1 "$t" '{"file_exists": "a"}' >/dev/null; done
	run_ts 0 task run 1
	assert_order "1 2 3 4"
}

@test "depends_on inside the type object is honoured like a top-level one" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 nested '{"file_exists": {"files": {"a": true}, "depends_on": [{"id": 3}]}}' >/dev/null
	make_step 1 toplevel '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 1 base '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	assert_order "3 1 2"
}

@test "a dependency on a step of another task is used, not run" {
	proj_task first >/dev/null
	proj_task second >/dev/null
	touch "$PROJ/a"
	make_step 1 other '{"file_exists": "a"}' >/dev/null
	make_step 2 mine '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	run_ts 1 task run 2
	assert_order "2"
	out_has "blocked: dependency 1 is not successful (not run)"
	run_ts 0 task run 1
	run_ts 0 task run 2
	assert_order "2"
	out_has "Processing step ID 2 (mine)... success"
}

# ---- blocking ----------------------------------------------------------------

@test "two steps depending on the same step of another task are no cycle" {
	proj_task >/dev/null
	proj_task other >/dev/null
	touch "$PROJ/a"
	make_step 1 base '{"file_exists": "a"}' >/dev/null
	make_step 2 one '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 2 two '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 2 three '{"file_exists": "a", "depends_on": [{"id": 1}, {"id": 2}]}' >/dev/null
	run_ts 0 run-steps
	out_has "4 ran (4 succeeded, 0 failed), 0 fresh, 0 blocked"
	run_ts 0 task run 2 --dry-run
	out_has "step 4 (three): fresh"
}

@test "a failed dependency blocks its dependents, naming it; exit 1" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 needs-missing '{"file_exists": "missing.txt"}' >/dev/null
	make_step 1 dependent '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 1 transitive '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 independent '{"file_exists": "a"}' >/dev/null
	run_ts 1 task run 1
	assert_order "1 2 3 4"
	out_has "Processing step ID 1 (needs-missing)... failure: file not found: missing.txt"
	out_has "Processing step ID 2 (dependent)... blocked: dependency 1 is not successful (failure)"
	out_has "Processing step ID 3 (transitive)... blocked: dependency 2 is not successful (blocked)"
	out_has "Processing step ID 4 (independent)... success"
	out_has "2 ran (1 succeeded, 1 failed), 0 fresh, 2 blocked"
	out_lacks "All steps for task processed successfully."
	assert_result 1 failure
	assert_result 2 blocked
	assert_result 3 blocked
	[[ $(step_message 2) == '"dependency 1 is not successful (failure)"' ]]
	# blocked is not an execution: no step_runs row
	assert_runs 1 1
	assert_runs 2 0
	# once the dependency succeeds, the dependents run
	touch "$PROJ/missing.txt"
	run_ts 0 task run 1
	assert_result 2 success
	assert_result 3 success
}

@test "step run of a step whose dependency never ran is blocked; exit 1" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 dep '{"file_exists": "a"}' >/dev/null
	make_step 1 me '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	run_ts 1 step run 2
	out_has "Processing step ID 2 (me)... blocked: dependency 1 is not successful (not run)"
	out_has "Error processing step: step 2 did not succeed"
	assert_result 2 blocked
	# step run runs only the step itself
	assert_result 1 null
	run_ts 0 step run 1
	out_has "Step processed successfully."
	run_ts 0 step run 2
	assert_result 2 success
}

# ---- errors before anything runs --------------------------------------------

@test "a dependency cycle is an error naming it; exit 3; nothing is written" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 free '{"file_exists": "a"}' >/dev/null
	make_step_unchecked 1 c1 '{"file_exists": "a", "depends_on": [{"id": 4}]}' >/dev/null
	make_step 1 c2 '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 c3 '{"file_exists": "a", "depends_on": [{"id": 3}]}' >/dev/null
	before=$(db_snapshot)
	run_ts 3 task run 1
	err_has "dependency cycle between steps:"
	err_has "cycle"
	# the cycle 2 -> 4 -> 3 -> 2, from wherever it starts
	[[ $stderr =~ (2\ -\>\ 4\ -\>\ 3\ -\>\ 2|4\ -\>\ 3\ -\>\ 2\ -\>\ 4|3\ -\>\ 2\ -\>\ 4\ -\>\ 3) ]] ||
		{ fail "the cycle is not named"; show_run; return 1; }
	out_lacks "Processing step"
	assert_db_unchanged "$before"
	assert_result 1 null
	assert_runs 1 0
	run_ts 3 task run 1 --dry-run
	err_has "dependency cycle"
	assert_db_unchanged "$before"
}

@test "a step that depends on itself is a cycle" {
	proj_task >/dev/null
	make_step_unchecked 1 self '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	before=$(db_snapshot)
	run_ts 3 task run 1
	err_has "dependency cycle between steps: 1 -> 1"
	assert_db_unchanged "$before"
}

@test "step run of a step on a dependency cycle is an error and writes nothing" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 c1 '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 c2 '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	before=$(db_snapshot)
	run_ts 3 step run 1
	err_has "dependency cycle"
	out_lacks "Processing step"
	assert_db_unchanged "$before"
}

# (a dependency on a step that does not exist: deps.bats)

@test "a malformed depends_on put in by SQL is an error before anything runs, not 'no dependencies'" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 dep '{"file_exists": "nope"}' >/dev/null
	make_step 1 after '{"file_exists": "a"}' >/dev/null
	make_step 1 nested '{"file_exists": {"files": {"a": true}}}' >/dev/null
	db_sql "UPDATE steps SET settings = '{\"file_exists\": \"a\", \"depends_on\": \"1\"}' WHERE id = 2"
	before=$(db_snapshot)
	run_ts 3 task run 1
	err_is 'error: step 2: depends_on must be an array like [{"id": 12}]'
	out_lacks "Processing step"
	assert_db_unchanged "$before"
	run_ts 3 step run 2
	err_is 'error: step 2: depends_on must be an array like [{"id": 12}]'
	run_ts 3 task run 1 --dry-run
	err_has "step 2: depends_on"
	assert_db_unchanged "$before"
	# inside the type object, an id that is not an integer
	db_sql "UPDATE steps SET settings = '{\"file_exists\": \"a\", \"depends_on\": [{\"id\": 1}]}' WHERE id = 2"
	db_sql "UPDATE steps SET settings = '{\"file_exists\": {\"files\": {\"a\": 1}, \"depends_on\": [{\"id\": 1.0}]}}' WHERE id = 3"
	before=$(db_snapshot)
	run_ts 3 task run 1
	err_is 'error: step 3: depends_on entry 1 is not a step reference like {"id": 12}'
	out_lacks "Processing step"
	assert_db_unchanged "$before"
	# step run of a step whose dependency has a malformed depends_on
	db_sql "UPDATE steps SET settings = '{\"file_exists\": \"a\", \"depends_on\": [{\"id\": 3}]}' WHERE id = 2"
	run_ts 3 step run 2
	err_is 'error: step 3: depends_on entry 1 is not a step reference like {"id": 12}'
	assert_runs 2 0
	run_ts 1 run-steps
	err_has "step 3: depends_on entry 1"
	out_has "0 ran (0 succeeded, 0 failed), 0 fresh, 0 blocked, 1 task stopped by an error"
	assert_result 1 null
	assert_result 2 null
}

@test "task run and step run of unknown IDs exit 4" {
	run_ts 4 task run 9
	err_has "9"
	run_ts 4 step run 9
	err_has "no step found with ID 9"
}

@test "task run of a task without steps has nothing to do: a note, exit 0" {
	proj_task >/dev/null
	before=$(db_snapshot)
	run_ts 0 task run 1
	err_is "note: task 1 has no steps"
	out_has "0 ran (0 succeeded, 0 failed), 0 fresh, 0 blocked"
	assert_db_unchanged "$before"
	run_ts 0 task run 1 --dry-run
	err_is "note: task 1 has no steps"
	# run-steps with nothing to run: the same
	run_ts 0 run-steps
	err_is "note: no active task has steps: nothing to run"
	out_is "Starting step processing..."$'\n'"0 ran (0 succeeded, 0 failed), 0 fresh, 0 blocked"$'\n'"Step processing finished."
	run_ts 0 run-steps --dry-run
	err_is "note: no active task has steps: nothing to run"
	# steps of an inactive task do not count
	proj_task off --status inactive >/dev/null
	make_step 2 paused '{"file_exists": "a"}' >/dev/null
	run_ts 0 run-steps
	err_is "note: no active task has steps: nothing to run"
}

# ---- dynamic_rubric: run by specific step only ------------------------------

# a dynamic_rubric step over $PROJ/rubrics.json (two criteria) and an empty
# solution1.patch (graded ERROR without Docker); prints its ID
dyn_step() {
	python3 - "$PROJ/rubrics.json" <<-'EOF'
		import json, sys
		json.dump([{"rubricItemId": i, "criterion": "crit " + i, "score": 1,
		            "forms": {"f": {"criterion_test_command": "echo " + i}}}
		           for i in "ab"], open(sys.argv[1], "w"))
	EOF
	touch "$PROJ/solution1.patch"
	make_step "$1" dyn '{"dynamic_rubric": {"rubrics": ["rubrics.json"], "files": {"solution1.patch": ""}, "assign_containers": {"solution1.patch": "no-such-c1"}}}'
}

@test "dynamic_rubric is run by specific step only: task run and run-steps skip it, step run runs it" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 files '{"file_exists": "a"}' >/dev/null
	dyn_step 1 >/dev/null
	make_step 1 after '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	run_ts 0 task run 1 --dry-run
	out_has "step 2 (dyn): skipped (run it with 'task-sync step run 2')"
	# skipped, with why; its dependant goes by its last result (none yet)
	run_ts 1 task run 1
	out_has "Processing step ID 2 (dyn)... skipped: run it with 'task-sync step run 2'"
	out_has "Processing step ID 3 (after)... blocked: dependency 2 is not successful (not run; run it with 'task-sync step run 2')"
	out_has "1 ran (1 succeeded, 0 failed), 0 fresh, 1 blocked, 1 skipped"
	assert_result 2 null
	assert_runs 2 0
	run_ts 1 task run 1 --force
	out_has "Processing step ID 2 (dyn)... skipped: run it with 'task-sync step run 2'"
	assert_runs 2 0
	run_ts 1 run-steps
	out_has "Processing step ID 2 (dyn)... skipped: run it with 'task-sync step run 2'"
	assert_runs 2 0
	# step run runs it: its children appear
	run_ts 0 step run 2
	out_has "Processing step ID 2 (dyn)... success: 2 criteria: 2 created"
	assert_runs 2 1
	# and no no-change key: task run and run-steps never count it fresh
	[[ -z $(db_sql "SELECT fresh_key FROM steps WHERE id = 2") ]]
	# the skip does not block: its dependant and its children run
	run_ts 0 task run 1
	assert_order "1 2 3 4 5"
	out_has "Processing step ID 2 (dyn)... skipped: run it with 'task-sync step run 2'"
	out_has "Processing step ID 3 (after)... success"
	out_has "Processing step ID 4 (Rubric 1: a)... success: graded 1"
	out_has "1 fresh, 0 blocked, 1 skipped"
	assert_runs 2 1
	run_ts 0 run-steps --verbose
	out_has "Processing step ID 2 (dyn)... skipped: run it with 'task-sync step run 2'"
	out_lacks "Processing step ID 2 (dyn)... fresh"
	assert_runs 2 1
}

# ---- inactive tasks ----------------------------------------------------------

@test "step run of a step of an inactive task says why and exits 1; run-steps skips the task" {
	proj_task on >/dev/null
	proj_task off --status inactive >/dev/null
	touch "$PROJ/a"
	make_step 1 active-step '{"file_exists": "a"}' >/dev/null
	make_step 2 inactive-step '{"file_exists": "a"}' >/dev/null
	run_ts 1 step run 2
	err_has "step 2 not run: its task 2 is inactive, and only active tasks run"
	out_lacks "Processing step"
	assert_result 2 null
	run_ts 1 task run 2
	err_has "task 2 is inactive: only active tasks run"
	assert_result 2 null
	run_ts 0 run-steps
	assert_order "1"
	out_has "Starting step processing..."
	out_has "Step processing finished."
	assert_result 1 success
	assert_result 2 null
	assert_runs 2 0
	# disabled and running tasks are skipped too
	ts task edit 2 --set status=disabled >/dev/null
	run_ts 1 step run 2
	err_has "is disabled"
	run_ts 0 run-steps --verbose
	assert_order "1"
	# once active, it runs
	ts task edit 2 --set status=active >/dev/null
	run_ts 0 run-steps
	assert_order "2"
	assert_result 2 success
}

# ---- run-steps ---------------------------------------------------------------

@test "run-steps runs every active task in task order and returns when nothing is to do" {
	run_ts 0 run-steps
	out_has "Starting step processing..."
	out_has "Step processing finished."
	out_lacks "Processing step"
	proj_task first >/dev/null
	proj_task second >/dev/null
	touch "$PROJ/a"
	make_step 2 t2 '{"file_exists": "a"}' >/dev/null
	make_step_unchecked 1 t1 '{"file_exists": "a", "depends_on": [{"id": 3}]}' >/dev/null
	make_step 1 t1-dep '{"file_exists": "a"}' >/dev/null
	run_ts 0 run-steps
	assert_order "3 2 1"
	out_has "3 ran (3 succeeded, 0 failed), 0 fresh, 0 blocked"
	# nothing changed: nothing runs, fresh steps are not listed, exit 0
	run_ts 0 run-steps
	out_lacks "Processing step"
	out_has "0 ran (0 succeeded, 0 failed), 3 fresh, 0 blocked"
	run_ts 0 run-steps -v
	out_has "Processing step ID 1 (t2)... fresh"
	assert_order "3 2 1"
	assert_runs 1 1
	assert_runs 2 1
}

@test "run-steps exits 1 when a step fails or is blocked, and still runs the other tasks" {
	proj_task first >/dev/null
	proj_task second >/dev/null
	touch "$PROJ/a"
	make_step 1 bad '{"file_exists": "nope"}' >/dev/null
	make_step 1 blocked '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 2 good '{"file_exists": "a"}' >/dev/null
	run_ts 1 run-steps
	assert_order "1 2 3"
	out_has "2 ran (1 succeeded, 1 failed), 0 fresh, 1 blocked"
	assert_result 3 success
}

@test "run-steps reports a task with a cycle and still runs the other tasks" {
	proj_task first >/dev/null
	proj_task second >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 c1 '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 c2 '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 2 good '{"file_exists": "a"}' >/dev/null
	run_ts 1 run-steps
	err_is "error: dependency cycle between steps: 1 -> 2 -> 1 (each waits for the next)"
	assert_order "3"
	# the broken task is counted apart, not as a failed step
	out_has "1 ran (1 succeeded, 0 failed), 0 fresh, 0 blocked, 1 task stopped by an error"
	assert_result 1 null
	assert_result 3 success
}

# ---- freshness ---------------------------------------------------------------

@test "a second run is fresh: no new step_runs row, results unchanged" {
	proj_task >/dev/null
	echo one >"$PROJ/a.txt"
	make_step 1 check '{"file_exists": "a.txt"}' >/dev/null
	run_ts 0 task run 1
	out_has "Processing step ID 1 (check)... success: 1 file present"
	assert_runs 1 1
	info=$(ts step info 1 --json)
	run_ts 0 task run 1
	out_has "Processing step ID 1 (check)... fresh: inputs, settings and dependencies unchanged"
	out_has "0 ran (0 succeeded, 0 failed), 1 fresh, 0 blocked"
	out_has "All steps for task processed successfully."
	assert_runs 1 1
	[[ $(ts step info 1 --json) == "$info" ]] || fail "results changed on a fresh run"
	run_ts 0 step run 1
	out_has "fresh"
	out_has "Step processed successfully."
	assert_runs 1 1
}

@test "new content reruns; a touch without a content change stays fresh" {
	proj_task >/dev/null
	echo one >"$PROJ/a.txt"
	make_step 1 check '{"file_exists": "a.txt"}' >/dev/null
	run_ts 0 task run 1
	assert_runs 1 1
	# same content, new mtime (and ctime): the hash decides
	touch -d "@$(($(date +%s) + 7))" "$PROJ/a.txt"
	run_ts 0 task run 1
	out_has "Processing step ID 1 (check)... fresh"
	assert_runs 1 1
	# new content of the same size
	rewrite "$PROJ/a.txt" two 11
	run_ts 0 task run 1
	out_has "Processing step ID 1 (check)... success"
	assert_runs 1 2
	run_ts 0 task run 1
	out_has "fresh"
	assert_runs 1 2
}

@test "a dry run names the changed input; a changed dependency reruns its dependents" {
	proj_task >/dev/null
	echo one >"$PROJ/a.txt"
	echo b >"$PROJ/b.txt"
	make_step 1 base '{"file_exists": "a.txt"}' >/dev/null
	make_step 1 dependent '{"file_exists": "b.txt", "depends_on": [{"id": 1}]}' >/dev/null
	run_ts 0 task run 1
	run_ts 0 task run 1
	out_has "2 fresh"
	rewrite "$PROJ/a.txt" "one more" 9
	run_ts 0 task run 1 --dry-run
	out_has "step 1 (base): would run (input changed: a.txt)"
	run_ts 0 task run 1
	assert_order "1 2"
	out_has "Processing step ID 1 (base)... success"
	out_has "Processing step ID 2 (dependent)... success"
	assert_runs 1 2
	assert_runs 2 2
}

@test "changed settings rerun a step" {
	proj_task >/dev/null
	touch "$PROJ/a" "$PROJ/b"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	ts step edit 1 --set file_exists='["a", "b"]' >/dev/null
	run_ts 0 task run 1 --dry-run
	out_has "would run (settings changed)"
	run_ts 0 task run 1
	out_has "success: 2 files present"
	assert_runs 1 2
}

@test "a failed step reruns on the next run even when nothing changed" {
	proj_task >/dev/null
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	run_ts 1 task run 1
	run_ts 1 task run 1
	out_has "Processing step ID 1 (check)... failure: file not found: a"
	assert_runs 1 2
}

@test "--force reruns a fresh step and adds a step_runs row" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	make_step 1 next '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	run_ts 0 task run 1
	run_ts 0 task run 1 --force
	out_has "Processing step ID 1 (check)... success"
	out_has "Processing step ID 2 (next)... success"
	out_has "2 ran (2 succeeded, 0 failed), 0 fresh, 0 blocked"
	assert_runs 1 2
	assert_runs 2 2
	run_ts 0 step run 1 --force
	out_has "Processing step ID 1 (check)... success"
	assert_runs 1 3
	assert_runs 2 2
	run_ts 0 step run 2 -f
	assert_runs 2 3
	run_ts 0 task run 1 --dry-run --force
	out_has "step 1 (check): would run (forced)"
	assert_runs 1 3
}

@test "--force on a failing step records the new failure" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	rm "$PROJ/a"
	run_ts 1 step run 1 --force
	out_has "failure: file not found: a"
	assert_result 1 failure
	assert_runs 1 2
}

# ---- dry run -----------------------------------------------------------------

@test "task run --dry-run prints would run / fresh / blocked with reasons and writes nothing" {
	proj_task >/dev/null
	echo x >"$PROJ/a"
	make_step 1 done-before '{"file_exists": "a"}' >/dev/null
	make_step 1 fails '{"file_exists": "nope"}' >/dev/null
	make_step 1 after-failure '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 new '{"file_exists": "a"}' >/dev/null
	run_ts 0 step run 1
	run_ts 1 step run 2
	# the failed step's file is there now: it would run, its dependent stays blocked
	touch "$PROJ/nope"
	make_step 1 missing-input '{"file_exists": ["a", "gone.txt"]}' >/dev/null
	before=$(db_snapshot)
	runs_before=$(for i in 1 2 3 4 5; do ts step runs "$i" --json; done)
	run_ts 0 task run 1 --dry-run
	out_has "step 1 (done-before): fresh (inputs, settings and dependencies unchanged)"
	out_has "step 2 (fails): would run (last result was failure)"
	# its dependency would run first, so it would too
	out_has "step 3 (after-failure): would run (after dependency 2, which would run)"
	out_has "step 4 (new): would run (never run)"
	out_has "step 5 (missing-input): would run (input missing: gone.txt)"
	out_lacks "Processing step"
	out_lacks "processed successfully"
	assert_db_unchanged "$before"
	[[ $(for i in 1 2 3 4 5; do ts step runs "$i" --json; done) == "$runs_before" ]] ||
		fail "step_runs changed"
	# step run runs no dependency: the failed one blocks
	run_ts 0 step run 3 --dry-run
	out_is "Running step ID 3...
step 3 (after-failure): blocked (dependency 2 is not successful (failure))"
	run_ts 0 step run 1 -n
	out_has "step 1 (done-before): fresh (inputs, settings and dependencies unchanged)"
	assert_db_unchanged "$before"
	run_ts 0 step run 4 --dry-run
	out_has "step 4 (new): would run (never run)"
	run_ts 0 run-steps --dry-run
	out_has "step 4 (new): would run (never run)"
	assert_db_unchanged "$before"
}

@test "a dry run of a new task plans the dependents of steps that would run, not blocked" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 dependent '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 base '{"file_exists": "a"}' >/dev/null
	before=$(db_snapshot)
	run_ts 0 task run 1 --dry-run
	out_has "step 2 (base): would run (never run)"
	out_has "step 1 (dependent): would run"
	out_lacks "blocked"
	# the plan lists steps in the order they would run
	[[ $(grep -o '^step [0-9]*' <<<"$output" | tr '\n' ' ') == "step 2 step 1 " ]] ||
		{ fail "dry-run order"; show_run; return 1; }
	assert_db_unchanged "$before"
	# and it was right: both run
	run_ts 0 task run 1
	out_has "2 ran (2 succeeded, 0 failed)"
}

@test "--dry-run does not take the run lock and works on a busy task" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	hold_lock 1
	run_ts 0 task run 1 --dry-run
	out_has "would run (never run)"
}

# ---- exit codes --------------------------------------------------------------

@test "exit codes: 0 all succeeded or fresh, 1 a step failed, 1 a step was blocked" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 ok '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	run_ts 0 task run 1
	run_ts 0 step run 1
	make_step 1 bad '{"file_exists": "b"}' >/dev/null
	run_ts 1 task run 1
	run_ts 1 step run 2
	out_has "Error processing step: step 2 did not succeed"
	touch "$PROJ/b"
	make_step_unchecked 1 blocked '{"file_exists": "a", "depends_on": [{"id": 99}]}' >/dev/null
	run_ts 1 task run 1
	out_has "blocked: depends on step 99, which does not exist"
	ts step edit 3 --set depends_on='[{"id": 2}]' >/dev/null
	rm "$PROJ/b"
	run_ts 1 task run 1
	out_has "blocked: dependency 2 is not successful (failure)"
	run_ts 2 task run
	run_ts 2 task run x1
	run_ts 2 step run 1 --bogus
	run_ts 2 run-steps extra
}

# ---- step runs / step log ----------------------------------------------------

@test "step runs lists executions newest first; --json parses; step log prints a run's output" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	make_step 1 never '{"file_exists": "a"}' >/dev/null
	run_ts 0 step run 1
	run_ts 0 step run 1 --force
	rm "$PROJ/a"
	run_ts 1 step run 1
	run_ts 0 step runs 1
	out_has "RUN"
	out_has "STATUS"
	[[ ${#lines[@]} -eq 4 ]] || { fail "expected a header and 3 rows"; show_run; return 1; }
	[[ ${lines[1]} == *failure* && ${lines[2]} == *success* && ${lines[3]} == *success* ]] ||
		{ fail "rows are not newest first"; show_run; return 1; }
	run_ts 0 step runs 1 --json
	assert_json
	assert_json_eq 'len(d)' 3
	assert_json_eq '[r["status"] for r in d]' '["failure", "success", "success"]'
	assert_json_eq '[r["step_id"] for r in d]' '[1, 1, 1]'
	assert_json_eq 'd[0]["id"] > d[1]["id"] > d[2]["id"]' true
	assert_json_eq 'sorted(d[0].keys())' '["detail", "duration_ms", "exit_code", "finished_at", "id", "started_at", "status", "step_id"]'
	[[ $(json_get 'd[0]["started_at"]') =~ ^\"$TS_RE\"$ ]] || { fail "started_at is not a timestamp"; show_run; return 1; }
	newest=$(json_get 'd[0]["id"]')
	oldest=$(json_get 'd[2]["id"]')
	# results.run_id names the newest run
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["run_id"]' "$newest"
	run_ts 0 step log 1
	run_ts 0 step log 1 --run "$oldest"
	run_ts 4 step log 1 --run 999
	err_has "step 1 has no run 999"
	# a step that never ran
	run_ts 0 step runs 2 --json
	assert_json_eq 'd' '[]'
	run_ts 4 step log 2
	err_has "step 2 has not run yet"
	# an unknown step
	run_ts 4 step runs 99
	run_ts 4 step log 99
}

# a fake docker on PATH: `build` and `exec` print a line, then hang until
# killed; `container inspect` names a running container c1
fake_docker() {
	mkdir -p "$BATS_TEST_TMPDIR/bin"
	cat >"$BATS_TEST_TMPDIR/bin/docker" <<-'EOF'
		#!/bin/sh
		case "$1" in
		container) echo '{"Id": "c1id", "Name": "/c1", "State": {"Running": true, "ExitCode": 0}, "Config": {"Labels": {}}}' ;;
		build | exec) echo "partial output of $1"; echo "$1 started" >"$FAKE_READY"; exec sleep 60 ;;
		*) exit 1 ;;
		esac
	EOF
	chmod +x "$BATS_TEST_TMPDIR/bin/docker"
}

# Ctrl-C (SIGINT) to `task-sync ARGS` once the fake docker has printed
interrupt_run() {
	export FAKE_READY="$BATS_TEST_TMPDIR/ready"
	rm -f "$FAKE_READY"
	PATH="$BATS_TEST_TMPDIR/bin:$PATH" "$TS_BIN" "$@" >"$BATS_TEST_TMPDIR/run.out" 2>&1 3>&- &
	local pid=$! rc=0
	for _ in $(seq 100); do
		[[ -e $FAKE_READY ]] && break
		sleep 0.1
	done
	[[ -e $FAKE_READY ]] || { kill -9 "$pid"; fail "the fake docker never started"; }
	sleep 0.2
	kill -INT "$pid"
	wait "$pid" || rc=$?
	[[ $rc -eq 130 ]] || { cat "$BATS_TEST_TMPDIR/run.out" >&2; fail "exit $rc, not 130"; }
}

@test "an interrupted step keeps the output captured before Ctrl-C in its run row" {
	proj_task >/dev/null
	echo "FROM scratch" >"$PROJ/Dockerfile"
	fake_docker
	make_step 1 build '{"docker_build": {"image_tag": "ts-fake:1"}}' >/dev/null
	make_step 1 shell '{"docker_shell": {"container_name": "c1", "command": "make test"}}' >/dev/null
	interrupt_run step run 1
	grep -q "error: interrupted: the running step was recorded as error" "$BATS_TEST_TMPDIR/run.out"
	run_ts 0 step runs 1 --json
	assert_json_eq '[r["status"] for r in d]' '["error"]'
	run=$(json_get 'd[0]["id"]')
	run_ts 0 step log 1 --run "$run"
	out_is "partial output of build"
	assert_result 1 error
	interrupt_run step run 2
	run_ts 0 step runs 2 --json
	run=$(json_get 'd[0]["id"]')
	run_ts 0 step log 2 --run "$run"
	out_has "partial output of exec"
	assert_result 2 error
}

# ---- file_exists -------------------------------------------------------------

@test "file_exists accepts a path, a list and {\"files\": {...}}; success records each file's mtime" {
	proj_task >/dev/null
	mkdir -p "$PROJ/sub"
	touch -d '2024-03-04 05:06:07 UTC' "$PROJ/a.txt" "$PROJ/sub/b.txt"
	make_step 1 single '{"file_exists": "a.txt"}' >/dev/null
	make_step 1 list '{"file_exists": ["a.txt", "sub/b.txt"]}' >/dev/null
	make_step 1 object '{"file_exists": {"files": {"a.txt": "x", "sub/b.txt": null}}}' >/dev/null
	make_step 1 dir '{"file_exists": "sub"}' >/dev/null
	settings_before=$(ts step list --json | python3 -c 'import json,sys; print(json.dumps([s["settings"] for s in json.load(sys.stdin)]))')
	run_ts 0 task run 1
	out_has "Processing step ID 1 (single)... success: 1 file present"
	out_has "Processing step ID 2 (list)... success: 2 files present"
	out_has "Processing step ID 3 (object)... success: 2 files present"
	out_has "Processing step ID 4 (dir)... success: 1 file present"
	run_ts 0 step info 2 --json
	assert_json_eq 'd["results"]["result"]' '"success"'
	assert_json_eq 'd["results"]["message"]' '"2 files present"'
	assert_json_eq 'd["results"]["files"]' '{"a.txt": "2024-03-04T05:06:07Z", "sub/b.txt": "2024-03-04T05:06:07Z"}'
	run_ts 0 step info 3 --json
	assert_json_eq 'd["results"]["files"]' '{"a.txt": "2024-03-04T05:06:07Z", "sub/b.txt": "2024-03-04T05:06:07Z"}'
	# the settings are not rewritten
	settings_after=$(ts step list --json | python3 -c 'import json,sys; print(json.dumps([s["settings"] for s in json.load(sys.stdin)]))')
	[[ $settings_after == "$settings_before" ]] || fail "settings changed: $settings_before -> $settings_after"
}

@test "file_exists failure lists every missing file, sorted" {
	proj_task >/dev/null
	touch "$PROJ/present.txt"
	make_step 1 many '{"file_exists": ["zeta.txt", "present.txt", "alpha.txt", "mid/dle.txt"]}' >/dev/null
	make_step 1 object '{"file_exists": {"files": {"b": 1, "a": 2, "present.txt": 3}}}' >/dev/null
	run_ts 1 task run 1
	out_has "Processing step ID 1 (many)... failure: file not found: alpha.txt; file not found: mid/dle.txt; file not found: zeta.txt"
	out_has "Processing step ID 2 (object)... failure: file not found: a; file not found: b"
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["result"]' '"failure"'
	assert_json_eq 'd["results"]["missing"]' '["alpha.txt", "mid/dle.txt", "zeta.txt"]'
	assert_json_eq 'd["results"]["message"]' '"file not found: alpha.txt; file not found: mid/dle.txt; file not found: zeta.txt"'
}

@test "file_exists: a task folder that is not there is named after the missing files" {
	make_task gone --local_path "$BATS_TEST_TMPDIR/no-such-folder" >/dev/null
	make_step 1 check '{"file_exists": ["a", "b"]}' >/dev/null
	run_ts 1 task run 1
	out_has "Processing step ID 1 (check)... failure: file not found: a; file not found: b (task folder '$BATS_TEST_TMPDIR/no-such-folder': No such file or directory)"
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["missing"]' '["a", "b"]'
	: >"$BATS_TEST_TMPDIR/a-file"
	make_task file --local_path "$BATS_TEST_TMPDIR/a-file" >/dev/null
	make_step 2 check '{"file_exists": "a"}' >/dev/null
	run_ts 1 task run 2
	out_has "Processing step ID 2 (check)... failure: file not found: a (task folder '$BATS_TEST_TMPDIR/a-file': not a directory)"
}

@test "file_exists honours absolute paths and resolves relative ones in the task folder" {
	proj_task >/dev/null
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
	touch "$BATS_TEST_TMPDIR/elsewhere/abs.txt" "$PROJ/rel.txt"
	# the working directory has rel.txt missing and abs.txt missing
	make_step 1 abs "{\"file_exists\": [\"$BATS_TEST_TMPDIR/elsewhere/abs.txt\", \"rel.txt\"]}" >/dev/null
	make_step 1 abs-missing "{\"file_exists\": \"$BATS_TEST_TMPDIR/elsewhere/nope.txt\"}" >/dev/null
	run_ts 1 task run 1
	out_has "Processing step ID 1 (abs)... success: 2 files present"
	out_has "Processing step ID 2 (abs-missing)... failure: file not found: $BATS_TEST_TMPDIR/elsewhere/nope.txt"
	# an absolute input is watched like a relative one
	run_ts 1 task run 1
	out_has "Processing step ID 1 (abs)... fresh"
	rewrite "$BATS_TEST_TMPDIR/elsewhere/abs.txt" changed 13
	run_ts 0 task run 1 --dry-run
	out_has "would run (input changed: $BATS_TEST_TMPDIR/elsewhere/abs.txt)"
}

@test "file_exists with invalid settings (stored before step create checked them) records a failure saying what is wrong" {
	proj_task >/dev/null
	make_step_unchecked 1 empty '{"file_exists": []}' >/dev/null
	make_step_unchecked 1 nofiles '{"file_exists": {"paths": ["a"]}}' >/dev/null
	make_step_unchecked 1 number '{"file_exists": [1]}' >/dev/null
	run_ts 1 task run 1
	out_has 'Processing step ID 1 (empty)... failure: file_exists: lists no paths; expected a path, a list of paths or {"files": {...}}'
	out_has 'Processing step ID 2 (nofiles)... failure: file_exists: expected a path, a list of paths or {"files": {...}} (the object has no "files" key)'
	out_has "Processing step ID 3 (number)... failure: file_exists[0]: expected a path"
}

# ---- the no-change check (steps.fresh_key) -----------------------------------

# the no-change key of step ID ("" when NULL)
fresh_key() {
	db_sql "SELECT COALESCE(fresh_key, '') FROM steps WHERE id = $1"
}

# two steps in $PROJ, the second depending on the first, both run once
two_fresh_steps() {
	proj_task >/dev/null
	echo a >"$PROJ/a"
	echo b >"$PROJ/b"
	make_step 1 one '{"file_exists": "a"}' >/dev/null
	make_step 1 two '{"file_exists": "b", "depends_on": [{"id": 1}]}' >/dev/null
	run_ts 0 run-steps
	out_has "2 ran (2 succeeded, 0 failed), 0 fresh, 0 blocked"
}

@test "a successful run records a no-change key; any edit clears it" {
	two_fresh_steps
	[[ -n $(fresh_key 1) && -n $(fresh_key 2) ]] || fail "no keys after a run"
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	run_ts 0 step edit 2 --set title=renamed
	[[ -z $(fresh_key 2) ]] || fail "step edit left the key"
	# a title is no input: still fresh, and the key is written again
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	[[ -n $(fresh_key 2) ]] || fail "the key was not written again"
	run_ts 0 step edit 2 --set file_exists='["b", "a"]'
	run_ts 0 run-steps
	out_has "1 ran (1 succeeded, 0 failed), 1 fresh, 0 blocked"
	assert_runs 1 1
	assert_runs 2 2
	# failed and blocked steps have none
	rm "$PROJ/a"
	run_ts 1 task run 1 --force
	[[ -z $(fresh_key 1) && -z $(fresh_key 2) ]] || fail "keys left on a failed and a blocked step"
}

@test "steps without keys (a database from before them) stay fresh and get their keys" {
	two_fresh_steps
	db_sql "UPDATE steps SET fresh_key = NULL, output_digest = NULL"
	before=$(db_snapshot)
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	assert_db_unchanged "$before"
	[[ -n $(fresh_key 1) && -n $(fresh_key 2) ]] || fail "keys not written"
	run_ts 0 task run 1
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	assert_runs 1 1
	assert_runs 2 1
}

@test "results another program changes clear the key: the step is decided again" {
	two_fresh_steps
	db_sql "UPDATE steps SET results = NULL WHERE id = 1"
	[[ -z $(fresh_key 1) ]] || fail "the key outlived the results"
	# step 1 runs again; its outputs are the same, so step 2 stays fresh
	run_ts 0 run-steps
	out_has "1 ran (1 succeeded, 0 failed), 1 fresh, 0 blocked"
	assert_runs 1 2
	assert_runs 2 1
	db_sql "UPDATE steps SET results = '{\"result\": \"failure\", \"message\": \"x\"}' WHERE id = 2"
	run_ts 0 task run 1
	out_has "Processing step ID 1 (one)... fresh"
	out_has "Processing step ID 2 (two)... success"
}

@test "a touched input stays fresh and its key follows the new times" {
	two_fresh_steps
	key=$(fresh_key 1)
	touch -d "@$(($(date +%s) + 7))" "$PROJ/a"
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	[[ $(fresh_key 1) != "$key" ]] || fail "the key kept the old times"
	[[ -n $(fresh_key 1) ]]
	rewrite "$PROJ/a" "A" 9
	run_ts 0 run-steps
	out_has "2 ran (2 succeeded, 0 failed), 0 fresh, 0 blocked"
}

@test "the same settings written differently are still fresh" {
	two_fresh_steps
	db_sql "UPDATE steps SET settings = '{ \"depends_on\" : [ {\"id\": 1} ], \"file_exists\" : \"b\" }' WHERE id = 2"
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 0 blocked"
	assert_runs 2 1
}

@test "a new task folder is checked: other content reruns" {
	two_fresh_steps
	mkdir -p "$BATS_TEST_TMPDIR/other"
	echo a >"$BATS_TEST_TMPDIR/other/a"
	echo "other b" >"$BATS_TEST_TMPDIR/other/b"
	ts task edit 1 --set local_path="$BATS_TEST_TMPDIR/other" >/dev/null
	run_ts 0 run-steps --verbose
	out_has "Processing step ID 1 (one)... fresh"
	out_has "Processing step ID 2 (two)... success"
	ts task edit 1 --set local_path="$PROJ" >/dev/null
	run_ts 0 run-steps
	out_has "1 ran (1 succeeded, 0 failed), 1 fresh, 0 blocked"
}

@test "a dependency in another task that ran makes its dependents run" {
	two_fresh_steps
	make_task other --local_path "$PROJ" >/dev/null
	make_step 2 three '{"file_exists": "b", "depends_on": [{"id": 2}]}' >/dev/null
	run_ts 0 run-steps
	out_has "1 ran (1 succeeded, 0 failed), 2 fresh, 0 blocked"
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 3 fresh, 0 blocked"
	rewrite "$PROJ/b" "B" 9
	run_ts 0 run-steps
	out_has "2 ran (2 succeeded, 0 failed), 1 fresh, 0 blocked"
	assert_runs 3 2
	run_ts 0 task run 2
	out_has "Processing step ID 3 (three)... fresh"
	# the other task's step changed outputs without this run
	rewrite "$PROJ/b" "BB" 11
	run_ts 0 task run 1
	run_ts 0 task run 2
	out_has "Processing step ID 3 (three)... success"
}

@test "fresh steps print in dependency order, from the no-change check too" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step_unchecked 1 first '{"file_exists": "a", "depends_on": [{"id": 3}]}' >/dev/null
	make_step 1 second '{"file_exists": "a"}' >/dev/null
	make_step 1 third '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	run_ts 0 task run 1
	assert_order "2 3 1"
	run_ts 0 task run 1
	out_has "0 ran (0 succeeded, 0 failed), 3 fresh, 0 blocked"
	assert_order "2 3 1"
	run_ts 0 run-steps --verbose
	assert_order "2 3 1"
	run_ts 0 run-steps
	assert_order ""
}

@test "a task whose steps are all fresh is not locked: another run holding it does not make it busy" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	hold_lock 1
	run_ts 0 task run 1
	out_has "Processing step ID 1 (check)... fresh"
	run_ts 0 run-steps
	out_has "0 ran (0 succeeded, 0 failed), 1 fresh, 0 blocked"
	# with something to do, the lock counts
	rewrite "$PROJ/a" changed 9
	run_ts 1 run-steps
	err_has "task 1 is being run by another task-sync process"
	kill_holder 1
}

# ---- the run lock ------------------------------------------------------------

# the per-task lock key: (0x7453 << 40) | task ID
lock_key() {
	echo $(((0x7453 << 40) | $1))
}

# hold_lock TASK [SECONDS]: take task TASK's run lock from another process
# (sets HOLDER_PID), for SECONDS (default 60), and return once it is held
hold_lock() {
	local key secs=${2:-60} i
	key=$(lock_key "$1")
	case $TS_BACKEND in
	sqlite)
		mkdir -p "$(dirname "$TS_SQLITE_DB")"
		python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(sys.argv[2]), 0)
open(sys.argv[4], "w").write("held\n")
time.sleep(float(sys.argv[3]))
' "$TS_SQLITE_DB.lock" $((key & 0x7fffffffffff)) "$secs" "$BATS_TEST_TMPDIR/held" 3>&- &
		HOLDER_PID=$!
		for ((i = 0; i < 100; i++)); do
			[[ -s $BATS_TEST_TMPDIR/held ]] && return 0
			sleep 0.1
		done
		;;
	postgres)
		# client_connection_check_interval: the backend notices a killed psql
		psql -q -X -v ON_ERROR_STOP=1 "$TASK_SYNC_PG_URL" \
			-c "SET client_connection_check_interval = '100ms'" \
			-c "SELECT pg_advisory_lock($key)" \
			-c "SELECT pg_sleep($secs)" >/dev/null 3>&- &
		HOLDER_PID=$!
		for ((i = 0; i < 100; i++)); do
			[[ $(pg_lock_holders "$1") == 1 ]] && return 0
			sleep 0.1
		done
		;;
	esac
	fail "could not take the lock of task $1"
}

# the sessions holding task ID's advisory lock (PostgreSQL)
pg_lock_holders() {
	local key
	key=$(lock_key "$1")
	db_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = $((key >> 32)) AND objid = $((key & 0xffffffff)) AND objsubid = 1"
}

# kill -9 the holder; on PostgreSQL wait for its session to end
kill_holder() {
	local i
	kill -9 "$HOLDER_PID"
	wait "$HOLDER_PID" 2>/dev/null || true
	HOLDER_PID=
	if [[ $TS_BACKEND == postgres ]]; then
		for ((i = 0; i < 100; i++)); do
			[[ $(pg_lock_holders "$1") == 0 ]] && return 0
			sleep 0.1
		done
		fail "the killed holder's session still holds the lock"
	fi
}

@test "run lock: a task another process runs is refused with exit 1; no stale lock after a kill -9" {
	proj_task >/dev/null
	proj_task other >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	make_step 2 other '{"file_exists": "a"}' >/dev/null
	ts task list >/dev/null
	hold_lock 1
	before=$(db_snapshot)
	run_ts 1 task run 1
	err_has "task 1 is being run by another task-sync process"
	out_lacks "Processing step"
	run_ts 1 step run 1
	err_has "task 1 is being run by another task-sync process"
	assert_db_unchanged "$before"
	# --wait waits, then gives up
	t0=$(date +%s%N)
	run_ts 1 task run 1 --wait 1
	t1=$(date +%s%N)
	err_has "task 1 is being run by another task-sync process"
	(((t1 - t0) >= 900000000)) || fail "--wait 1 returned after $(((t1 - t0) / 1000000)) ms"
	assert_db_unchanged "$before"
	# run-steps runs the other task and reports the busy one
	run_ts 1 run-steps
	err_has "task 1 is being run by another task-sync process"
	assert_order "2"
	assert_result 1 null
	assert_result 2 success
	# the holder dies without unlocking: the lock goes with it
	kill_holder 1
	run_ts 0 task run 1
	out_has "Processing step ID 1 (check)... success"
	run_ts 0 step run 1 --force
}

@test "run lock: --wait succeeds when the other run finishes in time" {
	proj_task >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	ts task list >/dev/null
	hold_lock 1 1
	run_ts 0 task run 1 --wait 30
	out_has "Processing step ID 1 (check)... success"
	wait "$HOLDER_PID" 2>/dev/null || true
	HOLDER_PID=
}

@test "run lock: the lock is per task, and released after every run" {
	proj_task >/dev/null
	proj_task second >/dev/null
	touch "$PROJ/a"
	make_step 1 check '{"file_exists": "a"}' >/dev/null
	make_step 2 other '{"file_exists": "a"}' >/dev/null
	ts task list >/dev/null
	hold_lock 2
	run_ts 0 task run 1
	run_ts 0 step run 1 --force
	run_ts 1 task run 2
	kill_holder 2
	# nothing is left locked by the runs above
	run_ts 0 task run 1 --force
	run_ts 0 task run 2
	run_ts 0 run-steps
	# another process can take both locks now
	hold_lock 1
	kill_holder 1
	hold_lock 2
	kill_holder 2
}
