#!/usr/bin/env bats
# A rubric_shell candidate's output is stored once, in its step_runs row
# (results carry its run_id); migration 15 moves older databases; gc --runs
# keeps the history bounded without losing a run the results use.
# Rows are put in through the database, as rubric_shell writes them (no Docker).

load helpers

setup() {
	ts_setup
	make_task demo >/dev/null
	make_step 1 "Rubric 1: a" '{"rubric_shell": {"command": "true"}}' >/dev/null
}

# add_run STEP STATUS OUTPUT CANDIDATE: one step_runs row, as record_candidate writes it
add_run() {
	db_sql "INSERT INTO step_runs (step_id, status, exit_code, duration_ms, output, detail)
		VALUES ($1, '$2', 0, 5, '${3//\'/\'\'}', '{\"candidate\": \"$4\"}')"
}

set_results() {
	db_sql "UPDATE steps SET results = '${2//\'/\'\'}' WHERE id = $1"
}

runs_of() {
	db_sql "SELECT id FROM step_runs WHERE step_id = $1 ORDER BY id" | tr '\n' ' '
}

@test "migration 15 keeps each output once, in its run, and step info still shows it" {
	add_run 1 PASS $'out A\n' solution1.patch
	set_results 1 '{"solution1.patch": {"status": "PASS", "exit_code": 0, "duration_ms": 5, "reason": null, "output": "out A\n", "container": "c1"},
		"golden": {"status": "FAIL", "exit_code": 1, "duration_ms": 7, "reason": "x", "output": "out G", "container": "c2"},
		"original": "a string", "result": "success", "run_id": 1}'
	run_ts 0 migrate force 13
	run_ts 0 migrate up
	# solution1's output was already in run 1; golden's gets a run
	[[ $(runs_of 1) == "1 2 " ]]
	[[ $(db_sql "SELECT output FROM step_runs WHERE id = 2") == "out G" ]]
	run_ts 0 step info 1 --json
	assert_json_eq '{k: v for k, v in d["results"].items()}' \
		'{"solution1.patch": {"status": "PASS", "exit_code": 0, "duration_ms": 5, "reason": null, "output": "out A\n", "container": "c1", "run_id": 1},
		  "golden": {"status": "FAIL", "exit_code": 1, "duration_ms": 7, "reason": "x", "output": "out G", "container": "c2", "run_id": 2},
		  "original": "a string", "result": "success", "run_id": 1}'
	# stored once: the results column holds no output
	[[ $(db_sql "SELECT results FROM steps WHERE id = 1") != *out* ]]
	run_ts 0 step log 1 --run 2
	out_is "out G"

	# down past 15 (17 and 16 first) puts the outputs back; up again
	# reuses the runs
	run_ts 0 migrate down --yes --step 3
	[[ $(db_sql "SELECT results FROM steps WHERE id = 1") == *'"out G"'* ]]
	run_ts 0 migrate up
	[[ $(runs_of 1) == "1 2 " ]]
	[[ $(db_sql "SELECT results FROM steps WHERE id = 1") != *out* ]]
}

@test "task regrade decides again from the output kept in the run" {
	local t=$'\n#__TS_0123456789abcdef0123456789abcdef__# '
	add_run 1 ERROR "${t}reset-ok${t}apply-ok"$'\ndone: CUSTOM_OK\n'"${t}exit 0 42${t}swept 0"$'\n' solution1.patch
	set_results 1 '{"solution1.patch": {"status": "ERROR", "exit_code": 0, "duration_ms": 42,
		"reason": "no verdict: the command printed no marker (exit code 0)", "container": "c", "run_id": 1}}'
	write_conf PASS_MARKER=CUSTOM_OK
	run_ts 0 task regrade 1
	out_is "step 1 solution1.patch: ERROR -> PASS
1 changed: 1 up, 0 down"
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["solution1.patch"]["status"]' '"PASS"'
	assert_json_eq 'd["results"]["solution1.patch"]["run_id"]' '1'
	[[ $(db_sql "SELECT results FROM steps WHERE id = 1") != *CUSTOM_OK* ]]
}

@test "gc --runs keeps the newest N runs of each step and every run the results use" {
	local i values=
	for i in $(seq 1 30); do
		values+="${values:+, }(1, 'PASS', 0, 5, 'output $i', '{\"candidate\": \"solution1.patch\"}')"
	done
	db_sql "INSERT INTO step_runs (step_id, status, exit_code, duration_ms, output, detail) VALUES $values"
	make_step 1 "Rubric 2: b" '{"rubric_shell": {"command": "true"}}' >/dev/null
	add_run 2 PASS "other step" golden
	# run 3 holds a candidate's output, run 5 is the step's own run
	set_results 1 '{"solution1.patch": {"status": "PASS", "exit_code": 0, "duration_ms": 5, "reason": null, "container": "c", "run_id": 3},
		"result": "success", "run_id": 5}'
	before=$(runs_of 1)

	run_ts 0 gc --runs 2 --dry-run
	out_is "would remove 26 runs of step 1, task 1
would remove 26 runs of 1 step; each keeps its newest 2 and those its results use"
	[[ $(runs_of 1) == "$before" ]]

	run_ts 0 gc --runs
	out_is "removed 8 runs of step 1, task 1
removed 8 runs of 1 step; each keeps its newest 20 and those its results use"
	[[ $(runs_of 1) == "3 5 $(seq -s ' ' 11 30) " ]]
	[[ $(runs_of 2) == "31 " ]]
	run_ts 0 gc --runs
	out_is "nothing to remove: no step has more than 20 runs the results do not use"

	run_ts 0 gc --runs=1 --task 1 --json
	assert_json_eq 'd' '[{"step": 1, "task": 1, "runs": 19, "removed": true}]'
	[[ $(runs_of 1) == "3 5 30 " ]]
	# what the report, step info and step log read is still there
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["solution1.patch"]["output"]' '"output 3"'
	run_ts 0 step log 1 --run 5
	out_is "output 5"
	run_ts 0 step log 1
	out_is "output 30"
	run_ts 0 task report 1
	run_ts 2 gc --runs 0
	err_has "invalid --runs '0': expected a positive integer"
}

@test "gc --runs leaves a step whose results cannot be read alone" {
	local i
	for i in 1 2 3; do add_run 1 PASS "o$i" golden; done
	db_sql "UPDATE steps SET results = '{\"x\": $(python3 -c 'print("[" * 2049 + "]" * 2049)')}' WHERE id = 1"
	run_ts 3 gc --runs 1
	out_is "nothing to remove: no step has more than 1 run the results do not use"
	err_is "error: step 1: its stored results cannot be read (nested deeper than 2048 levels); its runs are kept"
	[[ $(runs_of 1) == "1 2 3 " ]]
}
