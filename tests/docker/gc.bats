#!/usr/bin/env bats
# task-sync gc: list and remove what task-sync labelled

load docker_helpers

# a container, a volume and an image labelled for task T (step 7) of this
# test's database
labelled_objects() {
	local t=$1 d l=(--label "task-sync.db=$DBID" --label "task-sync.task=$1" --label task-sync.step=7)
	docker run -d --network none "${l[@]}" --name "ts-gc-$t" "$(test_image)" sleep 300 >/dev/null
	cleanup_later container "ts-gc-$t"
	docker volume create "${l[@]}" "ts-gc-vol-$t" >/dev/null
	cleanup_later volume "ts-gc-vol-$t"
	d=$(mktemp -d)
	printf 'FROM %s\nLABEL task-sync.db=%s task-sync.task=%s task-sync.step=7\n' "$(test_image)" "$DBID" "$t" >"$d/Dockerfile"
	docker build -q --network none -t "task-sync-test/gc:$t" "$d" >/dev/null 2>&1
	rm -rf "$d"
	cleanup_later image "task-sync-test/gc:$t"
}

@test "gc --dry-run lists a task's containers, volumes and images and removes nothing" {
	labelled_objects "$TID"
	run_ts 0 gc --task "$TID" --dry-run
	out_has "would remove container ts-gc-$TID ("
	out_has "), task $TID step 7"
	out_has "would remove volume ts-gc-vol-$TID, task $TID step 7"
	out_has "would remove image task-sync-test/gc:$TID ("
	out_has "would remove 1 container, 1 volume, 1 image"
	docker inspect "ts-gc-$TID" >/dev/null
	docker volume inspect "ts-gc-vol-$TID" >/dev/null
	docker image inspect "task-sync-test/gc:$TID" >/dev/null
}

@test "gc --task removes that task's objects and leaves other tasks' alone" {
	other=$((TID + 1000000))
	labelled_objects "$TID"
	labelled_objects "$other"
	run_ts 0 gc --task "$TID"
	out_has "removed container ts-gc-$TID"
	out_has "removed volume ts-gc-vol-$TID"
	out_has "removed image task-sync-test/gc:$TID"
	out_has "removed 1 container, 1 volume, 1 image"
	run docker inspect "ts-gc-$TID"
	[[ $status -ne 0 ]]
	run docker volume inspect "ts-gc-vol-$TID"
	[[ $status -ne 0 ]]
	run docker image inspect "task-sync-test/gc:$TID"
	[[ $status -ne 0 ]]
	docker inspect "ts-gc-$other" >/dev/null
	docker volume inspect "ts-gc-vol-$other" >/dev/null
	docker image inspect "task-sync-test/gc:$other" >/dev/null
	run_ts 0 gc --task "$TID"
	out_is "nothing to remove"
}

@test "gc removes what the steps made, and --json says what it did" {
	img=$(test_image)
	new_task >/dev/null
	s=$(make_step "$TID" run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true}}")
	ts step run "$s" >/dev/null
	run_ts 0 gc --task "$TID" --dry-run --json
	assert_json_eq '[[o["kind"], o["name"], o["task"], o["step"], o["removed"]] for o in d]' "[[\"container\", \"tasksync_${DB8}_step$s\", \"$TID\", \"$s\", false]]"
	run_ts 0 gc --task "$TID" --json
	assert_json_eq '[[o["kind"], o["removed"]] for o in d]' '[["container", true]]'
	[[ -z $(labelled_containers) ]]
}

@test "gc: usage errors, and a daemon that is down" {
	run_ts 2 gc --task abc
	run_ts 2 gc extra
	fake_docker down
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 3 gc --dry-run
	err_has "docker daemon not reachable: Cannot connect to the Docker daemon"
	fake_docker hang
	TASK_SYNC_DOCKER=$FAKE_DOCKER TASK_SYNC_DOCKER_TIMEOUT_MS=500 run_ts 3 gc
	err_has "docker daemon not reachable"
	no_fake_left
}

@test "gc removes only this database's objects: another database's and older unlabelled ones stay" {
	local other_db old=$((TID + 2000000))
	other_db=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	labelled_objects "$TID"
	# the same task ID in another database, and an object from before
	# database identities: neither is this database's
	docker run -d --network none --label "task-sync.db=$other_db" --label "task-sync.task=$TID" \
		--name "ts-gc-other-$TID" "$(test_image)" sleep 300 >/dev/null
	cleanup_later container "ts-gc-other-$TID"
	docker run -d --network none --label "task-sync.task=$old" --name "ts-gc-old-$old" "$(test_image)" sleep 300 >/dev/null
	cleanup_later container "ts-gc-old-$old"
	run_ts 0 gc --dry-run
	out_has "would remove container ts-gc-$TID ("
	out_lacks "ts-gc-other-$TID"
	out_lacks "ts-gc-old-$old"
	run_ts 0 gc --task "$TID"
	out_has "removed 1 container, 1 volume, 1 image"
	out_lacks "ts-gc-other-$TID"
	[[ $(docker inspect --format '{{.State.Running}}' "ts-gc-other-$TID") == true ]]
	[[ $(docker inspect --format '{{.State.Running}}' "ts-gc-old-$old") == true ]]
	run docker inspect "ts-gc-$TID"
	[[ $status -ne 0 ]]
}

@test "gc on a database that has made nothing yet removes nothing" {
	db_sql "DELETE FROM database_identity;" >/dev/null
	labelled_objects "$TID"
	run_ts 0 gc --dry-run
	out_is "nothing to remove"
	run_ts 0 gc --dry-run --json
	out_is "[]"
}
