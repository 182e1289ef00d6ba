#!/usr/bin/env bats
# docker_build and docker_pool end to end against the real engine

load docker_helpers

@test "docker_build builds, labels the image, records its ID in results and task settings, keeps its settings" {
	base=$(test_image)
	printf 'FROM %s\nCOPY a.txt /a.txt\n' "$base" >"$LP/Dockerfile"
	echo one >"$LP/a.txt"
	new_task >/dev/null
	tag="task-sync-test/build:$TID"
	cleanup_later image "$tag"
	s=$(make_step "$TID" build "{\"docker_build\": {\"image_tag\": \"$tag\", \"files\": [\"a.txt\"], \"params\": [\"--network none\"]}}")
	run_ts 0 step run "$s"
	out_has "success: built $tag"
	want=$(docker image inspect --format '{{.Id}}' "$tag")
	[[ $(results "$s" "['image_id']") == "\"$want\"" ]]
	[[ $(task_json "$TID" "d['settings']['docker']['image_id']") == "\"$want\"" ]]
	[[ $(docker image inspect --format '{{index .Config.Labels "task-sync.step"}}' "$tag") == "$s" ]]
	# its own settings stay, and gain the hashes of its files
	[[ $(step_json "$s" "d['settings']['docker_build']['params']") == '["--network none"]' ]]
	[[ $(step_json "$s" "sorted(d['settings']['docker_build']['hashes'])") == '["Dockerfile","a.txt"]' ]]

	# nothing changed: fresh, no build
	run_ts 0 step run "$s"
	out_has "fresh"
	# a changed input rebuilds
	echo two >"$LP/a.txt"
	run_ts 0 step run "$s"
	out_has "success: built $tag"
	[[ $(results "$s" "['image_id']") != "\"$want\"" ]]
}

@test "docker_build rebuilds when its image vanished, even with every input unchanged" {
	base=$(test_image)
	printf 'FROM %s\nRUN echo x >/x\n' "$base" >"$LP/Dockerfile"
	new_task >/dev/null
	tag="task-sync-test/vanish:$TID"
	cleanup_later image "$tag"
	s=$(make_step "$TID" build "{\"docker_build\": {\"image_tag\": \"$tag\", \"params\": [\"--network none\"]}}")
	run_ts 0 step run "$s"
	docker rmi -f "$tag" >/dev/null
	run_ts 0 task run "$TID" --dry-run
	out_has "would run (image '$tag' no longer exists)"
	run_ts 0 step run "$s"
	out_has "success: built $tag"
	docker image inspect "$tag" >/dev/null
}

@test "docker_build: a failing Dockerfile is a failure with the log's tail; no tag and no context are clear failures" {
	base=$(test_image)
	printf 'FROM %s\nRUN echo building-now && exit 7\n' "$base" >"$LP/Dockerfile"
	new_task >/dev/null
	s=$(make_step "$TID" build "{\"docker_build\": {\"image_tag\": \"task-sync-test/broken:$TID\", \"params\": [\"--network none\"]}}")
	run_ts 1 step run "$s"
	out_has "failure: docker build of 'task-sync-test/broken:$TID' failed"
	[[ $(results "$s" "['result']") == '"failure"' ]]
	results "$s" "['log_tail']" | grep -q "building-now"
	! docker image inspect "task-sync-test/broken:$TID" >/dev/null 2>&1
	# the failed step's container is not left behind
	[[ -z $(docker ps -aq --no-trunc --filter "ancestor=$base" --filter status=exited |
		xargs -r docker inspect --format '{{join .Config.Cmd " "}}' | grep "building-now") ]] ||
		fail "the failed build left its container"

	s=$(make_step "$TID" notag '{"docker_build": {}}')
	run_ts 1 step run "$s"
	out_has "no image tag"
	s=$(make_step "$TID" noctx '{"docker_build": {"image_tag": "x:1", "context": "missing"}}')
	run_ts 1 step run "$s"
	out_has "is not a directory"
}

@test "docker_pool starts pool_size labelled containers, records containers_map, reuses them, recreates a dead one" {
	img=$(test_image)
	new_task >/dev/null
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"pool_size\": 4}}")
	run_ts 0 step run "$s"
	out_has "success: 4 containers running"
	[[ $(task_json "$TID" "sorted(d['settings']['containers_map'])") == '["golden","original","solution1","solution2"]' ]]
	[[ $(labelled_containers | wc -l) -eq 4 ]]
	name="task_${TID}_volume_solution1_$DB8"
	run docker inspect --format '{{.State.Running}} {{.HostConfig.Init}} {{.HostConfig.NetworkMode}} {{index .Config.Labels "task-sync.role"}}' "$name"
	[[ $output == "true true none solution1" ]] || fail "inspect: $output"
	id1=$(docker inspect --format '{{.Id}}' "$name")

	# a second run keeps them
	run_ts 0 step run "$s"
	[[ $(docker inspect --format '{{.Id}}' "$name") == "$id1" ]]
	# a removed one is recreated; a stopped one started again
	docker rm -f "$name" >/dev/null
	docker stop -t 0 "task_${TID}_volume_golden_$DB8" >/dev/null
	run_ts 0 step run "$s"
	[[ $(docker inspect --format '{{.State.Running}}' "$name") == true ]]
	[[ $(docker inspect --format '{{.State.Running}}' "task_${TID}_volume_golden_$DB8") == true ]]
	[[ $(labelled_containers | wc -l) -eq 4 ]]
}

@test "docker_pool never touches a container of its name that task-sync did not create; a missing image fails" {
	img=$(test_image)
	new_task >/dev/null
	stranger="task_${TID}_volume_original_$DB8"
	docker run -d --name "$stranger" --network none "$img" sleep infinity >/dev/null
	cleanup_later container "$stranger"
	sid=$(docker inspect --format '{{.Id}}' "$stranger")
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"pool_size\": 2}}")
	run_ts 1 step run "$s"
	out_has "original: a container named '$stranger' exists that is not this task's (no task-sync labels): left alone; remove or rename it"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "$stranger") == "$sid true" ]]

	s=$(make_step "$TID" nopool '{"docker_pool": {"image_tag": "task-sync-test/no-such-image:1", "pool_size": 1}}')
	run_ts 1 step run "$s"
	out_has "not found: build or pull it first"
}

@test "docker_pool health check: a .git/index.lock in the app folder fails the step" {
	img=$(test_image)
	new_task >/dev/null
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"pool_size\": 1}}")
	run_ts 0 step run "$s"
	docker exec "task_${TID}_volume_original_$DB8" sh -c 'touch /app/.git/index.lock'
	run_ts 1 step run "$s"
	out_has "health check failed"
}

@test "docker_pool records each container's HEAD as base_commit once; a commit in the container does not move it; a new container gets its own" {
	img=$(test_image)
	new_task >/dev/null
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"pool_size\": 2}}")
	run_ts 0 step run "$s"
	name="task_${TID}_volume_golden_$DB8"
	head=$(docker exec "$name" git -C /app rev-parse HEAD)
	[[ $head =~ ^[0-9a-f]{40}$ ]]
	[[ $(task_json "$TID" "d['settings']['containers_map']['golden']['base_commit']") == "\"$head\"" ]]
	[[ $(task_json "$TID" "d['settings']['containers_map']['original']['base_commit']") == "\"$head\"" ]]
	[[ $(results "$s" "['containers'][0]['base_commit']") == "\"$head\"" ]]
	# a command committed in the container: the base stays
	docker exec -w /app "$name" sh -c 'echo x >>hello.txt && git -c user.name=x -c user.email=x@x commit -qam moved'
	[[ $(docker exec "$name" git -C /app rev-parse HEAD) != "$head" ]]
	run_ts 0 step run "$s"
	[[ $(task_json "$TID" "d['settings']['containers_map']['golden']['base_commit']") == "\"$head\"" ]]
	# a recreated container is checked afresh
	docker rm -f "$name" >/dev/null
	run_ts 0 step run "$s"
	[[ $(task_json "$TID" "d['settings']['containers_map']['golden']['container_id']") == "\"$(docker inspect --format '{{.Id}}' "$name")\"" ]]
	[[ $(task_json "$TID" "d['settings']['containers_map']['golden']['base_commit']") == "\"$head\"" ]]
}

@test "docker_pool merges containers_map: a role whose health check fails keeps its entry" {
	img=$(test_image)
	new_task >/dev/null
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"pool_size\": 3}}")
	run_ts 0 step run "$s"
	before=$(task_json "$TID" "d['settings']['containers_map']")
	docker exec "task_${TID}_volume_golden_$DB8" sh -c 'touch /app/.git/index.lock'
	run_ts 1 step run "$s"
	out_has "golden: health check failed in /app: .git/index.lock exists"
	[[ $(task_json "$TID" "d['settings']['containers_map']") == "$before" ]] || fail "containers_map: $(task_json "$TID" "d['settings']['containers_map']")"
	[[ $(task_json "$TID" "sorted(d['settings']['containers_map'])") == '["golden","original","solution1"]' ]]
}

@test "docker_pool health check names a tool the grading harness needs that the image lacks" {
	base=$(test_image)
	tag="task-sync-test/app:nobase64"
	if ! docker image inspect "$tag" >/dev/null 2>&1; then
		printf 'FROM %s\nRUN rm /usr/bin/base64\n' "$base" | docker build -q --network none -t "$tag" - >/dev/null ||
			fail "cannot build $tag"
	fi
	new_task >/dev/null
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$tag\", \"pool_size\": 1}}")
	run_ts 1 step run "$s"
	out_has "original: health check failed in /app: missing tool: base64 (grading needs bash, timeout, base64, mktemp and git)"
}

@test "docker_pool: an image with no git repository in the app folder is a plain worker pool, not health-checked for grading" {
	new_task >/dev/null
	s=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$BASE_IMAGE\", \"pool_size\": 2, \"keep_forever\": true}}")
	run_ts 0 step run "$s"
	out_has "success: 2 containers running from $BASE_IMAGE; no git repository in /app, so no grading check"
	run_ts 0 step info "$s" --json
	assert_json_eq '[c["base_commit"] for c in d["results"]["containers"]]' '[null, null]'
	for c in $(labelled_containers); do
		[[ $(docker inspect --format '{{.State.Running}}' "$c") == true ]]
	done
	# a repository that is there but broken still fails the check
	docker exec "task_${TID}_volume_golden_$DB8" sh -c 'mkdir -p /app/.git'
	run_ts 1 step run "$s" --force
	out_has "golden: health check failed in /app"
}
