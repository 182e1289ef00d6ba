#!/usr/bin/env bats
# docker_run end to end: image resolution, reuse, recreation, name conflicts,
# early exits, networks, and a daemon that is down or hangs

load docker_helpers

run_step() {
	make_step "$TID" "$1" "$2"
}

@test "docker_run keep_forever starts a labelled --init container with no network and reuses it" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"parameters\": [\"--rm\", \"-e FOO=bar\"]}}")
	run_ts 0 step run "$s"
	out_has "success: container tasksync_${DB8}_step$s running from $img"
	[[ $(results "$s" "['container_name']") == "\"tasksync_${DB8}_step$s\"" ]]
	cid=$(results "$s" "['container_id']" | tr -d '"')
	want=$(docker image inspect --format '{{.Id}}' "$img")
	[[ $(results "$s" "['image_id']") == "\"$want\"" ]]
	run docker inspect --format '{{.State.Running}} {{.HostConfig.Init}} {{.HostConfig.NetworkMode}} {{.HostConfig.AutoRemove}} {{index .Config.Labels "task-sync.task"}} {{index .Config.Labels "task-sync.step"}} {{json .Config.Cmd}}' "$cid"
	[[ $output == "true true none false $TID $s [\"sleep\",\"infinity\"]" ]] || fail "inspect: $output"
	docker exec "$cid" sh -c 'test "$FOO" = bar'

	# a second run finds it running and keeps it
	run_ts 0 step run "$s"
	out_has "already running"
	[[ $(results "$s" "['container_id']") == "\"$cid\"" ]]
	[[ $(labelled_containers | wc -l) -eq 1 ]]
}

@test "docker_run takes the image from a docker_build dependency and recreates when it changes" {
	base=$(test_image)
	printf 'FROM %s\nRUN echo one >/built\n' "$base" >"$LP/Dockerfile"
	new_task >/dev/null
	b=$(run_step build "{\"docker_build\": {\"image_tag\": \"task-sync-test/built:$TID\", \"parameters\": [\"--network none\"]}}")
	r=$(run_step run "{\"docker_run\": {\"keep_forever\": true, \"depends_on\": [{\"id\": $b}]}}")
	run_ts 0 task run "$TID"
	id1=$(results "$b" "['image_id']")
	[[ $(results "$r" "['image_id']") == "$id1" ]]
	cid1=$(results "$r" "['container_id']" | tr -d '"')
	[[ $(docker exec "$cid1" cat /built) == one ]]

	printf 'FROM %s\nRUN echo two >/built\n' "$base" >"$LP/Dockerfile"
	run_ts 0 task run "$TID"
	out_has "recreating tasksync_${DB8}_step$r (image changed)"
	[[ $(results "$r" "['image_id']") != "$id1" ]]
	cid2=$(results "$r" "['container_id']" | tr -d '"')
	[[ $cid2 != "$cid1" ]]
	[[ $(docker exec "$cid2" cat /built) == two ]]
	run docker inspect "$cid1"
	[[ $status -ne 0 ]] || fail "the old container is still there"
}

@test "docker_run falls back to the task's docker.image_tag and honours container_name" {
	img=$(test_image)
	new_task >/dev/null
	ts task edit "$TID" --set docker.image_tag="$img" >/dev/null
	s=$(run_step run "{\"docker_run\": {\"container_name\": \"ts-test-$TID\", \"keep_forever\": true}}")
	run_ts 0 step run "$s"
	[[ $(results "$s" "['container_name']") == "\"ts-test-$TID\"" ]]
	docker inspect "ts-test-$TID" >/dev/null
}

@test "docker_run recreates a kept container that stopped, and one whose settings changed" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true}}")
	run_ts 0 step run "$s"
	cid1=$(results "$s" "['container_id']" | tr -d '"')
	docker stop -t 1 "$cid1" >/dev/null
	run_ts 0 step run "$s"
	out_has "recreating tasksync_${DB8}_step$s (not running)"
	cid2=$(results "$s" "['container_id']" | tr -d '"')
	[[ $cid2 != "$cid1" ]]
	[[ $(docker inspect --format '{{.State.Running}}' "$cid2") == true ]]

	ts step edit "$s" --set docker_run.command='["tail", "-f", "/dev/null"]' >/dev/null
	run_ts 0 step run "$s"
	out_has "recreating tasksync_${DB8}_step$s (settings changed)"
	cid3=$(results "$s" "['container_id']" | tr -d '"')
	[[ $(docker inspect --format '{{json .Config.Cmd}}' "$cid3") == '["tail","-f","/dev/null"]' ]]
	[[ $(labelled_containers | wc -l) -eq 1 ]]
}

@test "docker_run runs a string command with sh -c; exit 0 is success" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"command\": \"echo made > /tmp/x && cat /tmp/x\"}}")
	run_ts 0 step run "$s"
	out_has "exited 0"
	[[ $(results "$s" "['state']") == '"exited"' ]]
	[[ $(docker logs "tasksync_${DB8}_step$s") == made ]]
}

@test "docker_run: a command that exits non-zero right away fails with its logs and leaves no container" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"command\": [\"sh\", \"-c\", \"echo broken config >&2; exit 3\"]}}")
	run_ts 1 step run "$s"
	out_has "failure: container tasksync_${DB8}_step$s exited right away with code 3"
	[[ $(result_of "$s") == failure ]]
	[[ $(results "$s" "['message']") == *"broken config"* ]]
	[[ -z $(labelled_containers) ]]
}

@test "docker_run: a kept container whose command stops at once is a failure, nothing leaked" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"command\": [\"true\"]}}")
	run_ts 1 step run "$s"
	out_has "exited right away with code 0 (keep_forever wants it running)"
	[[ -z $(labelled_containers) ]]
}

@test "docker_run never touches a container with its name that task-sync did not create" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true}}")
	cleanup_later container "tasksync_${DB8}_step$s"
	stranger=$(docker run -d --network none --name "tasksync_${DB8}_step$s" "$img" sleep 300)
	run_ts 1 step run "$s"
	out_has "failure: a container named 'tasksync_${DB8}_step$s' (${stranger:0:12}) exists that is not this step's (no task-sync labels): left alone; remove or rename it, or set docker_run.container_name"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "tasksync_${DB8}_step$s") == "$stranger true" ]]

	# nor one that another step made
	s2=$(run_step other "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"container_name\": \"ts-other-$TID\"}}")
	cleanup_later container "ts-other-$TID"
	run_ts 0 step run "$s2"
	ts step edit "$s" --set docker_run.container_name="ts-other-$TID" >/dev/null
	run_ts 1 step run "$s"
	out_has "a container named 'ts-other-$TID'"
	[[ $(docker inspect --format '{{index .Config.Labels "task-sync.step"}}' "ts-other-$TID") == "$s2" ]]
}

@test "docker_run: parameters that pick a network replace --network none; the %%IMAGETAG%% form works" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"parameters\": [\"--network host\"]}}")
	run_ts 0 step run "$s"
	[[ $(docker inspect --format '{{.HostConfig.NetworkMode}}' "tasksync_${DB8}_step$s") == host ]]

	# the original's habit: options, the image, then command arguments
	s2=$(run_step orig "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"parameters\": [\"-e\", \"X=1\", \"%%IMAGETAG%%\", \"sleep\", \"600\"]}}")
	run_ts 0 step run "$s2"
	[[ $(docker inspect --format '{{.HostConfig.NetworkMode}} {{json .Config.Cmd}}' "tasksync_${DB8}_step$s2") == 'none ["sleep","600"]' ]]
}

@test "docker_run: a missing image is a clear failure and creates nothing" {
	new_task >/dev/null
	s=$(run_step run '{"docker_run": {"image_tag": "task-sync-test/no-such-image:404", "keep_forever": true}}')
	run_ts 1 step run "$s"
	out_has "failure: image 'task-sync-test/no-such-image:404' not found: build or pull it first"
	[[ -z $(labelled_containers) ]]
	s2=$(run_step none '{"docker_run": {"keep_forever": true}}')
	run_ts 1 step run "$s2"
	out_has "failure: no image"
}

@test "docker_run: a daemon that is down is a clear failure" {
	fake_docker down
	new_task >/dev/null
	s=$(run_step run '{"docker_run": {"image_tag": "x:1", "keep_forever": true}}')
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 step run "$s"
	out_has "failure: cannot inspect image 'x:1': docker daemon not reachable: Cannot connect to the Docker daemon"
	[[ $(result_of "$s") == failure ]]
}

@test "docker_run: the real docker client with no daemon at DOCKER_HOST: the failure is its line naming the socket" {
	new_task >/dev/null
	s=$(run_step run '{"docker_run": {"image_tag": "x:1", "keep_forever": true}}')
	# the client prints [] before its error on an inspect
	sock="unix://$BATS_TEST_TMPDIR/no-daemon.sock"
	DOCKER_HOST=$sock run_ts 1 step run "$s"
	out_has "failure: cannot inspect image 'x:1': docker daemon not reachable: Cannot connect to the Docker daemon at $sock."
	[[ $(result_of "$s") == failure ]]
}

@test "docker_run: a daemon that hangs fails within the docker timeout" {
	fake_docker hang
	new_task >/dev/null
	s=$(run_step run '{"docker_run": {"image_tag": "x:1", "keep_forever": true}}')
	t0=$SECONDS
	TASK_SYNC_DOCKER=$FAKE_DOCKER TASK_SYNC_DOCKER_TIMEOUT_MS=500 run_ts 1 step run "$s"
	((SECONDS - t0 < 10)) || fail "took $((SECONDS - t0)) s"
	out_has "docker daemon not reachable: 'docker image' did not answer within 0 s"
	no_fake_left
}

@test "docker_run: a new container costs the image inspect and the run; a command adds one inspect; reuse looks after a conflict" {
	img=$(test_image)
	new_task >/dev/null
	log_docker
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true}}")
	TASK_SYNC_DOCKER=$LOGGED run_ts 0 step run "$s"
	[[ $(cat "$DOCKER_LOG" | tr '\n' ' ') == "image inspect run -d " ]] || fail "calls: $(cat "$DOCKER_LOG")"
	[[ $(results "$s" "['container_id']") == "\"$(docker inspect --format '{{.Id}}' "tasksync_${DB8}_step$s")\"" ]]
	[[ $(results "$s" "['state']") == '"running"' ]]

	: >"$DOCKER_LOG"
	TASK_SYNC_DOCKER=$LOGGED run_ts 0 step run "$s"
	out_has "already running"
	[[ $(cat "$DOCKER_LOG" | tr '\n' ' ') == "image inspect run -d container inspect " ]] || fail "calls: $(cat "$DOCKER_LOG")"

	: >"$DOCKER_LOG"
	s2=$(run_step cmd "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"command\": [\"tail\", \"-f\", \"/dev/null\"]}}")
	TASK_SYNC_DOCKER=$LOGGED run_ts 0 step run "$s2"
	out_has "success: container tasksync_${DB8}_step$s2 running from $img"
	[[ $(cat "$DOCKER_LOG" | tr '\n' ' ') == "image inspect run -d container inspect " ]] || fail "calls: $(cat "$DOCKER_LOG")"
	[[ $(results "$s2" "['container_id']") == "\"$(docker inspect --format '{{.Id}}' "tasksync_${DB8}_step$s2")\"" ]]
}

@test "docker_run: a run that fails for another reason leaves a stranger with the name alone" {
	img=$(test_image)
	new_task >/dev/null
	s=$(run_step run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"parameters\": [\"--no-such-flag\"]}}")
	cleanup_later container "tasksync_${DB8}_step$s"
	stranger=$(docker run -d --network none --name "tasksync_${DB8}_step$s" "$img" sleep 300)
	run_ts 1 step run "$s"
	out_has "failure: docker run of $img failed"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "tasksync_${DB8}_step$s") == "$stranger true" ]]
}
