#!/usr/bin/env bats
# rubric_set without Docker: reconciling the children keeps the results of
# criteria whose command did not change, new candidate patches make it run
# again, an empty rubric keeps the children, and the parser's warnings reach
# the progress lines. The children's results are put in through the database,
# as rubric_shell would write them; grading itself is tests/docker/grading.bats.

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

setup() {
	ts_setup
	LP="$BATS_TEST_TMPDIR/lp"
	mkdir -p "$LP"
	rubric a b c
	printf 'diff --git a/x b/x\n' >"$LP/solution1.patch"
	TID=$(make_task demo --local_path "$LP")
	RS=$(make_step "$TID" rubrics '{"rubric_set": {"file": "rubrics.json"}}')
}

# rubric ID...: rubrics.json with one item per ID, command "echo <ID>"
rubric() {
	python3 - "$LP/rubrics.json" "$@" <<-'EOF'
		import json, sys
		json.dump([{"rubricItemId": i, "criterion": "crit " + i, "score": 1,
		            "forms": {"f": {"criterion_test_command": "echo " + i}}}
		           for i in sys.argv[2:]], open(sys.argv[1], "w"))
	EOF
}

# children: the IDs of the steps RS generated, in ID order
children() {
	ts step list --task "$TID" --json | python3 -c '
import json, sys
print(" ".join(str(s["id"]) for s in json.load(sys.stdin) if s["generated_by"] == int(sys.argv[1])))' "$RS"
}

# results STEP: the step's results, compact JSON
results() {
	ts step info "$1" --json | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["results"], sort_keys=True))'
}

# graded STEP: give STEP a result as rubric_shell would
graded() {
	db_sql "UPDATE steps SET results = '{\"result\": \"success\", \"message\": \"graded 1\", \"solution1.patch\": {\"status\": \"PASS\", \"reason\": null}}' WHERE id = $1"
}

@test "rubric_set: renumbered children keep their ID and results; a changed command clears them; a removed criterion goes" {
	run_ts 0 step run "$RS"
	out_has "success: 3 criteria from rubrics.json: 3 created, 0 updated, 0 deleted, 0 kept"
	read -ra kids <<<"$(children)"
	for k in "${kids[@]}"; do graded "$k"; done
	kept=$(results "${kids[2]}")
	# a goes: b and c move up (counter, title); c's command changes too
	python3 - "$LP/rubrics.json" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		d[2]["forms"]["f"]["criterion_test_command"] = "echo changed"
		json.dump(d[1:], open(sys.argv[1], "w"))
	EOF
	run_ts 0 step run "$RS"
	out_has "success: 2 criteria from rubrics.json: 0 created, 2 updated, 1 deleted, 0 kept"
	[[ $(children) == "${kids[1]} ${kids[2]}" ]]
	run_ts 0 step info "${kids[1]}" --json
	assert_json_eq 'd["title"]' '"Rubric 1: b"'
	assert_json_eq 'd["settings"]["rubric_shell"]["counter"]' '"1"'
	assert_json_eq 'd["results"]["solution1.patch"]["status"]' '"PASS"'
	[[ $(results "${kids[2]}") == null ]] || fail "the changed command kept its results"
	run_ts 4 step info "${kids[0]}"
	run_ts 0 step runs "$RS" --json
	assert_json_eq 'd[0]["detail"]["results_cleared"]' '1'
	[[ $kept != null ]]
}

@test "rubric_set: a candidate patch that appears or goes makes it run again, and the children's files follow" {
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children)"
	graded "${kids[0]}"
	run_ts 0 step run "$RS"
	out_has "Processing step ID $RS (rubrics)... fresh"
	run_ts 0 step info "${kids[0]}" --json
	assert_json_eq 'sorted(d["settings"]["rubric_shell"]["files"])' '["solution1.patch"]'

	printf 'diff --git a/y b/y\n' >"$LP/solution2.patch"
	run_ts 0 step run "$RS"
	out_has "success: 3 criteria from rubrics.json: 0 created, 3 updated, 0 deleted, 0 kept"
	run_ts 0 step info "${kids[0]}" --json
	assert_json_eq 'sorted(d["settings"]["rubric_shell"]["files"])' '["solution1.patch", "solution2.patch"]'
	assert_json_eq 'd["results"]["solution1.patch"]["status"]' '"PASS"'
	run_ts 0 step run "$RS"
	out_has "Processing step ID $RS (rubrics)... fresh"

	printf 'diff --git a/g b/g\n' >"$LP/golden.patch"
	run_ts 0 step run "$RS"
	out_has "3 updated"
	run_ts 0 step info "${kids[0]}" --json
	assert_json_eq 'sorted(d["settings"]["rubric_shell"]["files"])' '["golden.patch", "solution1.patch", "solution2.patch"]'

	rm "$LP/solution1.patch"
	run_ts 0 step run "$RS"
	out_has "3 updated"
	run_ts 0 step info "${kids[0]}" --json
	assert_json_eq 'sorted(d["settings"]["rubric_shell"]["files"])' '["golden.patch", "solution2.patch"]'
}

@test "rubric_set: a rubric with no criteria fails and keeps the children; --force deletes them" {
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children)"
	graded "${kids[0]}"
	before=$(ts step list --task "$TID" --json | python3 -c '
import json, sys
print(json.dumps([s for s in json.load(sys.stdin) if s["id"] != int(sys.argv[1])], sort_keys=True))' "$RS")
	printf '[]' >"$LP/rubrics.json"
	run_ts 1 step run "$RS"
	out_has "Processing step ID $RS (rubrics)... failure: no criteria in rubrics.json: it holds no items; the rubric steps are kept (--force deletes them)"
	printf '[{"rubricItemId": "a"}, {"criterion": "no id", "command": "true"}]' >"$LP/rubrics.json"
	run_ts 1 step run "$RS"
	out_has "failure: no criteria in rubrics.json: every item was skipped; the rubric steps are kept (--force deletes them)"
	out_has "warning: skipped item 1 'a': no criterion_test_command"
	after=$(ts step list --task "$TID" --json | python3 -c '
import json, sys
print(json.dumps([s for s in json.load(sys.stdin) if s["id"] != int(sys.argv[1])], sort_keys=True))' "$RS")
	[[ $after == "$before" ]] || fail "the children changed"
	run_ts 0 step run "$RS" --force
	out_has "success: 0 criteria from rubrics.json: 0 created, 0 updated, 3 deleted, 0 kept"
	[[ -z $(children) ]]
}

@test "rubric_set: a Markdown rubric's warnings and a duplicate ID reach the progress lines" {
	cat >"$LP/TASK_DATA.md" <<-'EOF'
		### crit-01: First
		**Score**: 1
		**Held-out tests**: `echo one`
		**Score**: 4
		### Criterion 2: Second
		**Held-out tests**: `echo two`
	EOF
	RS2=$(make_step "$TID" md '{"rubric_set": {"file": "TASK_DATA.md"}}')
	run_ts 0 step run "$RS2"
	out_has "success: 2 criteria from TASK_DATA.md: 2 created"
	out_has "warning: $LP/TASK_DATA.md:4: criterion 'crit-01': a second **Score** (line 2's is used)"
	run_ts 0 step runs "$RS2" --json
	assert_json_eq 'd[0]["detail"]["warnings"]' "[\"$LP/TASK_DATA.md:4: criterion 'crit-01': a second **Score** (line 2's is used)\"]"
	printf '### crit-01 : Again\n**Held-out tests**: `true`\n' >>"$LP/TASK_DATA.md"
	run_ts 1 step run "$RS2"
	out_has "failure: cannot use rubric: $LP/TASK_DATA.md:7: duplicate criterion ID 'crit-01' (first at line 1)"
}
