#!/usr/bin/env bats
# task check ID [--json], the criterion health under task report, task
# report --junit and --csv, and --repeat's parsing. Results are put in
# through the database as rubric_shell writes them (no Docker here;
# tests/docker/flaky.bats grades for real).

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

set_results() {
	db_sql "UPDATE steps SET results = '${2//\'/\'\'}' WHERE id = $1"
}

# cell STATUS [DURATION_MS [TIMEOUT_S]]: one candidate's entry
cell() {
	echo '{"status": "'"$1"'", "duration_ms": '"${2:-40}"', "exit_code": 0, "reason": null,
		"basis": {"timeout_s": '"${3:-60}"'}}'
}

# task 1 "demo": step 1 a setup, steps 2 and 3 criteria under it
make_task_with_criteria() {
	make_task demo >/dev/null
	make_step 1 "Setup" '{"file_exists": "a"}' >/dev/null
	make_step 1 "Rubric 1: tests" '{"rubric_shell": {"command": "true", "criterion_id": "tests",
		"depends_on": [{"id": 1}]}}' >/dev/null
	make_step 1 "Rubric 2: lint" '{"rubric_shell": {"command": "true", "criterion_id": "lint",
		"depends_on": [{"id": 1}]}}' >/dev/null
}

@test "task check: a valid task exits 0, each criterion ok" {
	make_task_with_criteria
	set_results 2 '{"golden": '"$(cell PASS)"', "original": '"$(cell FAIL)"',
		"solution1.patch": '"$(cell PASS)"'}'
	set_results 3 '{"golden": '"$(cell PASS)"', "original": '"$(cell FAIL)"'}'
	run_ts 0 task check 1
	out_is "1-demo
  2 Rubric 1: tests: ok
  3 Rubric 2: lint: ok
valid: every criterion separates golden from the original"
	run_ts 0 task check 1 --json
	assert_json_eq 'd["valid"]' 'true'
	assert_json_eq 'd["task"]' '{"id": 1, "name": "demo"}'
	assert_json_eq 'd["criteria"][0]["separates"]' \
		'{"pass": ["solution1.patch", "golden"], "fail": ["original"]}'
	assert_json_eq 'd["criteria"][0]["golden"]' \
		'{"status": "PASS", "attempts": 1, "passes": 1, "duration_ms": 40, "timeout_s": 60}'
	assert_json_eq 'd["criteria"][0]["suggested_timeout_s"]' '1'
}

@test "task check: golden failing, the original passing, nothing separated, slow golden and flaky cells are flagged; exit 1" {
	make_task_with_criteria
	set_results 2 '{"golden": '"$(cell FAIL)"', "original": '"$(cell PASS)"'}'
	set_results 3 '{"golden": {"status": "PASS", "duration_ms": 4000, "basis": {"timeout_s": 5},
			"attempts": [{"status": "PASS"}, {"status": "PASS"}]},
		"original": {"status": "FAIL"},
		"solution1.patch": {"status": "FLAKY", "attempts": [{"status": "PASS"},
			{"status": "FAIL"}, {"status": "PASS"}]}}'
	run_ts 1 task check 1
	out_is "1-demo
  2 Rubric 1: tests: golden does not pass: FAIL (0 of 1 attempt passed); the original passes: the criterion needs no change
  3 Rubric 2: lint: flaky: the attempts disagree in 1 of 2 repeated cells; slow: golden took 4000 ms of its 5 s limit (suggested timeout: 16 s)
not valid: 2 of 2 criteria flagged"
	run_ts 1 task check 1 --json
	assert_json_eq 'd["valid"]' 'false'
	assert_json_eq 'd["criteria"][1]["flip_rate"]' '0.5'
	assert_json_eq 'd["criteria"][1]["suggested_timeout_s"]' '16'
	# the report shows the same under the grid, and the flaky cell's k/N
	run_ts 0 task report 1
	out_has "    ╰── 🎲*❔ ❔ ❔ ❌*✅* 3 Rubric 2: lint"
	out_has "🎲 flaky: the attempts disagree"
	out_has "  step 3 solution1.patch: 2 of 3 passed"
	out_has "Criterion health"
	out_has "not valid: 2 of 2 criteria flagged"
	run_ts 0 task report 1 --json
	assert_json_eq 'd["health"]["valid"]' 'false'
	assert_json_eq 'd["criteria"][1]["cells"]["solution1.patch"]["status"]' '"FLAKY"'
	assert_json_eq 'd["criteria"][1]["cells"]["solution1.patch"]["passes"]' '2'
	# FLAKY is never a pass
	assert_json_eq 'd["candidates"]["solution1.patch"]["passed"]' '0'
}

@test "task check: nothing graded, no criteria, an unknown task" {
	make_task_with_criteria
	run_ts 1 task check 1
	out_has "  2 Rubric 1: tests: golden and the original not graded (task run 1 --golden)"
	set_results 2 '{"golden": '"$(cell PASS)"', "original": '"$(cell PASS)"', "solution1.patch": '"$(cell PASS)"'}'
	run_ts 1 task check 1
	out_has "  2 Rubric 1: tests: the original passes: the criterion needs no change; separates nothing: every graded candidate is PASS"
	make_task empty >/dev/null
	run_ts 1 task check 2
	out_is "2-empty
not valid: no rubric criteria"
	run_ts 4 task check 9
	err_has "error: no task found with ID 9"
	run_ts 2 task check
}

@test "task report --junit: a testsuite per candidate, a testcase per criterion, well-formed XML" {
	make_task_with_criteria
	set_results 2 '{"golden": '"$(cell PASS 1500)"', "original": {"status": "FAIL", "reason": "a <b> & \"c\""},
		"solution1.patch": {"status": "ERROR", "reason": "patch solution1.patch does not apply"}}'
	run_ts 0 task report 1 --junit
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.xml"
	python3 - "$BATS_TEST_TMPDIR/r.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
assert root.get("tests") == "12" and root.get("failures") == "1" and root.get("errors") == "1" and root.get("skipped") == "9", root.attrib
suites = {s.get("name"): s for s in root}
assert list(suites) == ["solution1.patch", "solution2.patch", "solution3.patch", "solution4.patch", "original", "golden"], list(suites)
g = suites["golden"].findall("testcase")
assert [c.get("name") for c in g] == ["2 Rubric 1: tests", "3 Rubric 2: lint"]
assert g[0].get("time") == "1.500", ET.tostring(g[0])
assert [x.tag for x in g[0]] == ["system-out"], ET.tostring(g[0])  # a pass, stale
assert g[1].find("skipped") is not None
o = suites["original"].find("testcase").find("failure")
assert o.get("type") == "FAIL" and o.get("message") == 'a <b> & "c"', o.attrib
e = suites["solution1.patch"].find("testcase").find("error")
assert e.get("type") == "ERROR" and "does not apply" in e.get("message")
PY
}

@test "task report --csv: a header and a row per cell, quoted where needed" {
	make_task demo >/dev/null
	make_step 1 "Rubric 1: a, \"b\"" '{"rubric_shell": {"command": "true"}}' >/dev/null
	set_results 1 '{"golden": '"$(cell PASS 7)"', "original": {"status": "FAIL", "reason": "line1\nline2", "exit_code": 1}}'
	run_ts 0 task report 1 --csv
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/r.csv"
	python3 - "$BATS_TEST_TMPDIR/r.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 6, rows
g = [r for r in rows if r["candidate"] == "golden"][0]
assert g["title"] == 'Rubric 1: a, "b"' and g["status"] == "PASS" and g["duration_ms"] == "7" and g["attempts"] == "1" and g["passes"] == "1", g
o = [r for r in rows if r["candidate"] == "original"][0]
assert o["status"] == "FAIL" and o["reason"] == "line1\nline2" and o["exit_code"] == "1", o
s = [r for r in rows if r["candidate"] == "solution1.patch"][0]
assert s["status"] == "" and s["attempts"] == "0" and s["stale"] == "no", s
PY
	run_ts 2 task report 1 --csv --junit
	err_has "--json, --junit and --csv are one each"
}

@test "--repeat takes a whole number of attempts 1..20 or auto" {
	make_task demo >/dev/null
	for bad in 0 21 x 1.5 ""; do
		run_ts 2 task run 1 --repeat "$bad"
		err_has "error: --repeat: expected a whole number of attempts 1..20 or 'auto', not '$bad'"
	done
	run_ts 2 step run 1 --repeat nope
	err_has "--repeat: expected a whole number"
	run_ts 0 task run 1 --repeat auto
	run_ts 0 task run 1 --repeat 3
}

@test "a task setting repeat that is not a number of attempts fails the criterion, naming it" {
	make_task demo >/dev/null
	make_step 1 "Rubric 1: a" '{"rubric_shell": {"command": "true",
		"assign_containers": {"solution1.patch": "no-such-c"}}}' >/dev/null
	run_ts 0 task edit 1 --set repeat=often
	run_ts 1 task run 1
	out_has 'task setting repeat: expected a whole number of attempts 1..20 or "auto"'
}
