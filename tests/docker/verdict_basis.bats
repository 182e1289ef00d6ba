#!/usr/bin/env bats
# A verdict holds only while what decided it is unchanged: each candidate's
# result records its basis (image, container, timeout, markers, command, the
# patches' content, base commit, version), `task run` grades again exactly
# the cells whose basis differs from today's, --dry-run says which and why,
# and `task report` marks them stale until then.
#
# Each test builds the demo repository (examples/demo) into an image of its
# own with docker_build, keeps four containers of it with docker_pool
# (original, golden, solution1, solution2) and grades criteria of its own
# (rubrics.json in $LP) through rubric_set, whose generated steps depend on
# the rubric_set step, not on the pool.

load docker_helpers
load grid_helpers

COLS='["solution1.patch", "solution2.patch", "original", "golden"]'
FLAG_CMD="test -e /opt/flag && echo '#__PASS__#' || echo '#__FAIL__#'"

# rubrics NAME=COMMAND...: rubrics.json in $LP, one criterion per argument
rubrics() {
	python3 - "$LP/rubrics.json" "$@" <<-'EOF'
		import json, sys
		items = []
		for i, arg in enumerate(sys.argv[2:]):
		    name, cmd = arg.split("=", 1)
		    items.append({"rubricItemId": name, "criterion": name, "score": 1,
		                  "forms": {"f1": {"criterion_test_command": cmd}}})
		json.dump(items, open(sys.argv[1], "w"), indent=2)
	EOF
}

# basis_flow NAME=COMMAND...: the demo repository with two solutions, golden
# and the held-out tests in $LP, a task on it (TID, app folder /app), docker_build (BUILD,
# a tag of this test's own) -> docker_pool of four roles (POOL) ->
# rubric_set (RS) on the criteria given. Nothing has run.
basis_flow() {
	local f
	mkdir -p "$LP/repo"
	cp -R "$REPO_ROOT/examples/demo/repo/." "$LP/repo/"
	for f in Dockerfile solution1.patch solution2.patch golden.patch held_out_tests.patch; do
		cp "$REPO_ROOT/examples/demo/$f" "$LP/"
	done
	rubrics "$@"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set app_folder=/app >/dev/null
	BUILD=$(make_step "$TID" build "{\"docker_build\": {\"image_tag\": \"task-sync-test/basis:t$TID\",
		\"files\": [\"Dockerfile\", \"repo/calc.py\"]}}")
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"roles\": [\"original\", \"golden\", \"solution1\", \"solution2\"],
		\"depends_on\": [{\"id\": $BUILD}]}}")
	RS=$(make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"rubrics.json\", \"depends_on\": [{\"id\": $POOL}]}}")
}

# runs_of STEP: how many step_runs rows STEP has per candidate, as JSON
runs_of() {
	json_get 'dict(__import__("collections").Counter(r["detail"]["candidate"] for r in d if r.get("detail")))' \
		"$("$TS_BIN" step runs "$1" --json)"
}

# stale_cells: {step ID: {candidate: stale_reason}} of `task report --json`
stale_cells() {
	"$TS_BIN" task report "$TID" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(json.dumps({str(c["step_id"]): {k: v["stale_reason"] for k, v in c["cells"].items() if v["stale"]} for c in d["criteria"]}, sort_keys=True, ensure_ascii=False))'
}

image_id() {
	docker image inspect --format '{{.Id}}' "task-sync-test/basis:t$TID"
}

@test "each cell records what decided it" {
	basis_flow "flag=$FLAG_CMD"
	run_ts 0 task run "$TID" --golden
	k=$(children "$RS")
	run_ts 0 step info "$k" --json
	assert_json_eq 'sorted(d["results"]["solution1.patch"]["basis"])' '["app_folder", "base_commit", "command",
		"container_id", "fail_marker", "held_out_tests", "image_id", "pass_marker", "patch", "pre_patch",
		"task_sync", "timeout_marker", "timeout_s"]'
	b='d["results"]["solution1.patch"]["basis"]'
	assert_json_eq "$b[\"image_id\"]" "\"$(image_id)\""
	assert_json_eq "$b[\"container_id\"]" "\"$(docker inspect --format '{{.Id}}' "task_${TID}_volume_solution1_$DB8")\""
	assert_json_eq "$b[\"patch\"]" "\"$(sha256sum <"$LP/solution1.patch" | cut -d' ' -f1)\""
	assert_json_eq "$b[\"timeout_s\"]" 120
	assert_json_eq "$b[\"pass_marker\"]" '"#__PASS__#"'
	assert_json_eq "$b[\"command\"]" "$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$FLAG_CMD")"
	assert_json_eq "$b[\"held_out_tests\"]" "\"$(sha256sum <"$LP/held_out_tests.patch" | cut -d' ' -f1)\""
	assert_json_eq "$b[\"pre_patch\"]" null
	assert_json_eq "$b[\"task_sync\"]" "\"$("$TS_BIN" --version | cut -d' ' -f2)\""
	assert_json_eq 'd["results"]["original"]["basis"]["patch"]' null
	assert_json_eq 'd["results"]["golden"]["basis"]["patch"]' "\"$(sha256sum <"$LP/golden.patch" | cut -d' ' -f1)\""
	# docker_pool records the image each container runs
	[[ $(task_json "$TID" 'd["settings"]["containers_map"]["golden"]["image_id"]') == "\"$(image_id)\"" ]]
}

@test "a rebuilt image regrades every cell: a FAIL that now passes becomes PASS; the report and --dry-run say why before the run, nothing is stale after" {
	basis_flow "flag=$FLAG_CMD"
	run_ts 0 task run "$TID" --golden
	assert_grid '[["FAIL","FAIL","FAIL","FAIL"]]'
	k=$(children "$RS")
	old=$(image_id)
	[[ $(stale_cells) == "{\"$k\": {}}" ]] || fail "stale before anything changed: $(stale_cells)"

	echo 'RUN mkdir -p /opt && echo yes >/opt/flag' >>"$LP/Dockerfile"
	run_ts 0 step run "$BUILD"
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	new=$(image_id)
	[[ $old != "$new" ]] || fail "the image did not change"
	# the report says which cells no longer hold, and why
	run_ts 0 task report "$TID"
	out_has "❌*❌*❔ ❔ ❌*❌* $k Rubric 1: flag"
	out_has "* stale: graded under other conditions than today's (4 cells; --json says why)"
	reason=$(stale_cells | python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]]["solution1.patch"])' "$k")
	[[ $reason == "image ${old:0:19}… → ${new:0:19}…, container "*"… → "*"…" ]] || fail "stale reason: $reason"
	# a dry run says what the run will do
	run_ts 0 task run "$TID" --golden --dry-run
	out_has "step $k (Rubric 1: flag): would run (solution1.patch: image ${old:0:19}… → ${new:0:19}…, container "
	out_has "; 3 more cells)"
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID $k (Rubric 1: flag)... success: graded 4: 4 PASS"
	assert_grid '[["PASS","PASS","PASS","PASS"]]'
	[[ $(stale_cells) == "{\"$k\": {}}" ]] || fail "stale after the run: $(stale_cells)"
	run_ts 0 task report "$TID"
	out_lacks "stale"
	out_has "✅ ✅ ❔ ❔ ✅ ✅ $k Rubric 1: flag"
	[[ $(results "$k" '["golden"]["basis"]["image_id"]') == "\"$new\"" ]]
}

@test "a recreated container regrades the cells graded in it, and no other" {
	basis_flow "flag=$FLAG_CMD" "again=$FLAG_CMD"
	run_ts 0 task run "$TID" --golden
	read -ra kids <<<"$(children "$RS")"
	docker rm -f "task_${TID}_volume_solution2_$DB8" >/dev/null
	run_ts 0 task run "$TID" --golden
	for k in "${kids[@]}"; do
		grep -q "^Processing step ID $k (.*)\.\.\. success: graded 1: " <<<"$output" ||
			fail "step $k: $output"
		[[ $(runs_of "$k") == '{"golden":1,"original":1,"solution1.patch":1,"solution2.patch":2}' ]] ||
			fail "runs of $k: $(runs_of "$k")"
	done
	out_has "  keeping 3 verdicts graded under today's conditions"
}

@test "TIMEOUT_SECONDS raised: a TIMEOUT becomes PASS; the dry run names the timeout" {
	write_conf TIMEOUT_SECONDS=2
	basis_flow "slow=sleep 4; echo '#__PASS__#'"
	run_ts 0 task run "$TID"
	k=$(children "$RS")
	assert_grid '[["TIMEOUT","TIMEOUT",null,null]]'
	write_conf TIMEOUT_SECONDS=30
	run_ts 0 task run "$TID" --dry-run
	out_has "step $k (Rubric 1: slow): would run (solution1.patch: timeout 2 s → 30 s; 1 more cell)"
	run_ts 0 task run "$TID"
	assert_grid '[["PASS","PASS",null,null]]'
	# the task's own timeout_seconds is the one in force
	run_ts 0 task edit "$TID" --set timeout_seconds=2
	run_ts 0 task run "$TID" --dry-run
	out_has "step $k (Rubric 1: slow): would run (solution1.patch: timeout 30 s → 2 s; 1 more cell)"
}

@test "changed markers regrade the cells; a step's mode keeps the other candidates' cells" {
	basis_flow "ok=echo '#__OK__#'"
	run_ts 0 task run "$TID" --golden
	k=$(children "$RS")
	assert_grid '[["ERROR","ERROR","ERROR","ERROR"]]'
	[[ $(cand "$k" golden reason) == '"no verdict: the command printed no marker (exit code 0)"' ]]
	write_conf 'PASS_MARKER=#__OK__#'
	run_ts 0 task run "$TID" --dry-run
	out_has "step $k (Rubric 1: ok): would run (solution1.patch: PASS_MARKER '#__PASS__#' → '#__OK__#'; 1 more cell)"
	run_ts 0 task run "$TID"
	# without --golden only the solutions are graded again
	assert_grid '[["PASS","PASS","ERROR","ERROR"]]'
	[[ $(runs_of "$k") == '{"golden":1,"original":1,"solution1.patch":2,"solution2.patch":2}' ]] ||
		fail "runs: $(runs_of "$k")"
	[[ $(json_get "sorted(d['$k'])" "$(stale_cells)") == '["golden","original"]' ]] || fail "$(stale_cells)"
	run_ts 0 task run "$TID" --golden
	assert_grid '[["PASS","PASS","PASS","PASS"]]'
	[[ $(runs_of "$k") == '{"golden":2,"original":2,"solution1.patch":2,"solution2.patch":2}' ]] ||
		fail "runs: $(runs_of "$k")"
}

@test "one solution patch changed: exactly its cells are graded again; then nothing changed and nothing is graded" {
	basis_flow "flag=$FLAG_CMD" "again=$FLAG_CMD"
	run_ts 0 task run "$TID" --golden
	read -ra kids <<<"$(children "$RS")"
	# new content for solution2.patch (a mail header git apply skips)
	printf 'Subject: [PATCH] divide\n\n%s\n' "$(cat "$LP/solution2.patch")" >"$LP/solution2.patch"
	run_ts 0 task run "$TID" --golden --dry-run
	for k in "${kids[@]}"; do
		out_has "step $k ("
		grep -q "^step $k (.*): would run (input changed: solution2.patch)$" <<<"$output" || fail "dry run: $output"
	done
	run_ts 0 task run "$TID" --golden
	for k in "${kids[@]}"; do
		[[ $(runs_of "$k") == '{"golden":1,"original":1,"solution1.patch":1,"solution2.patch":2}' ]] ||
			fail "runs of $k: $(runs_of "$k")"
	done
	# nothing changed: every step fresh, nothing graded
	run_ts 0 task run "$TID" --golden
	for k in "${kids[@]}"; do
		out_has "Processing step ID $k ("
		grep -q "^Processing step ID $k (.*)\.\.\. fresh: inputs, settings and dependencies unchanged$" <<<"$output" ||
			fail "step $k was not fresh"
		[[ $(runs_of "$k") == '{"golden":1,"original":1,"solution1.patch":1,"solution2.patch":2}' ]] ||
			fail "runs of $k: $(runs_of "$k")"
	done
	out_lacks "grading"
	run_ts 0 task run "$TID" --golden --dry-run
	out_lacks "would run (solution"
}
