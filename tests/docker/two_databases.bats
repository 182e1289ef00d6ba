#!/usr/bin/env bats
# Two databases on one Docker engine: the test's own (A: SQLite or
# PostgreSQL) and a second SQLite file (B), with the same task and step IDs.
# Each grades in its own containers and gets its own exact grid; a container
# of another database or task is never adopted, recreated, removed or run
# in; gc of one leaves the other's alone.

# bats file_tags=storage
load docker_helpers

# (B's containers carry the same task label: docker_teardown takes them too)
setup() {
	docker_setup
	B_DB="$BATS_TEST_TMPDIR/b/task-sync.db"
	mkdir -p "$BATS_TEST_TMPDIR/b"
	tsb task list >/dev/null || fail "cannot create database B"
	# the same IDs as A; B's identity is made on first use
	sqlite3 -batch -bail "$B_DB" "DELETE FROM sqlite_sequence WHERE name IN ('tasks', 'steps');
		INSERT INTO sqlite_sequence (name, seq) VALUES ('tasks', $ID_BASE), ('steps', $ID_BASE);"
}

# task-sync on database B
tsb() {
	DATABASE_URL="sqlite:$B_DB" "$TS_BIN" "$@"
}

b_identity() {
	sqlite3 -batch "$B_DB" "SELECT identity FROM database_identity"
}

# mkpatch FROM TO FILE: a git patch turning hello.txt's line FROM into TO
mkpatch() {
	local d
	d=$(mktemp -d)
	(
		cd "$d" && git init -q && printf '%s\n' "$1" >hello.txt && git add hello.txt &&
			git -c user.name=t -c user.email=t@example.com commit -qm init &&
			printf '%s\n' "$2" >hello.txt && git diff
	) >"$3"
	rm -rf "$d"
}

# a task folder for image variant V whose solution1 makes hello.txt S1 and
# solution2 S2; golden makes it "fixed"
task_folder() {
	mkdir -p "$1"
	mkpatch "hello $2" "$3" "$1/solution1.patch"
	mkpatch "hello $2" "$4" "$1/solution2.patch"
	mkpatch "hello $2" fixed "$1/golden.patch"
}

COLS='["solution1.patch", "solution2.patch", "original", "golden"]'

# grid CMD STEP: the verdicts of STEP in COLS order, as JSON
grid() {
	json_get "[d['results'][k]['status'] for k in $COLS]" "$("$1" step info "$2" --json)"
}

# the same task (TID) in A on image 1 (solution1 right) and in B on image 2
# (solution2 right): a pool of 4 and one criterion each. Sets POOL and RUB
# (the same IDs in both).
two_tasks() {
	local img1 img2 b
	img1=$(test_image 1)
	img2=$(test_image 2)
	task_folder "$LP" 1 fixed broken
	task_folder "$BATS_TEST_TMPDIR/lp-b" 2 broken fixed
	new_task >/dev/null
	b=$(tsb task create --name docker-test --local_path "$BATS_TEST_TMPDIR/lp-b" --quiet)
	[[ $b == "$TID" ]] || fail "B's task is $b, not $TID"
	POOL=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img1\", \"pool_size\": 4}}")
	b=$(tsb step create --task "$TID" --title pool --settings "{\"docker_pool\": {\"image_tag\": \"$img2\", \"pool_size\": 4}}" --quiet)
	[[ $b == "$POOL" ]] || fail "B's pool is step $b, not $POOL"
	local rub="{\"rubric_shell\": {\"command\": \"grep -qx fixed hello.txt && echo '#__PASS__#' || echo '#__FAIL__#'\"}}"
	RUB=$(make_step "$TID" criterion "$rub")
	b=$(tsb step create --task "$TID" --title criterion --settings "$rub" --quiet)
	[[ $b == "$RUB" ]] || fail "B's criterion is step $b, not $RUB"
}

@test "two databases with the same task IDs grade side by side, each in its own containers with its own grid" {
	local b8
	two_tasks
	# interleaved: A's pool, B's pool, then each grades
	run_ts 0 step run "$POOL"
	run tsb step run "$POOL"
	[[ $status -eq 0 ]] || fail "B's pool: $output"
	b8=$(b_identity | cut -c1-8)
	[[ ${#b8} -eq 8 && $b8 != "$DB8" ]] || fail "B's identity '$b8' (A's $DB8)"
	run_ts 0 step run "$RUB" --golden
	run tsb step run "$RUB" --golden
	[[ $status -eq 0 ]] || fail "B's criterion: $output"
	[[ $(grid ts "$RUB") == '["PASS","FAIL","FAIL","PASS"]' ]] || fail "A: $(grid ts "$RUB")"
	[[ $(grid tsb "$RUB") == '["FAIL","PASS","FAIL","PASS"]' ]] || fail "B: $(grid tsb "$RUB")"
	# each graded in its own containers, named and labelled for it
	[[ $(json_get "d['results']['golden']['container']" "$(ts step info "$RUB" --json)") == "\"task_${TID}_volume_golden_$DB8\"" ]]
	[[ $(json_get "d['results']['golden']['container']" "$(tsb step info "$RUB" --json)") == "\"task_${TID}_volume_golden_$b8\"" ]]
	[[ $(docker inspect --format '{{index .Config.Labels "task-sync.db"}} {{index .Config.Labels "task-sync.task"}}' "task_${TID}_volume_golden_$b8") == "$(b_identity) $TID" ]]

	# at the same time, from the start: the same grids
	ts step run "$POOL" >"$BATS_TEST_TMPDIR/a.log" 2>&1 &
	tsb step run "$POOL" >"$BATS_TEST_TMPDIR/b.log" 2>&1
	wait $! || fail "A's pool: $(cat "$BATS_TEST_TMPDIR/a.log")"
	db_sql "UPDATE steps SET results = NULL WHERE id = $RUB" >/dev/null
	sqlite3 "$B_DB" "UPDATE steps SET results = NULL WHERE id = $RUB"
	ts step run "$RUB" --golden >"$BATS_TEST_TMPDIR/a.log" 2>&1 &
	tsb step run "$RUB" --golden >"$BATS_TEST_TMPDIR/b.log" 2>&1 || fail "B: $(cat "$BATS_TEST_TMPDIR/b.log")"
	wait $! || fail "A: $(cat "$BATS_TEST_TMPDIR/a.log")"
	[[ $(grid ts "$RUB") == '["PASS","FAIL","FAIL","PASS"]' ]] || fail "A: $(grid ts "$RUB")"
	[[ $(grid tsb "$RUB") == '["FAIL","PASS","FAIL","PASS"]' ]] || fail "B: $(grid tsb "$RUB")"

	# gc of B removes B's four containers and leaves A's running
	run tsb gc --task "$TID"
	[[ $status -eq 0 ]] || fail "B's gc: $output"
	[[ $output == *"removed 4 containers, 0 volumes, 0 images" ]] || fail "B's gc: $output"
	[[ $output != *"_$DB8 "* ]] || fail "B's gc took A's: $output"
	for role in original golden solution1 solution2; do
		[[ $(docker inspect --format '{{.State.Running}}' "task_${TID}_volume_${role}_$DB8") == true ]]
	done
	[[ -z $(docker ps -aq --filter "label=task-sync.db=$(b_identity)") ]]
}

# foreign TASK DB NAME [IMAGE]: a running container NAME labelled for TASK of
# DB (DB "-": no database label, as before identities); prints its ID
foreign() {
	local l=(--label "task-sync.task=$1" --label task-sync.step=1)
	[[ $2 == - ]] || l+=(--label "task-sync.db=$2")
	cleanup_later container "$3"
	docker run -d --network none "${l[@]}" --name "$3" "${4:-$(test_image)}" sleep 300
}

@test "a container with the expected name that another database or task labelled is refused and left untouched" {
	local img other id c
	img=$(test_image)
	other=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	new_task >/dev/null
	# docker_pool: another database's container, same task ID
	c=task_${TID}_volume_original_$DB8
	id=$(foreign "$TID" "$other" "$c")
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"roles\": [\"original\"]}}")
	run_ts 1 step run "$s"
	out_has "original: a container named '$c' exists that is not this task's (database ${other:0:8}, task $TID, step 1): left alone; remove or rename it"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "$c") == "$id true" ]]
	docker rm -f "$c" >/dev/null
	# this database's, another task's
	id=$(foreign "$((TID + 7))" "$DBID" "$c")
	run_ts 1 step run "$s"
	out_has "(this database, task $((TID + 7)), step 1): left alone"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "$c") == "$id true" ]]
	docker rm -f "$c" >/dev/null
	# one from before database identities, same task ID
	id=$(foreign "$TID" - "$c")
	run_ts 1 step run "$s"
	out_has "(no database label: made by an older task-sync, task $TID, step 1): left alone"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "$c") == "$id true" ]]

	# docker_volume_pool: another database's
	s=$(make_step "$TID" extract '{"docker_extract_volume": {"image_tag": "task-sync-test/app:1", "roles": ["golden"]}}')
	run_ts 0 step run "$s"
	c=task_${TID}_volume_golden_$DB8
	id=$(foreign "$TID" "$other" "$c")
	s=$(make_step "$TID" vpool '{"docker_volume_pool": {"image_tag": "task-sync-test/app:1", "roles": ["golden"]}}')
	run_ts 1 step run "$s"
	out_has "golden: a container named '$c' exists that is not this task's (database ${other:0:8}, task $TID, step 1): left alone"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "$c") == "$id true" ]]

	# docker_run: the name conflict is never resolved by removing it
	s=$(make_step "$TID" run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true}}")
	c=tasksync_${DB8}_step$s
	id=$(foreign "$TID" "$other" "$c")
	run_ts 1 step run "$s"
	out_has "failure: a container named '$c' (${id:0:12}) exists that is not this step's (database ${other:0:8}, task $TID, step 1): left alone"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "$c") == "$id true" ]]
}

@test "docker_shell and assign_containers never run in another database's or task's container; the user's own are fine" {
	local other theirs mine s img d
	other=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	new_task >/dev/null
	# an image of this test's own, for the search by image
	img=task-sync-test/two:$TID
	d=$(mktemp -d)
	printf 'FROM %s\nLABEL ts-test=%s\n' "$(test_image)" "$TID" >"$d/Dockerfile"
	docker build -q --network none -t "$img" "$d" >/dev/null
	rm -rf "$d"
	cleanup_later image "$img"
	theirs=ts-theirs-$TID
	foreign "$TID" "$other" "$theirs" "$img" >/dev/null
	mine=ts-mine-$TID
	cleanup_later container "$mine"
	docker run -d --network none --name "$mine" "$img" sleep 300 >/dev/null

	s=$(make_step "$TID" shell "{\"docker_shell\": {\"container_name\": \"$theirs\", \"command\": [\"touch /tmp/ran\"]}}")
	run_ts 1 step run "$s"
	out_has "failure: container '$theirs' is not this task's (database ${other:0:8}, task $TID, step 1): task-sync runs nothing in another database's or task's container"
	run docker exec "$theirs" test -e /tmp/ran
	[[ $status -ne 0 ]] || fail "the command ran in $theirs"
	s=$(make_step "$TID" shell2 "{\"docker_shell\": {\"container_name\": \"$mine\", \"command\": [\"touch /tmp/ran\"]}}")
	run_ts 0 step run "$s"
	docker exec "$mine" test -e /tmp/ran

	# found by its image: another database's is skipped
	s=$(make_step "$TID" shell3 "{\"docker_shell\": {\"image_tag\": \"$img\", \"command\": [\"touch /tmp/ran3\"]}}")
	docker rm -f "$mine" >/dev/null
	run_ts 1 step run "$s"
	out_has "no running container of $img that is this task's or nobody's"
	run docker exec "$theirs" test -e /tmp/ran3
	[[ $status -ne 0 ]] || fail "the command ran in $theirs"

	# rubric_shell: a candidate assigned to another database's container is an
	# ERROR that says whose it is (an infrastructure failure, exit 1: no
	# verdict on the candidate), and nothing runs there
	mkpatch "hello 1" fixed "$LP/solution1.patch"
	s=$(make_step "$TID" crit "{\"rubric_shell\": {\"command\": \"touch /tmp/graded; echo '#__PASS__#'\", \"assign_containers\": {\"solution1.patch\": \"$theirs\"}}}")
	run_ts 1 step run "$s"
	[[ $(results "$s" "['solution1.patch']['infrastructure']") == true ]]
	[[ $(results "$s" "['solution1.patch']['status']") == '"ERROR"' ]]
	[[ $(results "$s" "['solution1.patch']['reason']") == "\"container '$theirs' is not this task's (database ${other:0:8}, task $TID, step 1): task-sync runs nothing in another database's or task's container\"" ]]
	run docker exec "$theirs" test -e /tmp/graded
	[[ $status -ne 0 ]] || fail "the criterion ran in $theirs"
}
