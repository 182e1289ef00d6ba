#!/usr/bin/env bats
# Dependencies at run time: a dependency that no longer exists blocks only
# its step and that step's dependants, and every independent step still runs
# (issue 10: "when a dependency disappears later, block only that step and its
# dependants, and run the rest"). The seed's "depends_on": [{"id": 102}]
# pasted as it is reads this way. Such steps are written straight into the
# database (make_step_unchecked): step create refuses them. Also: a step whose
# stored settings cannot be read is one error line, not two.

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

setup() {
	ts_setup
	PROJ="$BATS_TEST_TMPDIR/proj"
	mkdir -p "$PROJ"
	touch "$PROJ/a"
	make_task demo --local_path "$PROJ" >/dev/null
}

# the result of step ID (results.result, or null)
step_result() {
	local out
	out=$(ts step info "$1" --json) || return 1
	json_get 'd["results"]["result"] if d["results"] else None' "$out" | tr -d '"'
}

assert_result() {
	local got
	got=$(step_result "$1")
	[[ $got == "$2" ]] || { fail "step $1: expected result '$2', got '$got'"; return 1; }
}

# the seed's shape: a step that depends on step 102, which this database
# does not have, a dependant of it, and an independent step
seed_dangling() {
	make_step 1 independent '{"file_exists": "a"}' >/dev/null
	make_step_unchecked 1 dangling '{"file_exists": {"files": {"a": true}, "depends_on": [{"id": 102}]}}' >/dev/null
	make_step 1 dependant '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 also-independent '{"file_exists": "a"}' >/dev/null
}

@test "task run: a dependency that does not exist blocks only that step and its dependants; the rest runs; exit 1" {
	seed_dangling
	run_ts 1 task run 1
	out_has "Processing step ID 1 (independent)... success: 1 file present"
	out_has "Processing step ID 2 (dangling)... blocked: depends on step 102, which does not exist"
	out_has "Processing step ID 3 (dependant)... blocked: dependency 2 is not successful (blocked)"
	out_has "Processing step ID 4 (also-independent)... success: 1 file present"
	out_has "2 ran (2 succeeded, 0 failed), 0 fresh, 2 blocked"
	err_is ""
	assert_result 1 success
	assert_result 2 blocked
	assert_result 3 blocked
	assert_result 4 success
	# the next run: the same, the independent steps fresh
	run_ts 1 task run 1
	out_has "Processing step ID 2 (dangling)... blocked: depends on step 102, which does not exist"
	out_has "0 ran (0 succeeded, 0 failed), 2 fresh, 2 blocked"
	run_ts 0 task run 1 --dry-run
	out_has "step 2 (dangling): blocked (depends on step 102, which does not exist)"
	out_has "step 3 (dependant): blocked (dependency 2 is not successful (blocked))"
}

@test "run-steps: a dependency that does not exist blocks only its step and dependants, the other tasks run; exit 1" {
	seed_dangling
	make_task other --local_path "$PROJ" >/dev/null
	make_step 2 other-task '{"file_exists": "a"}' >/dev/null
	run_ts 1 run-steps
	out_has "Processing step ID 2 (dangling)... blocked: depends on step 102, which does not exist"
	out_has "Processing step ID 3 (dependant)... blocked: dependency 2 is not successful (blocked)"
	out_has "3 ran (3 succeeded, 0 failed), 0 fresh, 2 blocked"
	out_lacks "stopped by an error"
	err_is ""
	assert_result 1 success
	assert_result 4 success
	assert_result 5 success
}

@test "a dependency deleted after create: task run blocks its dependants only" {
	make_step 1 first '{"file_exists": "a"}' >/dev/null
	make_step 1 second '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	make_step 1 third '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	make_step 1 fourth '{"file_exists": "a"}' >/dev/null
	run_ts 0 task run 1
	run_ts 0 step delete 1
	run_ts 1 task run 1
	out_has "Processing step ID 2 (second)... blocked: depends on step 1, which does not exist"
	out_has "Processing step ID 3 (third)... blocked: dependency 2 is not successful (blocked)"
	out_has "Processing step ID 4 (fourth)... fresh"
	# a dependency in another task that is deleted: the same
	make_task other --local_path "$PROJ" >/dev/null
	make_step 2 elsewhere '{"file_exists": "a"}' >/dev/null
	make_step 1 cross '{"file_exists": "a", "depends_on": [{"id": 5}]}' >/dev/null
	run_ts 0 step run 5
	run_ts 0 step run 6
	run_ts 0 task delete 2
	run_ts 1 task run 1
	out_has "Processing step ID 6 (cross)... blocked: depends on step 5, which does not exist"
	out_has "Processing step ID 4 (fourth)... fresh"
}

@test "step run of a step whose dependency does not exist: one error line, exit 1, nothing written" {
	seed_dangling
	before=$(db_snapshot)
	run_ts 1 step run 2
	err_is "error: step 2 depends on step 102, which does not exist"
	out_is "Running step ID 2..."
	run_ts 1 step run 2 --force
	err_is "error: step 2 depends on step 102, which does not exist"
	assert_db_unchanged "$before"
	# its dependant is blocked by it, as by any dependency not successful
	run_ts 1 step run 3
	out_has "blocked: dependency 2 is not successful (not run)"
}

@test "a cycle is still an error before anything runs" {
	make_step 1 fine '{"file_exists": "a"}' >/dev/null
	make_step_unchecked 1 c1 '{"file_exists": "a", "depends_on": [{"id": 3}]}' >/dev/null
	make_step_unchecked 1 c2 '{"file_exists": "a", "depends_on": [{"id": 2}]}' >/dev/null
	before=$(db_snapshot)
	run_ts 3 task run 1
	err_is "error: dependency cycle between steps: 3 -> 2 -> 3 (each waits for the next)"
	assert_db_unchanged "$before"
}

# ---- a step whose stored settings cannot be read ----------------------------

# unreadable ID: settings nested deeper than task-sync's JSON parser goes
unreadable() {
	local deep
	deep=$(python3 -c 'print("{\"file_exists\": " + "[" * 3000 + "]" * 3000 + "}")')
	db_sql "UPDATE steps SET settings = '$deep' WHERE id = $1"
}

@test "run-steps and task run print one error line per step whose settings cannot be read, and run the rest" {
	make_step 1 broken '{"file_exists": "a"}' >/dev/null
	make_step 1 fine '{"file_exists": "a"}' >/dev/null
	make_step 1 after-broken '{"file_exists": "a", "depends_on": [{"id": 1}]}' >/dev/null
	unreadable 1
	line="error: step 1: its stored settings cannot be read (nested deeper than 2048 levels); nothing changed, the step was not run"
	run_ts 3 run-steps
	err_is "$line"
	out_has "Processing step ID 1 (broken)... not run: it cannot be read (see the error above)"
	out_has "Processing step ID 2 (fine)... success"
	out_has "Processing step ID 3 (after-broken)... blocked: dependency 1 cannot be read"
	out_has "1 ran (1 succeeded, 0 failed), 0 fresh, 1 blocked, 1 not run (unreadable)"
	run_ts 3 task run 1
	err_is "$line"
	out_has "0 ran (0 succeeded, 0 failed), 1 fresh, 1 blocked, 1 not run (unreadable)"
	run_ts 3 step run 1
	err_is "$line"
	# a dry run too: a row that cannot be read is exit 3 for every command
	run_ts 3 task run 1 --dry-run
	err_is "$line"
	out_has "step 1 (broken): not run (it cannot be read)"
	# the stored text is left as it was
	[[ $(db_sql "SELECT length(CAST(settings AS TEXT)) FROM steps WHERE id = 1") -gt 6000 ]]
}
