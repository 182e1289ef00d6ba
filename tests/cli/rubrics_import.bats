#!/usr/bin/env bats
# The rubric parsers as the seed's README words them, through rubrics_import
# (and rubric_set where children are made): "HeldOutTest: From
# `forms.criterion_test_command`", required read in the usual spellings, a
# blank command is no command, a score written 3 stays 3, and "When
# rubrics.json is present in the task directory, it is prioritized, and the
# markdown file is ignored". No Docker: nothing here is graded.

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

setup() {
	ts_setup
	LP="$BATS_TEST_TMPDIR/lp"
	mkdir -p "$LP"
	TID=$(make_task demo --local_path "$LP")
}

# results STEP: the step's results, compact JSON with sorted keys
results() {
	ts step info "$1" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)["results"]
r.pop("fingerprint", None)
print(json.dumps(r, sort_keys=True))'
}

# task_map: the task's rubric_set map, compact JSON with sorted keys
task_map() {
	ts task info "$TID" --json | python3 -c '
import json, sys
print(json.dumps(json.load(sys.stdin)["settings"].get("rubric_set"), sort_keys=True))'
}

@test "rubrics_import: the seed's forms.criterion_test_command imports, with the original's forms and an array of forms" {
	# the seed: "HeldOutTest: From `forms.criterion_test_command`"
	cat >"$LP/rubrics.json" <<-'EOF'
		[{"rubricItemId": "seed", "criterion": "the seed's shape", "score": 1,
		  "forms": {"criterion_test_command": "echo seed"}},
		 {"rubricItemId": "original", "criterion": "by form id", "score": 1,
		  "forms": {"f-1": {"criterion_test_command": "echo original"}}},
		 {"rubricItemId": "array", "criterion": "an array", "score": 1,
		  "forms": [{"criterion_test_command": "echo array"}]}]
	EOF
	imp=$(make_step "$TID" import '{"rubrics_import": {"json_file": "rubrics.json"}}')
	run_ts 0 step run "$imp"
	out_has "Processing step ID $imp (import)... success: 3 criteria imported from rubrics.json"
	run_ts 0 step info "$imp" --json
	assert_json_eq '[c["criterion_id"] for c in d["results"]["criteria"]]' '["seed", "original", "array"]'
	assert_json_eq 'd["results"]["skipped_items"]' '[]'

	# rubric_set makes a child with the seed shape's command
	rs=$(make_step "$TID" rubrics '{"rubric_set": {"file": "rubrics.json"}}')
	run_ts 0 step run "$rs"
	out_has "success: 3 criteria from rubrics.json: 3 created"
	run_ts 0 step list --task "$TID" --json
	assert_json_eq '[s["settings"]["rubric_shell"]["command"] for s in d if s["generated_by"] == '"$rs"']' \
		'["echo seed", "echo original", "echo array"]'
}

@test "rubrics_import: a rubric that yields no criterion fails naming the file and why, and the task's map is kept" {
	printf '[{"rubricItemId": "a", "forms": {"criterion_test_command": "true"}}]' >"$LP/rubrics.json"
	imp=$(make_step "$TID" import '{"rubrics_import": {"json_file": "rubrics.json"}}')
	run_ts 0 step run "$imp"
	map=$(task_map)
	[[ $map == *'"a"'* ]] || fail "no map: $map"

	printf '[{"rubricItemId": "a", "forms": {"criterion_text": "no command"}}]' >"$LP/rubrics.json"
	run_ts 1 step run "$imp"
	out_has "Processing step ID $imp (import)... failure: no criteria in rubrics.json: no item has a command"
	out_has "warning: skipped item 1 'a': no criterion_test_command"
	[[ $(task_map) == "$map" ]] || fail "the task's map changed"
	run_ts 0 step info "$imp" --json
	assert_json_eq 'd["results"]["result"]' '"failure"'

	printf '[]' >"$LP/rubrics.json"
	run_ts 1 step run "$imp"
	out_has "failure: no criteria in rubrics.json: it holds no items"

	# rubric_set and dynamic_rubric say why too, and keep their children
	printf '[{"rubricItemId": "a", "forms": {"criterion_test_command": "  "}}]' >"$LP/rubrics.json"
	rs=$(make_step "$TID" rubrics '{"rubric_set": {"file": "rubrics.json"}}')
	run_ts 1 step run "$rs"
	out_has "failure: no criteria in rubrics.json: no item has a command; the rubric steps are kept (--force deletes them)"
	dyn=$(make_step "$TID" dyn '{"dynamic_rubric": {"rubrics": ["rubrics.json"], "assign_containers": {"solution1.patch": "no-such-c1"}}}')
	run_ts 1 step run "$dyn"
	out_has "failure: no criteria in rubrics.json: no item has a command; the rubric steps are kept (--force deletes them)"
}

@test "rubrics_import: required reads true/false, yes/no, 1/0 in any case; anything else skips the item with a warning" {
	python3 - "$LP/rubrics.json" <<-'EOF'
		import json, sys
		vals = [True, False, "yes", "No", "TRUE", "false", 1, 0, "1", "0", "Yes", "maybe", 2]
		json.dump([{"rubricItemId": "r%d" % i, "criterion": "c", "score": 1, "required": v,
		            "forms": {"criterion_test_command": "true"}} for i, v in enumerate(vals)]
		          + [{"rubricItemId": "unset", "criterion": "c",
		              "forms": {"criterion_test_command": "true"}}],
		          open(sys.argv[1], "w"))
	EOF
	imp=$(make_step "$TID" import '{"rubrics_import": {"json_file": "rubrics.json"}}')
	run_ts 0 step run "$imp"
	out_has "success: 12 criteria imported from rubrics.json"
	out_has "warning: $LP/rubrics.json: item 12 'r11': required \"maybe\" is not true/false/yes/no/1/0 (the item is skipped)"
	out_has "warning: $LP/rubrics.json: item 13 'r12': required 2 is not true/false/yes/no/1/0 (the item is skipped)"
	run_ts 0 step info "$imp" --json
	assert_json_eq '{c["criterion_id"]: c["required"] for c in d["results"]["criteria"]}' \
		'{"r0": true, "r1": false, "r2": true, "r3": false, "r4": true, "r5": false,
		  "r6": true, "r7": false, "r8": true, "r9": false, "r10": true, "unset": false}'
	assert_json_eq 'len(d["results"]["warnings"])' '2'

	# the same in Markdown
	cat >"$LP/TASK_DATA.md" <<-'EOF'
		### crit-01: One
		**Required**: YES
		**Held-out tests**: `true`
		### crit-02: Two
		**Required**: maybe
		**Held-out tests**: `true`
	EOF
	md=$(make_step "$TID" md '{"rubrics_import": {"md_file": "TASK_DATA.md"}}')
	rm "$LP/rubrics.json"
	run_ts 0 step run "$md"
	out_has "success: 1 criterion imported from TASK_DATA.md"
	out_has "warning: $LP/TASK_DATA.md:5: criterion 'crit-02': required \"maybe\" is not true/false/yes/no/1/0 (the criterion is skipped)"
	run_ts 0 step info "$md" --json
	assert_json_eq '[(c["criterion_id"], c["required"]) for c in d["results"]["criteria"]]' '[["crit-01", true]]'
}

@test "rubrics_import: a command that is only whitespace is no command: the item is dropped with its reason" {
	python3 - "$LP/rubrics.json" <<-'EOF'
		import json, sys
		json.dump([{"rubricItemId": "blank", "criterion": "c", "forms": {"criterion_test_command": " \t\n "}},
		           {"rubricItemId": "empty", "criterion": "c", "forms": {"criterion_test_command": ""}},
		           {"rubricItemId": "ok", "criterion": "c", "forms": {"criterion_test_command": "true"}}],
		          open(sys.argv[1], "w"))
	EOF
	imp=$(make_step "$TID" import '{"rubrics_import": {"json_file": "rubrics.json"}}')
	run_ts 0 step run "$imp"
	out_has "success: 1 criterion imported from rubrics.json"
	out_has "warning: skipped item 1 'blank': criterion_test_command is only whitespace"
	out_has "warning: skipped item 2 'empty': no criterion_test_command"
	run_ts 0 step info "$imp" --json
	assert_json_eq 'd["results"]["skipped_items"]' \
		"[\"item 1 'blank': criterion_test_command is only whitespace\", \"item 2 'empty': no criterion_test_command\"]"

	printf '### crit-01: Blank\n**Held-out tests**: `  `\n' >"$LP/TASK_DATA.md"
	rm "$LP/rubrics.json"
	md=$(make_step "$TID" md '{"rubrics_import": {"md_file": "TASK_DATA.md"}}')
	run_ts 1 step run "$md"
	out_has "warning: skipped $LP/TASK_DATA.md:1: criterion 'crit-01': held-out test command is only whitespace"
	out_has "failure: no criteria in TASK_DATA.md: no item has a command"
}

@test "rubrics_import: a score written 3 stays 3 and 2.5 stays 2.5, in the results and in rubric_set's children" {
	printf '[{"rubricItemId": "a", "score": 3, "forms": {"criterion_test_command": "true"}},
		{"rubricItemId": "b", "score": 2.5, "forms": {"criterion_test_command": "true"}}]' >"$LP/rubrics.json"
	imp=$(make_step "$TID" import '{"rubrics_import": {"json_file": "rubrics.json"}}')
	run_ts 0 step run "$imp"
	run_ts 0 step info "$imp" --json
	[[ $output == *'"score": 3'[,$'\n']* ]] || fail "3 is not written 3: $output"
	[[ $output != *'"score": 3.0'* ]] || fail "3 is written 3.0"
	[[ $output == *'"score": 2.5'* ]] || fail "2.5 is not written 2.5"
	printf '### crit-01: One\n**Score**: 3\n**Held-out tests**: `true`\n' >"$LP/TASK_DATA.md"
	rs=$(make_step "$TID" md '{"rubric_set": {"file": "TASK_DATA.md"}}')
	run_ts 0 step run "$rs"
	run_ts 0 step list --task "$TID" --full
	out_has '"score":3,'
	out_lacks '"score":3.0'
}

@test "rubrics_import: with only md_file set, rubrics.json in the task folder is used and the Markdown ignored, saying so" {
	printf '### crit-01: From Markdown\n**Held-out tests**: `echo md`\n' >"$LP/TASK_DATA.md"
	printf '[{"rubricItemId": "from-json", "forms": {"criterion_test_command": "echo json"}}]' >"$LP/rubrics.json"
	imp=$(make_step "$TID" import '{"rubrics_import": {"md_file": "TASK_DATA.md"}}')
	# the seed: "When rubrics.json is present in the task directory, it is
	# prioritized, and the markdown file is ignored"
	run_ts 0 step run "$imp"
	out_has "success: 1 criterion imported from rubrics.json"
	err_has "note: using rubrics.json; md_file TASK_DATA.md ignored"
	run_ts 0 step info "$imp" --json
	assert_json_eq 'd["results"]["rubric_file"]' '"rubrics.json"'
	assert_json_eq 'd["results"]["md_file_ignored"]' '"TASK_DATA.md"'
	assert_json_eq '[c["criterion_id"] for c in d["results"]["criteria"]]' '["from-json"]'
	run_ts 0 step run "$imp"
	out_has "fresh"

	# rubrics.json changes (it is no input of the step's): run again
	printf '[{"rubricItemId": "changed", "forms": {"criterion_test_command": "true"}}]' >"$LP/rubrics.json"
	run_ts 0 step run "$imp"
	out_has "success: 1 criterion imported from rubrics.json"
	run_ts 0 step info "$imp" --json
	assert_json_eq '[c["criterion_id"] for c in d["results"]["criteria"]]' '["changed"]'

	# rubrics.json goes: the Markdown is read
	rm "$LP/rubrics.json"
	run_ts 0 step run "$imp"
	out_has "success: 1 criterion imported from TASK_DATA.md"
	err_lacks "ignored"
	run_ts 0 step info "$imp" --json
	assert_json_eq 'd["results"]["rubric_file"]' '"TASK_DATA.md"'
	assert_json_eq '"md_file_ignored" in d["results"]' 'false'
	run_ts 0 step run "$imp"
	out_has "fresh"

	# and when it comes back, it is used again
	printf '[{"rubricItemId": "back", "forms": {"criterion_test_command": "true"}}]' >"$LP/rubrics.json"
	run_ts 0 step run "$imp"
	out_has "success: 1 criterion imported from rubrics.json"
}

@test "task report reads a criterion's required as rubric imports do: \"yes\" is required" {
	make_step "$TID" set '{"file_exists": "x"}' >/dev/null
	make_step_unchecked "$TID" "Rubric 1: a" '{"rubric_shell": {"command": "true", "criterion_id": "a",
		"score": 1, "required": "yes", "depends_on": [{"id": 1}]}}' >/dev/null
	make_step_unchecked "$TID" "Rubric 2: b" '{"rubric_shell": {"command": "true", "criterion_id": "b",
		"score": 1, "required": "No", "depends_on": [{"id": 1}]}}' >/dev/null
	run_ts 0 task report "$TID" --json
	assert_json_eq '[c["required"] for c in d["criteria"]]' '[true, false]'
}
