#!/usr/bin/env bats
# task report ID [--json], task regrade ID [--dry-run]
# Results are put in through the database, as rubric_shell would write them
# (no Docker here).

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

# set_results STEP_ID JSON: the step's results column
set_results() {
	db_sql "UPDATE steps SET results = '${2//\'/\'\'}' WHERE id = $1"
}

# item STATUS EXIT_CODE REASON OUTPUT: one candidate's entry as rubric_shell
# stores it, OUTPUT being the command's output inside the harness trailers;
# REASON "" is null
item() {
	python3 - "$@" <<'EOF'
import json, sys
st, ec, reason, out = sys.argv[1:5]
t = lambda s: "\n#__TS_0123456789abcdef0123456789abcdef__# %s\n" % s
text = t("reset-ok") + t("apply-ok") + out + t("exit %s 42" % ec) + t("swept 0")
print(json.dumps({"status": st, "exit_code": int(ec), "duration_ms": 42,
                  "reason": reason or None, "output": text, "container": "c"}))
EOF
}

# a rubric_shell step under step 1: shell_step TITLE CRITERION SCORE REQUIRED
shell_step() {
	make_step 1 "$1" '{"rubric_shell": {"command": "true", "criterion_id": "'"$2"'",
		"score": '"$3"', "required": '"$4"', "depends_on": [{"id": 1}]}}' >/dev/null
}

# task 1 with a rubric_set (1), three criteria under it and a check (5)
make_graded_task() {
	make_task demo >/dev/null
	make_step 1 "Rubric set" '{"rubric_set": {"file": "rubrics.json"}}' >/dev/null
	shell_step "Rubric 2: crit-b" crit-b 2.5 true    # 2
	shell_step "Rubric 1: crit-a" crit-a 1 false     # 3
	shell_step "Rubric 10: crit-c" crit-c 0.25 true  # 4
	make_step 1 "Check files" '{"file_exists": "Dockerfile"}' >/dev/null
	# the original's strings, read by their markers; golden.patch stands in for golden
	set_results 2 '{"solution1.patch": "Pass\nOutput: ok #__PASS__#",
		"solution2.patch": "Fail\nOutput: #__FAIL__#",
		"solution3.patch": "Error: exit status 1\nOutput:\n",
		"original": "Success\nOutput: #__PASS__#",
		"golden.patch": "Fail\nOutput: #__FAIL__#"}'
	set_results 3 '{"solution1.patch": {"status": "PASS"}, "solution2.patch": {"status": "FAIL"},
		"solution3.patch": {"status": "TIMEOUT"},
		"solution4.patch": {"status": "ERROR", "reason": "patch solution4.patch does not apply"},
		"golden": {"status": "PASS"}, "result": "success", "message": "graded 5"}'
}

@test "task report draws the grid in the step tree, one icon per candidate; a result with no record of what decided it is stale, the original's strings are not" {
	make_graded_task
	run_ts 0 task report 1
	out_is "1-demo
├── 1 Rubric set
│   │   1  2  3  4  O  G
│   ├── ✅*❌*⌛*💀*❔ ✅* 3 Rubric 1: crit-a
│   ├── ✅ ❌ ❔ ❔ ✅ ❌  2 Rubric 2: crit-b
│   ╰── ❔ ❔ ❔ ❔ ❔ ❔  4 Rubric 10: crit-c
╰── 5 Check files

* stale: graded under other conditions than today's (5 cells; --json says why); task run grades them again

Candidate         Passed Not run       Score  Required failed
solution1.patch      2/3       1    3.5/3.75  -
solution2.patch      0/3       1      0/3.75  2
solution3.patch      0/3       2      0/3.75  -
solution4.patch      0/3       2      0/3.75  -
original             1/3       2    2.5/3.75  -
golden               1/3       1      1/3.75  2

Task check
  fail on golden:   2 (1 not graded on golden)
  pass on original: 2 (2 not graded on original)

Criterion health
  2 Rubric 2: crit-b: golden does not pass: FAIL (0 of 1 attempt passed); the original passes: the criterion needs no change
  3 Rubric 1: crit-a: original not graded (task run 1 --original)
  4 Rubric 10: crit-c: golden and the original not graded (task run 1 --golden)
not valid: 3 of 3 criteria flagged"
}

@test "task report: the header comes before the first rubric row of each level; IDs are right-aligned" {
	make_task t >/dev/null
	make_step 1 "Setup" '{"file_exists": "a"}' >/dev/null                       # 1
	for i in 2 3 4 5 6 7 8; do
		make_step 1 "pad $i" '{"file_exists": {"files": {"a": true}, "depends_on": [{"id": 1}]}}' >/dev/null
	done
	make_step 1 "top" '{"rubric_shell": {"command": "true"}}' >/dev/null        # 9
	shell_step "deep" c 1 false                                                 # 10
	run_ts 0 task report 1
	out_is "1-t
├── 1 Setup
│   ├──  2 pad 2
│   ├──  3 pad 3
│   ├──  4 pad 4
│   ├──  5 pad 5
│   ├──  6 pad 6
│   ├──  7 pad 7
│   ├──  8 pad 8
│   │   1  2  3  4  O  G
│   ╰── ❔ ❔ ❔ ❔ ❔ ❔ 10 deep
│   1  2  3  4  O  G
╰── ❔ ❔ ❔ ❔ ❔ ❔ 9 top

Candidate         Passed Not run       Score  Required failed
solution1.patch      0/2       2         0/1  -
solution2.patch      0/2       2         0/1  -
solution3.patch      0/2       2         0/1  -
solution4.patch      0/2       2         0/1  -
original             0/2       2         0/1  -
golden               0/2       2         0/1  -

Task check
  fail on golden:   none (2 not graded on golden)
  pass on original: none (2 not graded on original)

Criterion health
  9 top: golden and the original not graded (task run 1 --golden)
  10 deep: golden and the original not graded (task run 1 --golden)
not valid: 2 of 2 criteria flagged"
}

@test "task report --json gives the criteria, the candidates' totals and the check" {
	make_graded_task
	run_ts 0 task report 1 --json
	assert_json
	assert_json_eq 'd["task"]' '{"id": 1, "name": "demo"}'
	assert_json_eq '[c["step_id"] for c in d["criteria"]]' '[2, 3, 4]'
	assert_json_eq '{k: v for k, v in d["criteria"][0].items() if k != "cells"}' '{"step_id": 2, "title": "Rubric 2: crit-b",
		"criterion_id": "crit-b", "score": 2.5, "required": true,
		"results": {"solution1.patch": "PASS", "solution2.patch": "FAIL",
		"solution3.patch": null, "solution4.patch": null, "original": "PASS", "golden": "FAIL"}}'
	assert_json_eq 'd["criteria"][1]["results"]' '{"solution1.patch": "PASS",
		"solution2.patch": "FAIL", "solution3.patch": "TIMEOUT", "solution4.patch": "ERROR",
		"original": null, "golden": "PASS"}'
	assert_json_eq 'd["criteria"][1]["score"]' '1'
	# each cell: its status and whether it still holds
	assert_json_eq 'd["criteria"][0]["cells"]["golden"]' '{"status": "FAIL", "infrastructure": false, "stale": false, "stale_reason": null, "attempts": 1, "passes": 0, "tamper": []}'
	assert_json_eq 'd["criteria"][1]["cells"]["solution2.patch"]' \
		'{"status": "FAIL", "infrastructure": false, "stale": true, "stale_reason": "no record of what decided it", "attempts": 1, "passes": 0, "tamper": []}'
	assert_json_eq 'd["criteria"][1]["cells"]["original"]' '{"status": null, "infrastructure": false, "stale": false, "stale_reason": null, "attempts": 0, "passes": 0, "tamper": []}'
	assert_json_eq 'sorted(d["candidates"])' '["golden", "original", "solution1.patch",
		"solution2.patch", "solution3.patch", "solution4.patch"]'
	assert_json_eq 'd["candidates"]["solution1.patch"]' '{"passed": 2, "total": 3, "not_run": 1,
		"score": 3.5, "max_score": 3.75, "required_failed": []}'
	assert_json_eq 'd["candidates"]["golden"]' '{"passed": 1, "total": 3, "not_run": 1,
		"score": 1, "max_score": 3.75, "required_failed": [2]}'
	assert_json_eq 'd["check"]' '{"fail_on_golden": [2], "pass_on_original": [2]}'
}

@test "task report: an infrastructure ERROR is no verdict: 🔧, counted as not run, never a required failure or golden failing" {
	make_task demo >/dev/null
	make_step 1 "Rubric set" '{"rubric_set": {"file": "rubrics.json"}}' >/dev/null
	shell_step "Rubric 1: crit-a" crit-a 2 true   # 2
	shell_step "Rubric 2: crit-b" crit-b 1 false  # 3
	# the machinery's (marked, or stored before the mark with a reason that
	# is not the candidate's), then the candidate's own ERRORs
	set_results 2 '{"solution1.patch": {"status": "ERROR", "infrastructure": true,
			"reason": "docker exec failed (exit 1): Cannot connect to the Docker daemon"},
		"solution2.patch": {"status": "ERROR", "infrastructure": false,
			"reason": "patch solution2.patch does not apply"},
		"solution3.patch": {"status": "ERROR", "reason": "reset: git reset failed"},
		"solution4.patch": {"status": "ERROR", "reason": "no verdict: no marker in the output"},
		"original": {"status": "FAIL"},
		"golden": {"status": "ERROR", "infrastructure": true, "duration_ms": 45000,
			"basis": {"timeout_s": 3},
			"reason": "docker exec did not answer within 45 s"}}'
	set_results 3 '{"solution1.patch": {"status": "PASS"}, "solution2.patch": {"status": "PASS"},
		"solution3.patch": {"status": "PASS"}, "solution4.patch": {"status": "PASS"},
		"original": {"status": "FAIL"}, "golden": {"status": "PASS"}}'
	run_ts 0 task report 1
	out_has "    ├── 🔧*💀*🔧*💀*❌*🔧* 2 Rubric 1: crit-a"
	out_has "🔧 not graded: the machinery failed, not the candidate (3 cells; step log says why); task run grades them again"
	out_has "solution1.patch      1/2       1         1/3  -"
	out_has "solution2.patch      1/2       0         1/3  2"
	out_has "solution3.patch      1/2       1         1/3  -"
	out_has "solution4.patch      1/2       0         1/3  2"
	out_has "golden               1/2       1         1/3  -"
	out_has "  fail on golden:   none (1 not graded on golden)"
	out_has "  2 Rubric 1: crit-a: golden not graded (task run 1 --golden); separates nothing"
	# the machinery's 45 s is not golden's time
	out_lacks "slow"
	run_ts 0 task report 1 --json
	assert_json_eq '{c: v["infrastructure"] for c, v in d["criteria"][0]["cells"].items()}' \
		'{"solution1.patch": true, "solution2.patch": false, "solution3.patch": true,
		"solution4.patch": false, "original": false, "golden": true}'
	assert_json_eq 'd["criteria"][0]["results"]["solution1.patch"]' '"ERROR"'
	assert_json_eq 'd["candidates"]["solution1.patch"]["not_run"]' '1'
	assert_json_eq 'd["candidates"]["solution2.patch"]["required_failed"]' '[2]'
	assert_json_eq 'd["check"]["fail_on_golden"]' '[]'
}

@test "task report: a task without rubric_shell steps; an unknown task" {
	make_task plain >/dev/null
	make_step 1 "Check" '{"file_exists": "a"}' >/dev/null
	make_task empty >/dev/null
	run_ts 0 task report 1
	out_is "1-plain
╰── 1 Check

no rubric criteria"
	run_ts 0 task report 2
	out_is "2-empty

no rubric criteria"
	run_ts 0 task report 2 --json
	assert_json_eq 'd["criteria"]' '[]'
	assert_json_eq 'd["candidates"]["golden"]' '{"passed": 0, "total": 0, "not_run": 0,
		"score": 0, "max_score": 0, "required_failed": []}'
	assert_json_eq 'd["check"]' '{"fail_on_golden": [], "pass_on_original": []}'
	run_ts 4 task report 9
	err_has "no task found with ID 9"
	run_ts 4 task regrade 9
	run_ts 2 task report
	run_ts 2 task report x
}

@test "task regrade re-decides stored outputs under the current markers" {
	make_task demo >/dev/null
	make_step 1 "Rubric set" '{"rubric_set": {}}' >/dev/null
	shell_step "Rubric 1: a" a 1 false
	shell_step "Rubric 2: b" b 1 false
	local nov="no verdict: the command printed no marker (exit code 0)"
	set_results 2 '{"solution1.patch": '"$(item ERROR 0 "$nov" $'done: CUSTOM_OK\n')"',
		"solution2.patch": '"$(item FAIL 0 "" $'#__FAIL__#\n')"',
		"golden": '"$(item PASS 0 "" $'#__PASS__#\n')"',
		"result": "success", "message": "graded 3"}'
	set_results 3 '{"solution1.patch": '"$(item FAIL 0 "" $'#__FAIL__# CUSTOM_OK\n')"',
		"solution2.patch": '"$(item FAIL 1 "the PASS marker was printed but the command exited 1" $'#__PASS__# CUSTOM_OK\n')"',
		"solution3.patch": {"status": "ERROR", "exit_code": null, "reason": "patch solution3.patch does not apply",
			"output": "\n#__TS_0123456789abcdef0123456789abcdef__# reset-ok\nCUSTOM_OK\n\n#__TS_0123456789abcdef0123456789abcdef__# error patch solution3.patch does not apply\n"},
		"solution4.patch": {"status": "TIMEOUT", "exit_code": 124, "reason": "timed out after 120000 ms (limit 120 s)",
			"output": "CUSTOM_OK\n"},
		"original": "Pass\nOutput: CUSTOM_OK"}'
	run_ts 0 task regrade 1
	out_is "nothing changed"

	write_conf PASS_MARKER=CUSTOM_OK
	local before
	before=$(db_snapshot)
	run_ts 0 task regrade 1 --dry-run
	out_is "step 2 solution1.patch: ERROR -> PASS
step 2 golden: PASS -> ERROR
2 changed: 1 up, 1 down (dry run, nothing written)"
	assert_db_unchanged "$before"

	run_ts 0 task regrade 1
	out_is "step 2 solution1.patch: ERROR -> PASS
step 2 golden: PASS -> ERROR
2 changed: 1 up, 1 down"
	run_ts 0 step info 2 --json
	assert_json_eq '{k: [v["status"], v["reason"]] for k, v in d["results"].items() if isinstance(v, dict)}' \
		'{"solution1.patch": ["PASS", null], "solution2.patch": ["FAIL", null],
		  "golden": ["ERROR", "no verdict: the command printed no marker (exit code 0)"]}'
	assert_json_eq 'd["results"]["message"]' '"graded 3"'
	run_ts 0 step info 3 --json
	# both markers stay FAIL, a PASS marker with exit 1 is FAIL, harness errors,
	# deadline timeouts and the original's strings are kept
	assert_json_eq '{k: v["status"] if isinstance(v, dict) else v for k, v in d["results"].items()}' \
		'{"solution1.patch": "FAIL", "solution2.patch": "FAIL", "solution3.patch": "ERROR",
		  "solution4.patch": "TIMEOUT", "original": "Pass\nOutput: CUSTOM_OK"}'
	run_ts 0 task report 1
	[[ ${lines[3]} == "    ├── ✅*❌*❔ ❔ ❔ 💀* 2 Rubric 1: a" ]] || { show_run; false; }
	[[ ${lines[4]} == "    ╰── ❌*❌*💀*⌛*✅ ❔  3 Rubric 2: b" ]] || { show_run; false; }

	run_ts 0 task regrade 1
	out_is "nothing changed"
	write_conf
	run_ts 0 task regrade 1
	out_is "step 2 solution1.patch: PASS -> ERROR
step 2 golden: ERROR -> PASS
2 changed: 1 up, 1 down"
}

@test "task regrade counts every change up or down by ERROR < TIMEOUT < FAIL < PASS" {
	make_task demo >/dev/null
	make_step 1 "Rubric set" '{"rubric_set": {}}' >/dev/null
	shell_step "Rubric 1: a" a 1 false
	set_results 2 '{"solution1.patch": '"$(item TIMEOUT 0 "the command printed the TIMEOUT marker" $'#__TIMEOUT__# X_OK\n')"',
		"solution2.patch": '"$(item FAIL 0 "" $'X_NO\n')"',
		"solution3.patch": '"$(item PASS 0 "" $'#__PASS__# X_NO\n')"'}'
	write_conf TIMEOUT_MARKER=X_TMO PASS_MARKER=X_OK FAIL_MARKER=X_NO
	run_ts 0 task regrade 1
	out_is "step 2 solution1.patch: TIMEOUT -> PASS
step 2 solution3.patch: PASS -> FAIL
2 changed: 1 up, 1 down"
	write_conf TIMEOUT_MARKER=X_NO
	run_ts 0 task regrade 1
	out_is "step 2 solution1.patch: PASS -> ERROR
step 2 solution2.patch: FAIL -> TIMEOUT
step 2 solution3.patch: FAIL -> TIMEOUT
3 changed: 0 up, 3 down"
}

# basis [KEY=JSON...]: the basis rubric_shell records for a cell graded today
# by a step with command "true" and no containers or patches (task.conf
# defaults), with the keys given replaced
basis() {
	python3 - "$("$TS_BIN" --version)" "$@" <<'EOF'
import json, sys
b = {"image_id": None, "container_id": None, "base_commit": None,
     "app_folder": "/app", "timeout_s": 120, "pass_marker": "#__PASS__#",
     "fail_marker": "#__FAIL__#", "timeout_marker": "#__TIMEOUT__#",
     "command": "true", "pre_patch": None, "patch": None,
     "held_out_tests": None, "task_sync": sys.argv[1].split()[1]}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    b[k] = json.loads(v)
print(json.dumps(b))
EOF
}

# with_basis ENTRY BASIS: the entry with its basis
with_basis() {
	python3 -c 'import json, sys; e = json.loads(sys.argv[1]); e["basis"] = json.loads(sys.argv[2]); print(json.dumps(e))' "$1" "$2"
}

@test "task report marks a cell stale when the markers, the timeout or the command changed since it was graded; task regrade records the markers of the cells it re-decides" {
	make_task demo >/dev/null
	make_step 1 "Rubric set" '{"rubric_set": {}}' >/dev/null
	shell_step "Rubric 1: a" a 1 false
	local now
	now=$(basis)
	set_results 2 '{"solution1.patch": '"$(with_basis "$(item PASS 0 "" $'#__PASS__# NEW_OK\n')" "$now")"',
		"solution2.patch": '"$(with_basis "$(item FAIL 0 "" $'#__FAIL__#\n')" "$now")"',
		"solution3.patch": '"$(with_basis "$(item ERROR 0 "patch solution3.patch does not apply" "")" "$now")"',
		"golden": '"$(with_basis "$(item PASS 0 "" $'#__PASS__#\n')" "$(basis timeout_s=5)")"',
		"original": '"$(with_basis "$(item PASS 0 "" $'#__PASS__#\n')" "$(basis 'command="false"')")"',
		"result": "success", "message": "graded 5"}'
	run_ts 0 task report 1
	[[ ${lines[3]} == "    ╰── ✅ ❌ 💀 ❔ ✅*✅* 2 Rubric 1: a" ]] || { show_run; false; }
	out_has "* stale: graded under other conditions than today's (2 cells; --json says why); task run grades them again"
	run_ts 0 task report 1 --json
	assert_json_eq '{k: v["stale_reason"] for k, v in d["criteria"][0]["cells"].items() if v["stale"]}' \
		"{\"golden\": \"timeout 5 s → 120 s\", \"original\": \"command 'false' → 'true'\"}"

	# new markers: every cell is stale
	write_conf PASS_MARKER=NEW_OK
	run_ts 0 task report 1
	[[ ${lines[3]} == "    ╰── ✅*❌*💀*❔ ✅*✅* 2 Rubric 1: a" ]] || { show_run; false; }
	run_ts 0 task report 1 --json
	assert_json_eq 'd["criteria"][0]["cells"]["solution1.patch"]["stale_reason"]' "\"PASS_MARKER '#__PASS__#' → 'NEW_OK'\""
	assert_json_eq 'd["criteria"][0]["cells"]["golden"]["stale_reason"]' "\"timeout 5 s → 120 s, PASS_MARKER '#__PASS__#' → 'NEW_OK'\""
	local before
	before=$(db_snapshot)
	run_ts 0 task regrade 1 --dry-run
	assert_db_unchanged "$before"
	run_ts 0 task regrade 1
	out_is "step 2 original: PASS -> ERROR
step 2 golden: PASS -> ERROR
2 changed: 0 up, 2 down
4 cells now record today's markers"
	run_ts 0 step info 2 --json
	assert_json_eq 'd["results"]["solution1.patch"]["basis"]["pass_marker"]' '"NEW_OK"'
	# a harness error is not re-decided: its basis keeps the markers it had
	assert_json_eq 'd["results"]["solution3.patch"]["basis"]["pass_marker"]' '"#__PASS__#"'
	# re-decided under today's markers: only what else changed is stale
	run_ts 0 task report 1 --json
	assert_json_eq '{k: v["stale_reason"] for k, v in d["criteria"][0]["cells"].items() if v["stale"]}' \
		"{\"solution3.patch\": \"PASS_MARKER '#__PASS__#' → 'NEW_OK'\", \"golden\": \"timeout 5 s → 120 s\", \"original\": \"command 'false' → 'true'\"}"
	run_ts 0 task regrade 1
	out_is "nothing changed"
}

@test "task report: criteria that share a patch are all stale once it changes, in one report; a held-out patch that appears makes every cell stale" {
	local dir=$BATS_TEST_TMPDIR/proj s1 s2 k
	mkdir -p "$dir"
	printf 'diff --git a/x b/x\n' >"$dir/solution1.patch"
	printf 'diff --git a/y b/y\n' >"$dir/solution2.patch"
	make_task demo --local_path "$dir" >/dev/null
	make_step 1 "Rubric set" '{"rubric_set": {}}' >/dev/null
	shell_step "Rubric 1: a" a 1 false
	shell_step "Rubric 2: b" b 1 false
	sha() { sha256sum "$1" | cut -d' ' -f1; }
	s1=$(basis "patch=\"$(sha "$dir/solution1.patch")\"")
	s2=$(basis "patch=\"$(sha "$dir/solution2.patch")\"")
	for k in 2 3; do
		set_results "$k" '{"solution1.patch": '"$(with_basis "$(item PASS 0 "" $'#__PASS__#\n')" "$s1")"',
			"solution2.patch": '"$(with_basis "$(item FAIL 0 "" $'#__FAIL__#\n')" "$s2")"',
			"original": '"$(with_basis "$(item FAIL 0 "" $'#__FAIL__#\n')" "$(basis)")"',
			"result": "success", "message": "graded 3"}'
	done
	run_ts 0 task report 1 --json
	assert_json_eq '[[k for k, v in c["cells"].items() if v["stale"]] for c in d["criteria"]]' '[[], []]'

	# solution1.patch changed: its cell in both criteria, nothing else
	printf 'diff --git a/z b/z\n' >"$dir/solution1.patch"
	run_ts 0 task report 1 --json
	assert_json_eq '[[k for k, v in c["cells"].items() if v["stale"]] for c in d["criteria"]]' \
		'[["solution1.patch"], ["solution1.patch"]]'
	assert_json_eq 'd["criteria"][1]["cells"]["solution1.patch"]["stale_reason"].startswith("patch ")' 'true'

	# a held-out tests patch under the name the README gives it appears
	printf 'diff --git a/t b/t\n' >"$dir/held_out_test.patch"
	run_ts 0 task report 1 --json
	assert_json_eq '[sorted(k for k, v in c["cells"].items() if v["stale"]) for c in d["criteria"]]' \
		'[["original", "solution1.patch", "solution2.patch"], ["original", "solution1.patch", "solution2.patch"]]'
	assert_json_eq 'd["criteria"][1]["cells"]["original"]["stale_reason"]' \
		"\"held-out tests none → $(sha "$dir/held_out_test.patch" | cut -c1-12)…\""
}

@test "task report asks docker about the task's containers once, not once per criterion" {
	local fake=$BATS_TEST_TMPDIR/docker log=$BATS_TEST_TMPDIR/docker.log k
	# a docker that knows no container (docker prints nothing and exits 1)
	printf '#!/bin/sh\necho "$*" >>"%s"\nexit 1\n' "$log" >"$fake"
	chmod +x "$fake"
	make_task demo >/dev/null
	db_sql "UPDATE tasks SET settings = '{\"containers_map\": {\"golden\": \"no-such-c1\", \"original\": \"no-such-c2\"}}' WHERE id = 1"
	make_step 1 "Rubric set" '{"rubric_set": {}}' >/dev/null
	for k in a b c; do
		shell_step "Rubric: $k" "$k" 1 false
	done
	for k in 2 3 4; do
		set_results "$k" '{"golden": '"$(with_basis "$(item PASS 0 "" $'#__PASS__#\n')" "$(basis 'container_id="gone"')")"',
			"original": '"$(with_basis "$(item FAIL 0 "" $'#__FAIL__#\n')" "$(basis)")"',
			"result": "success", "message": "graded 2"}'
	done
	TASK_SYNC_DOCKER=$fake run_ts 0 task report 1 --json
	[[ $(grep -c 'container inspect' "$log") == 1 ]] || fail "docker was asked: $(cat "$log")"
	grep -q 'no-such-c1' "$log" && grep -q 'no-such-c2' "$log" || fail "docker was asked: $(cat "$log")"
	# docker knows neither: golden's cells, graded in a container, are stale
	# in every criterion; the original's, graded in none, are not
	assert_json_eq '[[c["cells"]["golden"]["stale_reason"], c["cells"]["original"]["stale"]] for c in d["criteria"]]' \
		"[[\"container 'gone' → none\", false], [\"container 'gone' → none\", false], [\"container 'gone' → none\", false]]"
}
