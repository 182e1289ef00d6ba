#!/usr/bin/env bats
# model_task_check: building the grader prompt from a template (spec §7.9).
# Placeholders, the 256,000-byte limit for inlining the held-out patch,
# freshness, missing inputs, and settings that stay as written.

# On SQLite only (any-backend, docs/testing.md): on PostgreSQL these tests
# reach no line of src/store/ that the rest of tests/cli does not.
# bats file_tags=any-backend
load helpers

setup() {
	ts_setup
	PROJ="$BATS_TEST_TMPDIR/proj"
	mkdir -p "$PROJ"
	printf 'Task: {YOUR_TASK_PROMPT}\nRubric: {YOUR_RUBRIC}\n<held_out_test_patch>{held_out_test_patch}</held_out_test_patch>\nAgain: {YOUR_TASK_PROMPT}\n' >"$PROJ/template.md"
	printf 'Fix the {YOUR_RUBRIC} bug' >"$PROJ/prompt.md"
	printf '[{"rubricItemId": "a"}]' >"$PROJ/rubrics.json"
	printf 'diff --git a/t b/t\n' >"$PROJ/held_out_tests.patch"
	printf 'why\n' >"$PROJ/explanation.md"
	make_task demo --local_path "$PROJ" >/dev/null
	SETTINGS='{"model_task_check": {"model_prompt_sample": "template.md", "task_prompt": "prompt.md", "rubrics_json": "rubrics.json", "held_out_tests": "held_out_tests.patch", "task_explanation": "explanation.md", "generated_file": "grader_prompt.md"}}'
}

settings_of() {
	ts step info "$1" --json | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["settings"], sort_keys=True))'
}

# a file of N bytes of 'x'
bytes_file() {
	head -c "$2" /dev/zero | tr '\0' x >"$1"
}

@test "model_task_check replaces every placeholder once, inlines the patch and records what it wrote" {
	make_step 1 prompt "$SETTINGS" >/dev/null
	before=$(settings_of 1)
	run_ts 0 step run 1
	out_has "Processing step ID 1 (prompt)... success: wrote grader_prompt.md (160 bytes, held-out patch inlined)"
	expected=$'Task: Fix the {YOUR_RUBRIC} bug\nRubric: [{"rubricItemId": "a"}]\n<held_out_test_patch>diff --git a/t b/t\n</held_out_test_patch>\nAgain: Fix the {YOUR_RUBRIC} bug'
	[[ $(cat "$PROJ/grader_prompt.md") == "$expected" ]] || fail "generated: $(cat "$PROJ/grader_prompt.md")"
	[[ $(stat -c %a "$PROJ/grader_prompt.md") == 644 ]] || fail "mode $(stat -c %a "$PROJ/grader_prompt.md")"
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["generated_file"]' '"grader_prompt.md"'
	assert_json_eq 'd["results"]["bytes"]' '160'
	assert_json_eq 'd["results"]["attached"]' 'false'
	[[ $(settings_of 1) == "$before" ]] || fail "settings changed: $before -> $(settings_of 1)"
	# no temporary file is left behind
	[[ -z $(find "$PROJ" -name '.grader_prompt.md.tmp-*') ]] || fail "temporary file left"
}

@test "model_task_check is fresh until an input changes or the generated file is gone" {
	make_step 1 prompt "$SETTINGS" >/dev/null
	run_ts 0 step run 1
	out_has "success: wrote grader_prompt.md"
	run_ts 0 step run 1
	out_has "Processing step ID 1 (prompt)... fresh"
	rm "$PROJ/grader_prompt.md"
	run_ts 0 step run 1
	out_has "success: wrote grader_prompt.md"
	[[ -f $PROJ/grader_prompt.md ]]
	# task_explanation is never read, but it is an input
	printf 'changed\n' >>"$PROJ/explanation.md"
	run_ts 0 step run 1
	out_has "success: wrote grader_prompt.md"
	run_ts 0 step run 1 --dry-run
	out_has "fresh"
}

@test "model_task_check with force in its settings runs every time" {
	make_step 1 prompt "${SETTINGS%\}\}}, \"force\": true}}" >/dev/null
	run_ts 0 step run 1
	out_has "success: wrote grader_prompt.md"
	run_ts 0 step run 1
	out_has "success: wrote grader_prompt.md"
}

@test "model_task_check attaches a held-out patch that would make the prompt longer than 256,000 bytes" {
	make_step 1 prompt "$SETTINGS" >/dev/null
	# template without the patch block: 5 bytes of other text
	printf 'P={YOUR_TASK_PROMPT}\n{held_out_test_patch}\n' >"$PROJ/template.md"
	printf 'p' >"$PROJ/prompt.md"
	# exactly 256,000 bytes: still inlined
	bytes_file "$PROJ/held_out_tests.patch" $((256000 - 5))
	run_ts 0 step run 1
	out_has "success: wrote grader_prompt.md (256000 bytes, held-out patch inlined)"
	# one byte more: the bare placeholder gives way
	bytes_file "$PROJ/held_out_tests.patch" $((256000 - 4))
	run_ts 0 step run 1
	out_has "held-out patch attached"
	[[ $(cat "$PROJ/grader_prompt.md") == $'P=p\nheld_out_test_patch is provided as an attached file' ]] ||
		fail "generated: $(head -c 200 "$PROJ/grader_prompt.md")"
	run_ts 0 step info 1 --json
	assert_json_eq 'd["results"]["attached"]' 'true'
	# with the block, the whole block gives way
	printf 'A <held_out_test_patch>{held_out_test_patch}</held_out_test_patch> B\n' >"$PROJ/template.md"
	run_ts 0 step run 1
	[[ $(cat "$PROJ/grader_prompt.md") == 'A held_out_test_patch is provided as an attached file B' ]] ||
		fail "generated: $(head -c 200 "$PROJ/grader_prompt.md")"
}

@test "model_task_check fails naming a missing input or setting" {
	make_step 1 prompt "$SETTINGS" >/dev/null
	rm "$PROJ/rubrics.json"
	run_ts 1 step run 1
	out_has "failure: cannot read rubrics_json '$PROJ/rubrics.json': No such file or directory"
	[[ ! -e $PROJ/grader_prompt.md ]]
	printf '[]' >"$PROJ/rubrics.json"
	rm "$PROJ/explanation.md"
	run_ts 1 step run 1
	out_has "failure: cannot read task_explanation '$PROJ/explanation.md'"
	make_step 1 unset '{"model_task_check": {"model_prompt_sample": "template.md", "generated_file": "x.md"}}' >/dev/null
	run_ts 1 step run 2
	out_has "failure: model_task_check.task_prompt is not set"
	make_step 1 nodir "${SETTINGS/grader_prompt.md/missing\/out.md}" >/dev/null
	printf 'why\n' >"$PROJ/explanation.md"
	run_ts 1 step run 3
	out_has "failure: cannot write generated_file: cannot create a temporary file in '$PROJ/missing'"
}
