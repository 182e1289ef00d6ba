#!/usr/bin/env bats
# task-sync gc: list and remove what task-sync labelled

load docker_helpers

# a container, a volume and an image labelled for task T (step 7)
labelled_objects() {
	local t=$1 d
	docker run -d --network none --label "task-sync.task=$t" --label task-sync.step=7 \
		--name "ts-gc-$t" "$(test_image)" sleep 300 >/dev/null
	cleanup_later container "ts-gc-$t"
	docker volume create --label "task-sync.task=$t" --label task-sync.step=7 "ts-gc-vol-$t" >/dev/null
	cleanup_later volume "ts-gc-vol-$t"
	d=$(mktemp -d)
	printf 'FROM %s\nLABEL task-sync.task=%s task-sync.step=7\n' "$(test_image)" "$t" >"$d/Dockerfile"
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
	assert_json_eq '[[o["kind"], o["name"], o["task"], o["step"], o["removed"]] for o in d]' "[[\"container\", \"tasksync_step$s\", \"$TID\", \"$s\", false]]"
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
