#!/usr/bin/env bats
# docker_pull end to end against the local registry on 127.0.0.1:5000

load docker_helpers

# push the test image as REF and drop the local tag, so a pull has work to do
push_image() {
	local img
	img=$(test_image) || return 1
	docker tag "$img" "$1"
	cleanup_later image "$1"
	docker push "$1" >/dev/null 2>&1 || fail "cannot push $1 (is the registry up? scripts/docker-env)"
	docker rmi "$1" >/dev/null
}

@test "docker_pull pulls, records the image ID, sets prevent_run_before and keeps its settings" {
	ref="$REGISTRY/task-sync-test/pull:$TID"
	push_image "$ref"
	new_task >/dev/null
	s=$(make_step "$TID" pull "{\"docker_pull\": {\"image_tag\": \"$ref\", \"depends_on\": []}}")
	run_ts 0 step run "$s"
	out_has "success: pulled $ref (sha256:"
	want=$(docker image inspect --format '{{.Id}}' "$ref")
	[[ $(results "$s" "['image_id']") == "\"$want\"" ]]
	[[ $(results "$s" "['image_tag']") == "\"$ref\"" ]]
	# the reference by digest a worker lacking the image pulls (workers.md)
	digest=$(docker image inspect --format '{{json .RepoDigests}}' "$ref")
	[[ $(results "$s" "['repo_digest']") == "\"$REGISTRY/task-sync-test/pull@sha256:"* ]]
	[[ $digest == *$(results "$s" "['repo_digest']")* ]] || fail "$digest"
	# the step keeps its own keys; only prevent_run_before is added
	run_ts 0 step info "$s" --json
	assert_json_eq 'sorted(d["settings"]["docker_pull"])' '["depends_on", "image_tag", "prevent_run_before"]'
	next=$(json_get 'd["settings"]["docker_pull"]["prevent_run_before"]' | tr -d '"')
	[[ $next =~ ^$TS_RE$ ]] || fail "not RFC 3339: $next"
	secs=$(($(date -d "$next" +%s) - $(date +%s)))
	((secs > 6 * 3600 - 60 && secs <= 6 * 3600)) || fail "prevent_run_before is $secs s away"
	[[ $(results "$s" "['prevent_run_before_next']") == "\"$next\"" ]]
}

@test "docker_pull is skipped before prevent_run_before, keeps the image for dependents, and --force pulls" {
	ref="$REGISTRY/task-sync-test/pull:$TID"
	push_image "$ref"
	new_task >/dev/null
	s=$(make_step "$TID" pull "{\"docker_pull\": {\"image_tag\": \"$ref\"}}")
	r=$(make_step "$TID" run "{\"docker_run\": {\"keep_forever\": true, \"depends_on\": [{\"id\": $s}]}}")
	run_ts 0 task run "$TID"
	id=$(results "$s" "['image_id']")
	run_ts 0 task run "$TID"
	out_has "skipped: not pulling $ref before "
	[[ $(result_of "$s") == skipped ]]
	[[ $(results "$s" "['image_id']") == "$id" ]]
	[[ $(results "$r" "['image_id']") == "$id" ]]
	run_ts 0 step run "$s" --force
	out_has "success: pulled $ref"
	out_has ", unchanged)"
}

@test "docker_pull takes the task's docker.image_tag and checks image_id" {
	ref="$REGISTRY/task-sync-test/pull:$TID"
	push_image "$ref"
	want=$(docker image inspect --format '{{.Id}}' "$(test_image)")
	new_task >/dev/null
	ts task edit "$TID" --set docker.image_tag="$ref" >/dev/null
	s=$(make_step "$TID" pull "{\"docker_pull\": {\"image_id\": \"$want\"}}")
	run_ts 0 step run "$s"
	[[ $(results "$s" "['image_id']") == "\"$want\"" ]]

	bad=sha256:0000000000000000000000000000000000000000000000000000000000000000
	s2=$(make_step "$TID" pull2 "{\"docker_pull\": {\"image_id\": \"$bad\"}}")
	run_ts 1 step run "$s2"
	out_has "failure: pulled $ref has image ID $want, not the expected $bad (docker_pull.image_id)"
	# a failed pull leaves prevent_run_before alone
	[[ $(step_json "$s2" "d['settings']['docker_pull'].get('prevent_run_before')") == null ]]
}

@test "docker_pull: an unreachable registry is a failure with docker's message" {
	new_task >/dev/null
	s=$(make_step "$TID" pull '{"docker_pull": {"image_tag": "127.0.0.1:5999/task-sync-test/none:1"}}')
	run_ts 1 step run "$s"
	out_has "failure: docker pull 127.0.0.1:5999/task-sync-test/none:1 failed: "
	out_has "connection refused"
	[[ $(result_of "$s") == failure ]]
	[[ $(step_json "$s" "d['settings']") == '{"docker_pull":{"image_tag":"127.0.0.1:5999/task-sync-test/none:1"}}' ]]
}

@test "docker_pull: an image the registry lacks is a failure" {
	new_task >/dev/null
	s=$(make_step "$TID" pull "{\"docker_pull\": {\"image_tag\": \"$REGISTRY/task-sync-test/absent:$TID\"}}")
	run_ts 1 step run "$s"
	out_has "failure: docker pull $REGISTRY/task-sync-test/absent:$TID failed: "
	out_has "not found"
}

@test "docker_pull: no tag, or a bad prevent_run_before, is a failure" {
	new_task >/dev/null
	s=$(make_step "$TID" pull '{"docker_pull": {}}')
	run_ts 1 step run "$s"
	out_has "failure: no image tag: set docker_pull.image_tag or the task's docker.image_tag"
	s=$(make_step "$TID" pull '{"docker_pull": {"image_tag": "x:1", "prevent_run_before": "tomorrow"}}')
	run_ts 1 step run "$s"
	out_has "failure: prevent_run_before 'tomorrow' is not an RFC 3339 time"
	s=$(make_step "$TID" pull '{"docker_pull": {"image_tag": "x:1", "prevent_run_before": "2999-01-01T10:00:00+02:00"}}')
	run_ts 0 step run "$s"
	out_has "skipped: not pulling x:1 before 2999-01-01T10:00:00+02:00"
}

@test "docker_pull: a daemon that is down, or hangs, is a clear failure" {
	new_task >/dev/null
	s=$(make_step "$TID" pull '{"docker_pull": {"image_tag": "x:1"}}')
	fake_docker down
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 step run "$s"
	out_has "failure: cannot pull x:1: docker daemon not reachable: Cannot connect to the Docker daemon"
	fake_docker hang
	t0=$SECONDS
	TASK_SYNC_DOCKER=$FAKE_DOCKER TASK_SYNC_DOCKER_TIMEOUT_MS=500 run_ts 1 step run "$s"
	((SECONDS - t0 < 10)) || fail "took $((SECONDS - t0)) s"
	out_has "docker daemon not reachable"
	no_fake_left
}
