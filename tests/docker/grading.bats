#!/usr/bin/env bats
# Grading end to end with the demo task (examples/demo: solution1 is right,
# solution2 wrong, solution3 hangs, solution4 does not apply): the grid, every
# outcome class and its reason, timeouts that leave nothing running, markers
# that only count in the command's output, Markdown rubrics, reconciling the
# generated steps, Ctrl-C, the golden/original modes, dead containers,
# regrade and freshness.
#
# Each test copies the demo folder to its own task folder ($LP) and uses its
# own task, so its containers are task_<TID>_volume_<role>_<DB8> (see
# docker_helpers.bash). The demo image is built once per file; the task
# setting timeout_seconds ($DEMO_TIMEOUT, grid_helpers.bash) keeps the hanging
# candidate short.

load docker_helpers
load grid_helpers

# the grid of the demo: rows Rubric 1..3 (quotient, zero, add), columns
# solution1..4, original, golden
COLS='["solution1.patch", "solution2.patch", "solution3.patch", "solution4.patch", "original", "golden"]'
EXPECTED='[["PASS","PASS","TIMEOUT","ERROR","FAIL","PASS"],["PASS","FAIL","TIMEOUT","ERROR","FAIL","PASS"],["PASS","PASS","PASS","ERROR","PASS","PASS"]]'

setup_file() {
	build_demo_image
}

# demo_flow: the whole demo as scripts/demo sets it up: docker_build (a tag
# of this test's own, removed by teardown with the image's labels) ->
# docker_pool -> rubric_set. Sets BUILD, POOL, RS.
demo_flow() {
	cp -R "$REPO_ROOT/examples/demo/." "$LP/"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set timeout_seconds=$DEMO_TIMEOUT --set app_folder=/app >/dev/null
	BUILD=$(make_step "$TID" build "{\"docker_build\": {\"image_tag\": \"task-sync-test/demo:t$TID\",
		\"files\": [\"Dockerfile\", \"repo/calc.py\", \"repo/tests/__init__.py\", \"repo/tests/test_add.py\"]}}")
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"pool_size\": 6, \"depends_on\": [{\"id\": $BUILD}]}}")
	RS=$(make_step "$TID" rubrics "{\"rubric_set\": {\"file\": \"rubrics.json\", \"held_out_test\": \"held_out_tests.patch\", \"depends_on\": [{\"id\": $POOL}]}}")
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ---- 1. the demo ------------------------------------------------------------

@test "the demo flow end to end (docker_build, docker_pool, rubric_set, generated rubric_shell steps, task run --golden) gives the expected grid" {
	demo_flow
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID $BUILD (build)... success: built task-sync-test/demo:t$TID"
	out_has "Processing step ID $POOL (pool)... success: 6 containers running"
	out_has "Processing step ID $RS (rubrics)... success: 3 criteria from rubrics.json: 3 created, 0 updated, 0 deleted, 0 kept"
	out_has "6 ran (6 succeeded, 0 failed), 0 fresh, 0 blocked"
	read -ra kids <<<"$(children "$RS")"
	[[ ${#kids[@]} -eq 3 ]] || fail "children: ${kids[*]}"
	for i in 0 1 2; do
		out_has "Processing step ID ${kids[i]} (Rubric $((i + 1)): "
	done
	assert_grid "$EXPECTED"
	[[ $(report_grid) == "$EXPECTED" ]] || fail "task report: $(report_grid)"
	# every candidate's entry, in its own container
	run_ts 0 step info "${kids[0]}" --json
	assert_json_eq 'sorted(k for k, v in d["results"].items() if isinstance(v, dict) and "status" in v)' \
		'["golden", "original", "solution1.patch", "solution2.patch", "solution3.patch", "solution4.patch"]'
	assert_json_eq 'sorted(d["results"]["golden"])' '["basis", "container", "duration_ms", "exit_code", "output", "reason", "run_id", "status"]'
	assert_json_eq '[d["results"][k]["container"] for k in ["solution1.patch", "solution4.patch", "original", "golden"]]' \
		"[\"task_${TID}_volume_solution1_$DB8\", \"task_${TID}_volume_solution4_$DB8\", \"task_${TID}_volume_original_$DB8\", \"task_${TID}_volume_golden_$DB8\"]"
	assert_json_eq 'd["results"]["message"]' '"graded 6: 3 PASS, 1 FAIL, 1 TIMEOUT, 1 ERROR"'
	# the report's check: the rubric passes on golden; only "add" passes on the original
	run_ts 0 task report "$TID" --json
	assert_json_eq 'd["check"]' "{\"fail_on_golden\": [], \"pass_on_original\": [${kids[2]}]}"
	assert_json_eq '[d["candidates"][k]["score"] for k in ["solution1.patch", "solution2.patch", "solution3.patch", "solution4.patch", "original", "golden"]]' \
		'[8, 5, 1, 0, 1, 8]'
}

# ---- 2. outcome classes -----------------------------------------------------

@test "PASS, FAIL, TIMEOUT and ERROR on the demo, with their reasons; the timed-out container is left clean" {
	demo_task
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children "$RS")"
	run_ts 0 step run "${kids[0]}" --golden
	out_has "grading 6 candidates (timeout $DEMO_TIMEOUT s)"
	out_has "success: graded 6: 3 PASS, 1 FAIL, 1 TIMEOUT, 1 ERROR"
	s=${kids[0]}
	[[ $(cand "$s" solution1.patch status) == '"PASS"' && $(cand "$s" solution1.patch reason) == null ]]
	[[ $(cand "$s" solution1.patch exit_code) == 0 ]]
	[[ $(cand "$s" original status) == '"FAIL"' && $(cand "$s" original reason) == null ]]
	[[ $(cand "$s" solution3.patch status) == '"TIMEOUT"' ]]
	reason=$(cand "$s" solution3.patch reason)
	[[ $reason =~ ^\"timed\ out\ after\ [0-9]+\ ms\ \(limit\ $DEMO_TIMEOUT\ s\)\"$ ]] || fail "TIMEOUT reason: $reason"
	ms=$(cand "$s" solution3.patch duration_ms)
	((ms >= DEMO_TIMEOUT * 1000 - 50 && ms < DEMO_TIMEOUT * 1000 + 5000)) || fail "duration $ms ms"
	[[ $(cand "$s" solution4.patch status) == '"ERROR"' ]]
	[[ $(cand "$s" solution4.patch reason) == '"patch solution4.patch does not apply"' ]]
	[[ $(cand "$s" solution4.patch exit_code) == null ]]
	[[ $(cand "$s" solution4.patch output) == *"error: calc.py: patch does not apply"* ]]
	only_keepalive "task_${TID}_volume_solution3_$DB8"
}

@test "a timeout kills everything the command started, even what left the process group; so does the sweep after a normal exit" {
	one_container
	s1=$(shell_step bg "bash -c 'sleep 1000 & sleep 1000'")
	s2=$(shell_step escape "setsid sleep 1000 & sleep 1000")
	s3=$(shell_step passes "setsid sleep 1000 & echo '#__PASS__#'")
	for s in "$s1" "$s2"; do
		t0=$(now_ms)
		run_ts 0 step original "$s"
		(($(now_ms) - t0 < 3000 + 5000)) || fail "took $(($(now_ms) - t0)) ms"
		[[ $(cand "$s" original status) == '"TIMEOUT"' ]] || fail "step $s: $(results "$s" "")"
		[[ $(cand "$s" original reason) == *"(limit 3 s)"* ]]
		[[ $(cand "$s" original exit_code) == 124 ]]
		only_keepalive "$C"
	done
	run_ts 0 step original "$s3"
	[[ $(cand "$s3" original status) == '"PASS"' ]]
	only_keepalive "$C"
	# a double fork into a new session; a name that fakes its stat line
	# ("a) S 1 1 1" then a newline: the first line reads as session 1)
	s4=$(shell_step double "setsid sh -c 'sleep 1000 &'; echo '#__PASS__#'")
	s5=$(shell_step faker "f=\$(printf '/tmp/a) S 1 1 1\\nx'); cp /bin/sleep \"\$f\"; \"\$f\" 1000 & echo '#__PASS__#'")
	s6=$(shell_step spaces "cp /bin/sleep '/tmp/x y z'; '/tmp/x y z' 1000 & echo '#__PASS__#'")
	for s in "$s4" "$s5" "$s6"; do
		run_ts 0 step original "$s"
		[[ $(cand "$s" original status) == '"PASS"' ]] || fail "step $s: $(results "$s" "")"
		[[ $(cand "$s" original cleanup) == null ]] || fail "step $s: $(results "$s" "")"
		only_keepalive "$C"
	done
}

@test "processes that ran before the item (a service, a docker exec -d) survive grading, its timeout and its sweep" {
	one_container
	docker exec -d "$C" sh -c 'exec sleep 2001'
	docker exec -d "$C" sh -c 'sleep 2002 & exec sleep 2003'
	sleep 0.3
	before=$(docker exec "$C" ps -eo pid=,args= | grep 'sleep 200[123]' | sort)
	[[ $(wc -l <<<"$before") -eq 3 ]] || fail "the services did not start: $before"
	s1=$(shell_step left "sleep 1000 & echo '#__PASS__#'")
	s2=$(shell_step hangs "setsid sleep 1000 & sleep 1000")
	run_ts 0 step original "$s1"
	[[ $(cand "$s1" original status) == '"PASS"' ]]
	run_ts 0 step original "$s2"
	[[ $(cand "$s2" original status) == '"TIMEOUT"' ]]
	after=$(docker exec "$C" ps -eo pid=,args= | grep 'sleep 200[123]' | sort)
	[[ $after == "$before" ]] || fail "services killed: before"$'\n'"$before"$'\n'"after"$'\n'"$after"
	[[ $(docker exec "$C" ps -eo args= | grep -c '^sleep 1000') -eq 0 ]] || fail "$(docker exec "$C" ps -ef)"
}

@test "two candidates in one container run one after the other; two task-sync processes grading one container wait for each other" {
	one_container
	# fails when another item runs in the container at the same time
	cmd="mkdir /tmp/busy || { echo '#__FAIL__# overlap'; exit 1; }; sleep 1; rmdir /tmp/busy; echo '#__PASS__#'"
	s=$(shell_step same "$cmd" "{\"assign_containers\": {\"solution1.patch\": \"$C\", \"solution2.patch\": \"$C\"}}")
	t0=$(now_ms)
	run_ts 0 step run "$s"
	out_has "graded 2: 2 PASS, 0 FAIL, 0 TIMEOUT, 0 ERROR"
	(($(now_ms) - t0 >= 2000)) || fail "the two items overlapped: $(($(now_ms) - t0)) ms"
	[[ $(cand "$s" solution1.patch container) == "\"$C\"" && $(cand "$s" solution2.patch container) == "\"$C\"" ]]
	# another process, for another task graded in the same container: the
	# container's lock orders them. (A container task-sync made is one
	# task's only; the user's own, unlabelled, may be shared.)
	shared=ts-shared-$TID
	cleanup_later container "$shared"
	docker run -d --init --network none --name "$shared" "$DEMO_TAG" sleep infinity >/dev/null
	a=$(shell_step a "$cmd" "{\"assign_containers\": {\"solution1.patch\": \"$shared\"}}")
	t2=$("$TS_BIN" task create --name other --local_path "$LP" --quiet)
	b=$(make_step "$t2" b "{\"rubric_shell\": {\"command\": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$cmd"), \"assign_containers\": {\"solution1.patch\": \"$shared\"}}}")
	"$TS_BIN" step run "$a" >"$BATS_TEST_TMPDIR/a.log" 2>&1 3>&- &
	pid=$!
	sleep 0.2
	run_ts 0 step run "$b"
	wait "$pid" || fail "step $a: $(cat "$BATS_TEST_TMPDIR/a.log")"
	[[ $(cand "$a" solution1.patch status) == '"PASS"' ]] || fail "a: $(results "$a" "")"
	[[ $(cand "$b" solution1.patch status) == '"PASS"' ]] || fail "b: $(results "$b" "")"
	only_keepalive "$shared"
	# a task-sync container of this task is refused to the other task
	b2=$(make_step "$t2" b2 "{\"rubric_shell\": {\"command\": \"echo '#__PASS__#'\", \"assign_containers\": {\"solution1.patch\": \"$C\"}}}")
	# no verdict on the candidate: an infrastructure failure (exit 1)
	run_ts 1 step run "$b2"
	[[ $(cand "$b2" solution1.patch reason) == "\"container '$C' is not this task's (this database, task $TID, step $POOL): task-sync runs nothing in another database's or task's container\"" ]] || fail "b2: $(results "$b2" "")"
}

@test "a command that kills the harness is ERROR, never PASS, and its container is restarted clean" {
	one_container
	# $PPID is timeout; its parent is the harness shell
	s=$(shell_step killer "echo '#__PASS__#'; sleep 1000 & kill -9 \$(awk '{print \$4}' /proc/\$PPID/stat)")
	id0=$(docker inspect --format '{{.State.StartedAt}}' "$C")
	# no trailer after the command: the machinery cannot tell the command
	# from a daemon or container that died, so it is never the candidate's
	# verdict: an infrastructure failure, graded again next time (exit 1)
	run_ts 1 step original "$s"
	got=$(results "$s" "['original']")
	[[ $(cand "$s" original infrastructure) == true ]] || fail "$got"
	[[ $(cand "$s" original status) == '"ERROR"' ]] || fail "$got"
	[[ $(cand "$s" original reason) == '"the harness stopped while the command ran (it exited 137)"' ]] || fail "$got"
	[[ $(cand "$s" original cleanup) == '"container restarted: the harness stopped before its sweep"' ]] || fail "$got"
	out_has "container restarted: the harness stopped before its sweep"
	[[ $(docker inspect --format '{{.State.StartedAt}}' "$C") != "$id0" ]] || fail "not restarted"
	only_keepalive "$C"
	# the container grades again
	s2=$(shell_step fine "echo '#__PASS__#'")
	run_ts 0 step original "$s2"
	[[ $(cand "$s2" original status) == '"PASS"' && $(cand "$s2" original cleanup) == null ]]
}

@test "a command that commits, nests a repository and installs a hook cannot change what the next item starts from" {
	one_container
	base=$(task_json "$TID" "d['settings']['containers_map']['original']['base_commit']" | tr -d '"')
	[[ $base =~ ^[0-9a-f]{40}$ ]] || fail "base_commit: $base"
	[[ $(docker exec "$C" git -C /app rev-parse HEAD) == "$base" ]]
	s1=$(shell_step poison "echo broken >calc.py && git -c user.name=x -c user.email=x@x commit -qam poison &&
		mkdir sub && git -C sub init -q && touch sub/f &&
		printf '#!/bin/sh\ntouch /tmp/hooked\n' >.git/hooks/post-checkout && chmod +x .git/hooks/post-checkout &&
		echo '#__PASS__#'")
	run_ts 0 step original "$s1"
	[[ $(cand "$s1" original status) == '"PASS"' ]] || fail "$(results "$s1" "['original']")"
	[[ $(docker exec "$C" git -C /app rev-parse HEAD) != "$base" ]]
	s2=$(shell_step check "test \"\$(git rev-parse HEAD)\" = $base && ! grep -q broken calc.py && test ! -e sub && test ! -e /tmp/hooked && echo '#__PASS__#' || { git log --oneline -3; ls; ls /tmp; echo '#__FAIL__#'; }")
	run_ts 0 step original "$s2"
	[[ $(cand "$s2" original status) == '"PASS"' ]] || fail "$(results "$s2" "['original']")"
}

@test "an empty candidate patch is ERROR empty patch, never graded as the original" {
	one_container
	: >"$LP/empty.patch"
	s=$(shell_step empty "echo '#__PASS__#'" "{\"assign_containers\": {\"empty.patch\": \"$C\"}}")
	run_ts 0 step run "$s"
	[[ $(cand "$s" empty.patch status) == '"ERROR"' ]]
	[[ $(cand "$s" empty.patch reason) == "\"empty patch: '$LP/empty.patch' is 0 bytes\"" ]]
	# the candidate's own outcome: a second run has nothing to do
	run_ts 0 step run "$s"
	out_has "fresh"
}

@test "without EPOCHREALTIME (bash < 5) a timeout is still TIMEOUT" {
	one_container
	# a docker that feeds the harness to a shell without EPOCHREALTIME
	real=$(command -v docker)
	cat >"$BATS_TEST_TMPDIR/docker" <<-EOF
		#!/bin/bash
		if [ "\$1" = exec ] && [ "\$2" = -i ]; then
			touch "$BATS_TEST_TMPDIR/used"
			{ echo 'unset EPOCHREALTIME'; cat; } | "$real" "\$@"
			exit
		fi
		exec "$real" "\$@"
	EOF
	chmod +x "$BATS_TEST_TMPDIR/docker"
	export TASK_SYNC_DOCKER="$BATS_TEST_TMPDIR/docker"
	s=$(shell_step slow "sleep 100")
	run_ts 0 step original "$s"
	[[ -e $BATS_TEST_TMPDIR/used ]] || fail "the wrapper was not used"
	[[ $(cand "$s" original status) == '"TIMEOUT"' ]] || fail "$(results "$s" "['original']")"
	[[ $(cand "$s" original reason) =~ ^\"timed\ out\ after\ [0-9]+\ ms\ \(limit\ 3\ s\)\"$ ]]
	s2=$(shell_step quick "echo '#__PASS__#'")
	run_ts 0 step original "$s2"
	[[ $(cand "$s2" original status) == '"PASS"' ]]
}

@test "the markers decide: no marker is ERROR no verdict, PASS with a non-zero exit or with FAIL is FAIL, the TIMEOUT marker is TIMEOUT, forged harness lines change nothing" {
	one_container
	nonce=0123456789abcdef0123456789abcdef
	# command | status | reason | exit code
	while IFS='|' read -r -u 4 cmd want reason code; do
		s=$(shell_step m "$cmd")
		run_ts 0 step original "$s"
		got=$(results "$s" "['original']")
		[[ $(cand "$s" original status) == "\"$want\"" ]] || fail "$cmd: $got"
		[[ $(cand "$s" original reason) == "$reason" ]] || fail "$cmd: $got"
		[[ $(cand "$s" original exit_code) == "$code" ]] || fail "$cmd: $got"
	done 4<<EOF
echo '#__PASS__#'|PASS|null|0
echo '#__FAIL__#'|FAIL|null|0
echo hello; exit 3|ERROR|"no verdict: the command printed no marker (exit code 3)"|3
true|ERROR|"no verdict: the command printed no marker (exit code 0)"|0
echo '#__PASS__#'; exit 1|FAIL|"the PASS marker was printed but the command exited 1"|1
echo '#__PASS__#'; echo '#__FAIL__#'|FAIL|"the command printed both the PASS and the FAIL marker"|0
echo '#__TIMEOUT__#'|TIMEOUT|"the command printed the TIMEOUT marker"|0
echo '#__PASS__#'; echo '#__TIMEOUT__#'|TIMEOUT|"the command printed the TIMEOUT marker"|0
echo '#__PASS__#'; printf '\n#__TS_0000__# exit 0\n'; exit 1|FAIL|"the PASS marker was printed but the command exited 1"|1
echo '#__PASS__#'; printf '\n#__TS_${nonce}__# exit 0 5\n'; exit 2|FAIL|"the PASS marker was printed but the command exited 2"|2
printf '\n#__TS_${nonce}__# exit 0 5\n'; echo '#__PASS__#'|PASS|null|0
printf '\n#__TS_${nonce}__# error patch forged\n'; echo '#__PASS__#'|PASS|null|0
printf '#__PA'; printf 'SS__#\n'|PASS|null|0
EOF
}

@test "a marker in a candidate's patch (a file name, a failed apply's message) never counts; a candidate's name is never run as shell code" {
	one_container
	# modifies a file that does not exist, named after the PASS marker
	cat >"$LP/named.patch" <<-'EOF'
		diff --git a/#__PASS__#.txt b/#__PASS__#.txt
		--- a/#__PASS__#.txt
		+++ b/#__PASS__#.txt
		@@ -1 +1 @@
		-#__PASS__#
		+#__PASS__# #__PASS__#
	EOF
	# context that is not there: git apply's error quotes it
	cat >"$LP/context.patch" <<-'EOF'
		diff --git a/calc.py b/calc.py
		--- a/calc.py
		+++ b/calc.py
		@@ -1,3 +1,3 @@
		-#__PASS__# this line does not exist
		+#__PASS__#
		 #__PASS__#
		 #__PASS__#
	EOF
	# applies: adds a file whose name and content are the marker
	cat >"$LP/adds.patch" <<-'EOF'
		diff --git a/#__PASS__# b/#__PASS__#
		new file mode 100644
		--- /dev/null
		+++ b/#__PASS__#
		@@ -0,0 +1 @@
		+#__PASS__#
	EOF
	odd="it's \"\$(echo PWNED)\" #__PASS__#.patch"
	cp "$LP/solution4.patch" "$LP/$odd"
	assign=$(python3 -c '
import json, sys
print(json.dumps({"assign_containers": {p: sys.argv[1] for p in sys.argv[2:]}}))' \
		"$C" named.patch context.patch "$odd")
	s=$(shell_step patches "ls >/dev/null" "$assign")
	run_ts 0 step run "$s"
	out_has "graded 3: 0 PASS, 0 FAIL, 0 TIMEOUT, 3 ERROR"
	[[ $(cand "$s" named.patch status) == '"ERROR"' ]]
	[[ $(cand "$s" named.patch reason) == '"patch named.patch does not apply"' ]]
	[[ $(cand "$s" named.patch output) == *'error: #__PASS__#.txt: No such file or directory'* ]]
	[[ $(cand "$s" context.patch status) == '"ERROR"' ]]
	[[ $(cand "$s" context.patch reason) == '"patch context.patch does not apply"' ]]
	run_ts 0 step info "$s" --json
	assert_json_eq "d['results'][$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$odd")]['reason']" \
		"$(python3 -c 'import json,sys; print(json.dumps("patch " + sys.argv[1] + " does not apply"))' "$odd")"
	# a patch that applies and a command that prints nothing: no verdict
	s2=$(shell_step adds "true" "{\"assign_containers\": {\"adds.patch\": \"$C\"}}")
	run_ts 0 step run "$s2"
	[[ $(cand "$s2" adds.patch status) == '"ERROR"' ]]
	[[ $(cand "$s2" adds.patch reason) == '"no verdict: the command printed no marker (exit code 0)"' ]]
	# the file was there for the command
	s3=$(shell_step sees "test -f '#__PASS__#' && echo '#__FAIL__#'" "{\"assign_containers\": {\"adds.patch\": \"$C\"}}")
	run_ts 0 step run "$s3"
	[[ $(cand "$s3" adds.patch status) == '"FAIL"' ]]
}

# bats test_tags=storage
@test "a candidate's output is stored once, in its run, and step info, step log and regrade read it there" {
	one_container
	s=$(shell_step once "echo 'hello from the item'; echo '#__PASS__#'" '{"timeout_seconds": 60}')
	run_ts 0 step original "$s"
	run_ts 0 step info "$s" --json
	assert_json_eq 'd["results"]["original"]["status"]' '"PASS"'
	rid=$(json_get 'd["results"]["original"]["run_id"]')
	out=$(json_get 'd["results"]["original"]["output"]')
	[[ $out == *'hello from the item'* ]]
	# the stored results keep no output (the basis holds the command, which
	# says the same words: look for the key)
	db_sql "SELECT results FROM steps WHERE id = $s" | python3 -c '
import json, sys
r = json.load(sys.stdin)
bad = [k for k, v in r.items() if isinstance(v, dict) and "output" in v]
sys.exit("output stored in results: %s" % bad if bad else 0)'
	[[ $(db_sql "SELECT count(*) FROM step_runs WHERE output LIKE '%hello from the item%'") == 1 ]]
	run_ts 0 step log "$s" --run "$rid" --raw
	[[ $(python3 -c 'import json, sys; print(json.loads(sys.argv[1]))' "$out") == "$output" ]]
	write_conf 'PASS_MARKER=hello from'
	run_ts 0 task regrade "$TID" --dry-run
	out_is "nothing changed"
	write_conf 'PASS_MARKER=nothing like it'
	run_ts 0 task regrade "$TID"
	out_is "step $s original: PASS -> ERROR
1 changed: 0 up, 1 down
1 cell now records today's markers"
}

# bats test_tags=storage
@test "a marker after 50 MB of output counts; the stored output keeps the head and the tail" {
	one_container
	# a limit of its own: under AddressSanitizer, reading 50 MB takes a while
	s=$(shell_step noisy "head -c 50000000 /dev/zero | tr '\\0' x; echo; echo '#__PASS__#'; head -c 100000 /dev/zero | tr '\\0' y" '{"timeout_seconds": 60}')
	run_ts 0 step original "$s"
	[[ $(cand "$s" original status) == '"PASS"' ]]
	run_ts 0 step info "$s" --json
	assert_json_eq 'len(d["results"]["original"]["output"]) < 70000' 'true'
	assert_json_eq '"bytes omitted ...]" in d["results"]["original"]["output"]' 'true'
	assert_json_eq '"#__PASS__#" in d["results"]["original"]["output"]' 'false'
}

@test "a missing golden patch makes golden ERROR, never the original graded as golden" {
	one_container golden
	s=$(shell_step quotient "python3 -m unittest tests.test_divide.TestDivide.test_quotient && echo '#__PASS__#' || echo '#__FAIL__#'")
	run_ts 0 step golden "$s"
	[[ $(cand "$s" golden status) == '"PASS"' ]]
	rm "$LP/golden.patch"
	# not the candidate's own ERROR: the step does not succeed
	run_ts 1 step golden "$s" --force
	out_has "golden           ERROR   $C: cannot read '$LP/golden.patch': No such file or directory"
	[[ $(cand "$s" golden status) == '"ERROR"' ]]
}

@test "a harness failure is ERROR naming its phase, and the step an error; the work folder goes however an item ends" {
	one_container
	s1=$(shell_step nofolder "echo '#__PASS__#'" '{"app_folder": "/nope"}')
	run_ts 1 step original "$s1"
	out_has "original         ERROR   $C: setup: no folder /nope"
	out_has "error: graded 1: 0 PASS, 0 FAIL, 0 TIMEOUT, 1 ERROR; 1 infrastructure failure (original: setup: no folder /nope), graded again on the next run"
	[[ $(cand "$s1" original reason) == '"setup: no folder /nope"' ]]
	s2=$(shell_step norepo "echo '#__PASS__#'" '{"app_folder": "/tmp"}')
	run_ts 1 step original "$s2"
	[[ $(cand "$s2" original reason) == '"reset: git reset failed"' ]]
	[[ $(cand "$s2" original output) == *"not a git repository"* ]]
	s3=$(shell_step noapply "echo '#__PASS__#'" "{\"assign_containers\": {\"solution4.patch\": \"$C\"}}")
	run_ts 0 step run "$s3"
	[[ $(cand "$s3" solution4.patch reason) == '"patch solution4.patch does not apply"' ]]
	s4=$(shell_step fine "echo '#__PASS__#'")
	run_ts 0 step original "$s4"
	[[ $(docker exec "$C" sh -c 'ls -d /tmp/task-sync.* 2>/dev/null | wc -l') == 0 ]] ||
		fail "work folders left: $(docker exec "$C" sh -c 'ls -d /tmp/task-sync.*')"
}

# bats test_tags=storage
@test "a candidate's outcome that cannot be written at once gives a warning naming the step and the candidate; the step's results still get it" {
	one_container
	s=$(shell_step fine "echo '#__PASS__#'")
	# the database refuses the candidate's run row (status PASS)
	case $TS_BACKEND in
	sqlite)
		db_sql "CREATE TRIGGER ts_test_norun BEFORE INSERT ON step_runs WHEN NEW.status = 'PASS'
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
		;;
	postgres)
		db_sql "CREATE OR REPLACE FUNCTION ts_test_norun() RETURNS trigger LANGUAGE plpgsql
			AS \$f\$ BEGIN RAISE EXCEPTION 'refused by the test'; END \$f\$;
			CREATE TRIGGER ts_test_norun BEFORE INSERT ON step_runs FOR EACH ROW
			WHEN (NEW.status = 'PASS') EXECUTE FUNCTION ts_test_norun();"
		;;
	esac
	# written with the step's results, but the step does not succeed
	run_ts 1 step original "$s"
	err_has "warning: step $s: could not record candidate original now (PASS $C); it is written with the step's results"
	out_has "1 result could not be recorded when graded"
	[[ $(cand "$s" original status) == '"PASS"' ]]
}

# ---- 3. rubric formats ------------------------------------------------------

@test "a Markdown rubric (TASK_DATA.md, ### crit-01 headers, sh fences, CRLF) drives rubric_set the same as rubrics.json" {
	demo_task TASK_DATA.md
	(cd "$LP" && python3 -c '
import json
out = ["# Demo rubric", "", "Grading criteria for the calculator.", ""]
for i, it in enumerate(json.load(open("rubrics.json")), 1):
    out += ["### crit-%02d: %s" % (i, it["rubricItemId"]), "",
            "**Score**: %s" % it["score"], "**Required**: %s" % str(it["required"]).lower(),
            "**Criterion**: %s" % it["criterion"], "", "**Held-out tests**:", "", "```sh",
            it["forms"]["f1"]["criterion_test_command"], "```", ""]
open("TASK_DATA.md", "w", newline="").write("\r\n".join(out))')
	[[ $(grep -c $'\r$' "$LP/TASK_DATA.md") -gt 30 ]] || fail "TASK_DATA.md has no CRLF"
	# the same rubric read from rubrics.json, for comparison
	imp=$(make_step "$TID" import '{"rubrics_import": {"json_file": "rubrics.json"}}')
	run_ts 0 step run "$imp"
	out_has "success: 3 criteria imported from rubrics.json"
	run_ts 0 task run "$TID" --golden
	out_has "success: 3 criteria from TASK_DATA.md: 3 created, 0 updated, 0 deleted, 0 kept"
	assert_grid "$EXPECTED"
	read -ra kids <<<"$(children "$RS")"
	json=$("$TS_BIN" step info "$imp" --json)
	for i in 0 1 2; do
		conf=$("$TS_BIN" step info "${kids[i]}" --json)
		want=$(json_get "[[c['criterion_id'], c['hash'], float(c['score']), c['required']] for c in d['results']['criteria']][$i]" "$json")
		got=$(json_get "[[c['criterion_id'], c['hash'], float(c['score']), c['required']] for c in [d['settings']['rubric_shell']]][0]" "$conf")
		[[ $got == "$want" ]] || fail "criterion $((i + 1)): $got, from rubrics.json $want"
		[[ $(json_get "d['title']" "$conf") == "\"Rubric 0$((i + 1)): $(json_get "d['results']['criteria'][$i]['criterion_id']" "$json" | tr -d '"')\"" ]]
		[[ $(json_get "d['settings']['rubric_shell']['command']" "$conf") != *'\r'* ]]
	done
	# the task's criterion -> hash map is the one rubrics.json gives
	want=$(json_get "{c['criterion_id']: c['hash'] for c in d['results']['criteria']}" "$json")
	[[ $(task_json "$TID" "d['settings']['rubric_set']") == "$want" ]]
}

# ---- 4. reconciliation ------------------------------------------------------

@test "rubric_set reconciles its steps: unchanged ones keep ID and results, a changed one keeps its ID and is regraded, a removed one is deleted; an invalid rubric changes nothing" {
	demo_task
	run_ts 0 task run "$TID" --golden
	read -ra kids <<<"$(children "$RS")"
	[[ ${#kids[@]} -eq 3 ]]
	keep=$("$TS_BIN" step info "${kids[0]}" --json)
	# criterion 2 now checks the quotient; criterion 3 is gone
	python3 - "$LP/rubrics.json" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		d[1]["forms"]["f1"]["criterion_test_command"] = "python3 -m unittest tests.test_divide.TestDivide.test_quotient && echo '#__PASS__#' || echo '#__FAIL__#'"
		del d[2]
		json.dump(d, open(sys.argv[1], "w"), indent=2)
	EOF
	run_ts 0 step run "$RS"
	out_has "success: 2 criteria from rubrics.json: 0 created, 1 updated, 1 deleted, 1 kept"
	[[ $(children "$RS") == "${kids[0]} ${kids[1]}" ]]
	[[ $("$TS_BIN" step info "${kids[0]}" --json) == "$keep" ]] || fail "the unchanged step changed"
	[[ $(results "${kids[1]}" "") == null ]] || fail "the changed step kept its results"
	[[ $(step_json "${kids[1]}" "d['settings']['rubric_shell']['command']") == *test_quotient* ]]
	run_ts 4 step info "${kids[2]}"
	run_ts 0 step runs "$RS" --json
	assert_json_eq 'd[0]["detail"]["children"]' "[${kids[0]}, ${kids[1]}]"
	# the next run regrades the changed step only
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID ${kids[0]} (Rubric 1: "
	out_has "Processing step ID ${kids[0]} (Rubric 1: 3f1c9a52-7d4e-4b8a-9c61-2a5e8f0d1b01)... fresh"
	out_has "Processing step ID ${kids[1]} (Rubric 2: 8a0d6e13-2b9f-4c47-b3e8-5f1a7c9d2e02)... success: graded 6"
	out_lacks "Processing step ID ${kids[2]} "
	[[ $("$TS_BIN" step info "${kids[0]}" --json) == "$keep" ]] || fail "the unchanged step was regraded"
	assert_grid '[["PASS","PASS","TIMEOUT","ERROR","FAIL","PASS"],["PASS","PASS","TIMEOUT","ERROR","FAIL","PASS"]]'

	# invalid JSON: a failure saying where; the steps and the task's map stay
	before=$("$TS_BIN" step list --task "$TID" --json)
	map=$(task_json "$TID" "d['settings']['rubric_set']")
	printf '[\n  {"rubricItemId": "x",\n   oops\n' >"$LP/rubrics.json"
	run_ts 1 step run "$RS"
	out_has "Processing step ID $RS (rubrics)... failure: cannot use rubric: $LP/rubrics.json:3:7: invalid JSON: "
	err_has "error: $LP/rubrics.json:3:7: invalid JSON: "
	[[ $(result_of "$RS") == failure ]]
	[[ $(results "$RS" "['message']") == "\"cannot use rubric: $LP/rubrics.json:3:7: invalid JSON: "* ]]
	[[ $(json_get '[s for s in d if s["id"] != '"$RS"']' "$("$TS_BIN" step list --task "$TID" --json)") == \
		"$(json_get '[s for s in d if s["id"] != '"$RS"']' "$before")" ]] || fail "the steps changed"
	[[ $(task_json "$TID" "d['settings']['rubric_set']") == "$map" ]]
	# the generated steps wait for a working rubric
	run_ts 1 task run "$TID" --golden
	out_has "Processing step ID ${kids[0]} (Rubric 1: 3f1c9a52-7d4e-4b8a-9c61-2a5e8f0d1b01)... blocked: dependency $RS is not successful (failure)"
}

# bats test_tags=storage
@test "rubric_set changes its steps in one transaction: when one change fails, none is made" {
	demo_task
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children "$RS")"
	run_ts 0 step run "${kids[1]}"
	before=$("$TS_BIN" step list --task "$TID" --json)
	map=$(task_json "$TID" "d['settings']['rubric_set']")
	# the database refuses to delete the first step
	case $TS_BACKEND in
	sqlite)
		db_sql "CREATE TRIGGER ts_test_keep BEFORE DELETE ON steps WHEN OLD.id = ${kids[0]}
			BEGIN SELECT RAISE(ABORT, 'kept by the test'); END;"
		;;
	postgres)
		db_sql "CREATE OR REPLACE FUNCTION ts_test_keep() RETURNS trigger LANGUAGE plpgsql
			AS \$f\$ BEGIN RAISE EXCEPTION 'kept by the test'; END \$f\$;
			CREATE TRIGGER ts_test_keep BEFORE DELETE ON steps FOR EACH ROW
			WHEN (OLD.id = ${kids[0]}) EXECUTE FUNCTION ts_test_keep();"
		;;
	esac
	# criterion 2 changes (an update, done first), criterion 1 goes (a delete, refused)
	python3 - "$LP/rubrics.json" <<-'EOF'
		import json, sys
		d = json.load(open(sys.argv[1]))
		d[1]["forms"]["f1"]["criterion_test_command"] = "echo '#__PASS__#'"
		json.dump([d[1], d[2]], open(sys.argv[1], "w"), indent=2)
	EOF
	run_ts 1 step run "$RS"
	out_has "Processing step ID $RS (rubrics)... error: could not update the rubric steps; nothing was changed"
	err_has "kept by the test"
	[[ $(json_get '[s for s in d if s["id"] != '"$RS"']' "$("$TS_BIN" step list --task "$TID" --json)") == \
		"$(json_get '[s for s in d if s["id"] != '"$RS"']' "$before")" ]] || fail "a step changed"
	[[ $(task_json "$TID" "d['settings']['rubric_set']") == "$map" ]]
	case $TS_BACKEND in
	sqlite) db_sql "DROP TRIGGER ts_test_keep;" ;;
	postgres) db_sql "DROP TRIGGER ts_test_keep ON steps; DROP FUNCTION ts_test_keep();" ;;
	esac
	run_ts 0 step run "$RS"
	# criterion 3 is second now: renumbered, so updated too
	out_has "success: 2 criteria from rubrics.json: 0 created, 2 updated, 1 deleted, 0 kept"
	run_ts 4 step info "${kids[0]}"
}

# ---- 5. Ctrl-C --------------------------------------------------------------

# bats test_tags=storage
@test "Ctrl-C during grading: exit 130 at once, finished candidates keep their results and runs, the hanging one is ERROR interrupted, nothing is left running" {
	demo_task
	"$TS_BIN" task edit "$TID" --set timeout_seconds=20 >/dev/null
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children "$RS")"
	s=${kids[0]}
	log="$BATS_TEST_TMPDIR/run.log"
	"$TS_BIN" step run "$s" --golden --force >"$log" 2>&1 3>&- &
	pid=$!
	# wait until the five candidates that do not hang are done
	for _ in $(seq 150); do
		(($(grep -cE '^  (solution[1-4]\.patch|golden|original) +(PASS|FAIL|TIMEOUT|ERROR) ' "$log") >= 5)) && break
		sleep 0.1
	done
	sleep 0.5
	t0=$(now_ms)
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	elapsed=$(($(now_ms) - t0))
	cat "$log" >&2
	[[ $rc -eq 130 ]] || fail "exit $rc"
	((elapsed < 5000)) || fail "took $elapsed ms after SIGINT"
	grep -q "error: interrupted: the running step was recorded as error" "$log"
	grep -qE "^  solution3.patch +ERROR +task_${TID}_volume_solution3_$DB8: interrupted; container restarted: the item was interrupted$" "$log"
	[[ $(result_of "$s") == error ]]
	[[ $(results "$s" "['message']") == '"interrupted"' ]]
	run_ts 0 step info "$s" --json
	assert_json_eq '[d["results"][k]["status"] for k in '"$COLS"']' '["PASS", "PASS", "ERROR", "ERROR", "FAIL", "PASS"]'
	assert_json_eq 'd["results"]["solution3.patch"]["reason"]' '"interrupted"'
	assert_json_eq 'd["results"]["solution3.patch"]["cleanup"]' '"container restarted: the item was interrupted"'
	assert_json_eq '[k for k in '"$COLS"' if "cleanup" in d["results"][k]]' '["solution3.patch"]'
	assert_json_eq 'd["results"]["solution4.patch"]["reason"]' '"patch solution4.patch does not apply"'
	# one run row per candidate, and the step's own
	run_ts 0 step runs "$s" --json
	assert_json_eq 'sorted([r["detail"]["candidate"], r["status"]] for r in d if r["detail"] and "candidate" in r["detail"])' \
		'[["golden", "PASS"], ["original", "FAIL"], ["solution1.patch", "PASS"], ["solution2.patch", "PASS"], ["solution3.patch", "ERROR"], ["solution4.patch", "ERROR"]]'
	assert_json_eq '[r["status"] for r in d if not (r["detail"] and "candidate" in r["detail"])]' '["error"]'
	only_keepalive "task_${TID}_volume_solution3_$DB8"
}

# ---- 6. modes, dead containers, regrade -------------------------------------

@test "step golden grades golden only, step original the original only, task golden every rubric step on golden; other candidates' results are kept" {
	demo_task
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children "$RS")"
	s=${kids[0]}
	run_ts 0 step run "$s"
	out_has "grading 4 candidates"
	out_has "success: graded 4: 2 PASS, 0 FAIL, 1 TIMEOUT, 1 ERROR"
	sols=$(results "$s" "")
	sols=$(json_get '{k: v for k, v in d.items() if k.startswith("solution")}' "$sols")
	[[ $(json_get 'sorted(k for k, v in d.items() if isinstance(v, dict) and "status" in v)' "$(results "$s" "")") == \
		'["solution1.patch","solution2.patch","solution3.patch","solution4.patch"]' ]]

	run_ts 0 step golden "$s"
	out_has "grading 1 candidate (timeout $DEMO_TIMEOUT s)"
	out_has "success: graded 1: 1 PASS, 0 FAIL, 0 TIMEOUT, 0 ERROR"
	[[ $(cand "$s" golden status) == '"PASS"' ]]
	[[ $(json_get 'sorted(k for k, v in d.items() if isinstance(v, dict) and "status" in v)' "$(results "$s" "")") == \
		'["golden","solution1.patch","solution2.patch","solution3.patch","solution4.patch"]' ]]
	[[ $(json_get '{k: v for k, v in d.items() if k.startswith("solution")}' "$(results "$s" "")") == "$sols" ]]

	run_ts 0 step original "$s"
	out_has "grading 1 candidate (timeout $DEMO_TIMEOUT s)"
	[[ $(cand "$s" original status) == '"FAIL"' ]]
	[[ $(cand "$s" golden status) == '"PASS"' ]]
	[[ $(json_get '{k: v for k, v in d.items() if k.startswith("solution")}' "$(results "$s" "")") == "$sols" ]]
	run_ts 0 step runs "$s" --json
	assert_json_eq 'sorted(r["detail"]["candidate"] for r in d if r["detail"] and "candidate" in r["detail"])' \
		'["golden", "original", "solution1.patch", "solution2.patch", "solution3.patch", "solution4.patch"]'

	# task golden: the two other rubric steps grade golden only
	run_ts 0 task golden "$TID"
	out_has "Processing step ID $s (Rubric 1: 3f1c9a52-7d4e-4b8a-9c61-2a5e8f0d1b01)... fresh"
	for k in "${kids[1]}" "${kids[2]}"; do
		out_has "Processing step ID $k (Rubric "
		[[ $(json_get 'sorted(k for k, v in d.items() if isinstance(v, dict) and "status" in v)' "$(results "$k" "")") == '["golden"]' ]]
		[[ $(cand "$k" golden status) == '"PASS"' ]]
	done
	assert_grid '[["PASS","PASS","TIMEOUT","ERROR","FAIL","PASS"],[null,null,null,null,null,"PASS"],[null,null,null,null,null,"PASS"]]'
}

@test "a dead container is ERROR for its candidate with a clear reason; the other candidates are still graded" {
	demo_task
	run_ts 0 step run "$POOL"
	run_ts 0 step run "$RS"
	read -ra kids <<<"$(children "$RS")"
	docker kill "task_${TID}_volume_solution2_$DB8" >/dev/null
	# an infrastructure failure: the step does not succeed (exit 1)
	run_ts 1 step run "${kids[0]}" --golden
	s=${kids[0]}
	[[ $(cand "$s" solution2.patch status) == '"ERROR"' ]]
	reason=$(cand "$s" solution2.patch reason)
	[[ $reason == '"docker exec failed (exit 1): '*'is not running"' ]] || fail "reason: $reason"
	[[ $(cand "$s" solution2.patch container) == "\"task_${TID}_volume_solution2_$DB8\"" ]]
	run_ts 0 step info "$s" --json
	assert_json_eq '[d["results"][k]["status"] for k in '"$COLS"']' '["PASS", "ERROR", "TIMEOUT", "ERROR", "FAIL", "PASS"]'
	# a container that is gone altogether
	docker rm -f "task_${TID}_volume_golden_$DB8" >/dev/null
	run_ts 1 step run "${kids[1]}" --golden
	reason=$(cand "${kids[1]}" golden reason)
	# graded in the container containers_map names, by its ID
	[[ $reason == '"docker exec failed (exit 1): '*'No such container: '*'"' ]] || fail "reason: $reason"
	[[ $(cand "${kids[1]}" solution1.patch status) == '"PASS"' ]]
	# docker_pool brings them back, and the candidates grade again
	run_ts 0 task run "$TID" --golden
	assert_grid "$EXPECTED"
}

@test "task regrade decides the stored results again after PASS_MARKER changes, and back" {
	demo_task
	run_ts 0 task run "$TID" --golden
	assert_grid "$EXPECTED"
	before=$("$TS_BIN" step list --task "$TID" --json)
	write_conf "PASS_MARKER=#__NOPE__#"
	run_ts 0 task regrade "$TID" --dry-run
	out_has "(dry run, nothing written)"
	[[ $("$TS_BIN" step list --task "$TID" --json) == "$before" ]] || fail "a dry run wrote"
	run_ts 0 task regrade "$TID"
	read -ra kids <<<"$(children "$RS")"
	out_has "step ${kids[0]} solution1.patch: PASS -> ERROR"
	# the PASS marker no longer counts; FAIL markers, the deadline and patches still do
	assert_grid '[["ERROR","ERROR","TIMEOUT","ERROR","FAIL","ERROR"],["ERROR","FAIL","TIMEOUT","ERROR","FAIL","ERROR"],["ERROR","ERROR","ERROR","ERROR","ERROR","ERROR"]]'
	[[ $(cand "${kids[0]}" golden reason) == '"no verdict: the command printed no marker (exit code 0)"' ]]
	[[ $(cand "${kids[0]}" solution3.patch reason) == *"(limit $DEMO_TIMEOUT s)"* ]]
	[[ $(cand "${kids[0]}" solution4.patch reason) == '"patch solution4.patch does not apply"' ]]
	[[ $(report_grid) == "$(grid)" ]]
	rm "$TASK_SYNC_CONFIG"
	run_ts 0 task regrade "$TID"
	assert_grid "$EXPECTED"
	[[ $(report_grid) == "$EXPECTED" ]]
}

# ---- 7. freshness -----------------------------------------------------------

@test "a second task run --golden grades nothing; a changed solution patch regrades its own cells only" {
	demo_flow
	run_ts 0 task run "$TID" --golden
	read -ra kids <<<"$(children "$RS")"
	runs() {
		local k n=0
		for k in "${kids[@]}"; do
			n=$((n + $(json_get 'len(d)' "$("$TS_BIN" step runs "$k" --json)")))
		done
		echo "$n"
	}
	n0=$(runs)
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID $BUILD (build)... fresh"
	out_has "Processing step ID $RS (rubrics)... fresh"
	for k in "${kids[@]}"; do
		out_has "Processing step ID $k (Rubric "
		grep -q "^Processing step ID $k (Rubric .*)\.\.\. fresh: inputs, settings and dependencies unchanged$" <<<"$output" ||
			fail "step $k was not fresh"
	done
	out_lacks "grading"
	[[ $(runs) == "$n0" ]] || fail "rubric steps ran"
	assert_grid "$EXPECTED"

	# new content for solution1.patch (a mail header git apply skips)
	printf 'Subject: [PATCH] divide\n\n%s\n' "$(cat "$LP/solution1.patch")" >"$LP/solution1.patch"
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID $BUILD (build)... fresh"
	out_has "Processing step ID $RS (rubrics)... fresh"
	for k in "${kids[@]}"; do
		grep -q "^Processing step ID $k (Rubric .*)\.\.\. success: graded 1: " <<<"$output" ||
			fail "step $k did not regrade solution1 alone"
	done
	[[ $(runs) -gt $n0 ]]
	assert_grid "$EXPECTED"
}

# ---- 9. reconciling without losing verdicts ---------------------------------

@test "a solution patch added later is graded; removing a criterion keeps the other children's verdicts, and they stay fresh" {
	demo_task
	mv "$LP/solution2.patch" "$BATS_TEST_TMPDIR/solution2.patch"
	run_ts 0 task run "$TID" --golden
	read -ra kids <<<"$(children "$RS")"
	[[ ${#kids[@]} -eq 3 ]]
	assert_grid '[["PASS",null,"TIMEOUT","ERROR","FAIL","PASS"],["PASS",null,"TIMEOUT","ERROR","FAIL","PASS"],["PASS",null,"PASS","ERROR","PASS","PASS"]]'

	# the new patch makes rubric_set run, and its children grade it
	mv "$BATS_TEST_TMPDIR/solution2.patch" "$LP/solution2.patch"
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID $RS (rubrics)... success: 3 criteria from rubrics.json: 0 created, 3 updated, 0 deleted, 0 kept"
	for k in "${kids[@]}"; do
		grep -q "^Processing step ID $k (Rubric .*)\.\.\. success: graded 1: " <<<"$output" ||
			fail "step $k did not grade solution2 alone"
	done
	assert_grid "$EXPECTED"

	# criterion 1 goes: 2 and 3 are renumbered, keep their verdicts and
	# are not graded again
	python3 - "$LP/rubrics.json" <<-'EOF2'
		import json, sys
		d = json.load(open(sys.argv[1]))
		json.dump(d[1:], open(sys.argv[1], "w"), indent=2)
	EOF2
	run_ts 0 step run "$RS"
	out_has "success: 2 criteria from rubrics.json: 0 created, 2 updated, 1 deleted, 0 kept"
	[[ $(children "$RS") == "${kids[1]} ${kids[2]}" ]]
	assert_grid '[["PASS","FAIL","TIMEOUT","ERROR","FAIL","PASS"],["PASS","PASS","PASS","ERROR","PASS","PASS"]]'
	run_ts 0 task run "$TID" --golden
	out_has "Processing step ID ${kids[1]} (Rubric 1: 8a0d6e13-2b9f-4c47-b3e8-5f1a7c9d2e02)... fresh"
	out_has "Processing step ID ${kids[2]} (Rubric 2: c47b2f80-6e1d-4a93-8d05-9b3e1f6a4c03)... fresh"
	out_lacks " (timeout "
	assert_grid '[["PASS","FAIL","TIMEOUT","ERROR","FAIL","PASS"],["PASS","PASS","PASS","ERROR","PASS","PASS"]]'
	[[ $(report_grid) == '[["PASS","FAIL","TIMEOUT","ERROR","FAIL","PASS"],["PASS","PASS","PASS","ERROR","PASS","PASS"]]' ]] ||
		fail "task report: $(report_grid)"
}
