#!/usr/bin/env bats
# Issue 10, read literally: "`step runs` lists a rubric step's runs without
# saying which candidate each row is: add candidate (and container) columns;
# `step log ID --candidate NAME` prints that candidate's newest output; the
# harness's internal trailer lines (`#__TS_<nonce>__# ...`) are not shown raw:
# print them as readable phase lines (reset ok, patch applied, exit 0 after
# 71 ms, nothing left running) or not at all", and "`1 criteria` -> `1 criterion`".
# Runs are put in through the database, as rubric_shell's record_candidate
# writes them (no Docker); tests/docker/step_log.bats grades for real.

load helpers

N=0123456789abcdef0123456789abcdef
T=$'\n#__TS_'$N'__# '

setup() {
	ts_setup
	make_task demo >/dev/null
	make_step 1 "Rubric 1: a" '{"rubric_shell": {"command": "true"}}' >/dev/null
	make_step 1 files '{"file_exists": "a"}' >/dev/null
}

# add_run STEP STATUS OUTPUT CANDIDATE CONTAINER: one step_runs row
add_run() {
	db_sql "INSERT INTO step_runs (step_id, status, exit_code, duration_ms, output, detail)
		VALUES ($1, '$2', 0, 71, '${3//\'/\'\'}', '{\"candidate\": \"$4\", \"container\": \"$5\"}')"
}

# item OUTPUT: OUTPUT between the trailers of one whole grading item
item() {
	printf '%s' "${T}reset-ok${T}apply-ok"$'\n'"$1${T}exit 0 71${T}swept 0"$'\n'
}

@test "step runs of a rubric step says which candidate and container each row is, in columns that fit" {
	add_run 1 PASS "$(item 'one #__PASS__#')" solution1.patch task-sync-demo-solution1-0123456789ab
	add_run 1 FAIL "x" golden c2
	run_ts 0 step runs 1
	[[ ${#lines[@]} -eq 3 ]] || { show_run; false; }
	[[ ${lines[0]} =~ ^RUN\ +STARTED\ +CANDIDATE\ +STATUS\ +EXIT\ +DURATION\ +CONTAINER$ ]] || { show_run; false; }
	[[ ${lines[1]} =~ ^2\ +$TS_RE\ {3,}golden\ {12}FAIL\ {5}0\ {6}71\ ms\ {6}c2$ ]] || { show_run; false; }
	[[ ${lines[2]} =~ ^1\ +$TS_RE\ {3,}solution1.patch\ {3}PASS\ {5}0\ {6}71\ ms\ {6}task-sync-demo-solution1-0123456789ab$ ]] ||
		{ show_run; false; }
	# every value starts under its label
	local col
	for col in CANDIDATE STATUS CONTAINER; do
		local head=${lines[0]%%"$col"*}
		[[ ${lines[1]:${#head}:1} != " " && ${lines[1]:$((${#head} - 1)):1} == " " ]] ||
			{ show_run; fail "column $col is not aligned"; }
	done
	run_ts 0 step runs 1 --json
	assert_json_eq '[r["detail"]["candidate"] for r in d]' '["golden", "solution1.patch"]'
}

@test "step runs of another step keeps its five columns" {
	db_sql "INSERT INTO step_runs (step_id, status, exit_code, duration_ms, output) VALUES (2, 'success', -1, 3, 'ok')"
	run_ts 0 step runs 2
	[[ ${lines[0]} =~ ^RUN\ +STARTED\ +STATUS\ +EXIT\ +DURATION$ ]] || { show_run; false; }
	[[ ${lines[1]} =~ ^1\ {5}$TS_RE\ {3,}success\ {3}-\ {6}3\ ms$ ]] || { show_run; false; }
}

@test "step log ID --candidate NAME prints that candidate's newest output, with phase lines for the trailers" {
	add_run 1 FAIL "$(item 'old #__FAIL__#')" solution1.patch c1
	add_run 1 PASS "$(item 'golden #__PASS__#')" golden c0
	add_run 1 PASS "$(item 'new #__PASS__#')" solution1.patch c1
	run_ts 0 step log 1 --candidate solution1
	out_is "-- reset ok
-- patch applied
new #__PASS__#
-- exit 0 after 71 ms
-- nothing left running"
	run_ts 0 step log 1 --candidate solution1.patch
	out_has "new #__PASS__#"
	run_ts 0 step log 1 --candidate golden
	out_has "golden #__PASS__#"
	# the newest run of the step, whichever candidate, reads the same way
	run_ts 0 step log 1
	out_lacks "#__TS_"
	out_has "-- exit 0 after 71 ms"
	run_ts 0 step log 1 --run 1
	out_has "old #__FAIL__#"
}

@test "step log --raw prints the stored bytes unchanged" {
	local out
	out=$(item 'raw #__PASS__#')
	add_run 1 PASS "$out" solution2.patch c2
	[[ $(ts step log 1 --raw | od -c) == "$(printf '%s' "$out" | od -c)" ]] || fail "--raw changed the bytes"
	[[ $(ts step log 1 --candidate solution2 --raw | od -c) == "$(printf '%s' "$out" | od -c)" ]] ||
		fail "--candidate --raw changed the bytes"
	# output without trailers is printed as it is
	add_run 1 PASS $'plain\n\n#__TS_not a trailer\n' original c0
	run_ts 0 step log 1 --candidate original
	out_is $'plain\n\n#__TS_not a trailer'
}

@test "step log --candidate: exit 4 with one error line when the candidate has no output, exit 2 for an unknown name" {
	add_run 1 PASS "$(item 'x')" solution1.patch c1
	run_ts 4 step log 1 --candidate solution2
	err_is "error: step 1 has no output for candidate 'solution2' yet"
	[[ -z $output ]] || { show_run; false; }
	run_ts 4 step log 1 --candidate original
	err_is "error: step 1 has no output for candidate 'original' yet"
	# a candidate of the step's own assign_containers is known
	db_sql "UPDATE steps SET settings = '{\"rubric_shell\": {\"command\": \"true\", \"assign_containers\": {\"patches/extra.diff\": \"c9\"}}}' WHERE id = 1"
	run_ts 4 step log 1 --candidate patches/extra.diff
	run_ts 2 step log 1 --candidate solutoin1
	err_has "error: step 1 has no candidate 'solutoin1'"
	# the other keys of a rubric step's results name no candidate
	db_sql "UPDATE steps SET results = '{\"result\": \"success\", \"message\": \"graded\", \"golden\": {\"status\": \"PASS\"}}' WHERE id = 1"
	run_ts 2 step log 1 --candidate message
	run_ts 4 step log 1 --candidate golden.patch
	run_ts 2 step log 1 --candidate solution0
	run_ts 2 step log 1 --candidate gold
	run_ts 2 step log 1 --run 1 --candidate solution1
	err_has "error: --run and --candidate cannot be used together"
	run_ts 4 step log 99 --candidate solution1
	# a step that never ran at all
	run_ts 4 step log 2 --candidate golden
	err_is "error: step 2 has no output for candidate 'golden' yet"
}

@test "step info shows each candidate's output with phase lines; --json keeps the stored text" {
	add_run 1 PASS "$(item 'info #__PASS__#')" solution1.patch c1
	db_sql "UPDATE steps SET results = '{\"solution1.patch\": {\"status\": \"PASS\", \"run_id\": 1}, \"result\": \"success\"}' WHERE id = 1"
	run_ts 0 step info 1
	out_has '"output": "-- reset ok\n-- patch applied\ninfo #__PASS__#\n-- exit 0 after 71 ms\n-- nothing left running\n"'
	out_lacks "#__TS_"
	run_ts 0 step info 1 --json
	out_has '"output": "\n#__TS_'"$N"'__# reset-ok\n#__TS_'"$N"'__# apply-ok\ninfo #__PASS__#'
	out_lacks "-- reset ok"
}

@test "a rubric of one criterion says '1 criterion', not '1 criteria'" {
	local lp=$BATS_TEST_TMPDIR/lp
	mkdir -p "$lp"
	echo '[{"rubricItemId": "a", "criterion": "crit a", "score": 1, "forms": {"f": {"criterion_test_command": "echo a"}}}]' >"$lp/rubrics.json"
	make_task one --local_path "$lp" >/dev/null
	make_step 2 import '{"rubrics_import": {"json_file": "rubrics.json"}}' >/dev/null
	make_step 2 set '{"rubric_set": {"file": "rubrics.json"}}' >/dev/null
	make_step 2 dyn '{"dynamic_rubric": {"rubrics": ["rubrics.json"], "assign_containers": {"solution1.patch": "no-such-c1"}}}' >/dev/null
	run_ts 0 step run 3
	out_has "success: 1 criterion imported from rubrics.json"
	run_ts 0 step run 4
	out_has "success: 1 criterion from rubrics.json: 1 created, 0 updated, 0 deleted, 0 kept"
	run_ts 0 step run 5
	out_has "success: 1 criterion: 1 created, 0 updated, 0 deleted, 0 kept"
	out_lacks "criteria"
}
