#!/usr/bin/env bats
# docker_shell end to end: finding the container, labelled commands, the hard
# timeout that leaves nothing running, dead containers, a daemon down or hung

load docker_helpers

# a kept container from a docker_run step (tail -f, so no `sleep` runs in it);
# sets RUN (the step) and C (the container ID)
start_container() {
	local img
	img=$(test_image) || return 1
	new_task >/dev/null
	RUN=$(make_step "$TID" run "{\"docker_run\": {\"image_tag\": \"$img\", \"keep_forever\": true, \"command\": [\"tail\", \"-f\", \"/dev/null\"]}}")
	"$TS_BIN" step run "$RUN" >/dev/null || fail "docker_run failed"
	C=$(results "$RUN" "['container_id']" | tr -d '"')
}

@test "docker_shell runs labelled commands in order in a docker_run dependency's container" {
	start_container
	s=$(make_step "$TID" shell "{\"docker_shell\": {\"command\": [{\"first\": \"echo one > /tmp/order\"}, {\"second\": \"echo two >> /tmp/order; cat /tmp/order\"}, {\"where\": \"cd /app && git log --oneline | wc -l\"}], \"depends_on\": [{\"id\": $RUN}]}}")
	run_ts 0 step run "$s"
	out_has "success: 3 commands ran in tasksync_${DB8}_step$RUN"
	[[ $(results "$s" "['container_id']") == "\"$C\"" ]]
	[[ $(results "$s" "['outputs'][1]['output']") == '"one\ntwo\n"' ]]
	[[ $(results "$s" "['outputs'][2]['output']") == '"1\n"' ]]
	run_ts 0 step info "$s" --json
	assert_json_eq '[[o["label"], o["exit_code"]] for o in d["results"]["outputs"]]' '[["first", 0], ["second", 0], ["where", 0]]'
}

@test "docker_shell runs every command and fails when one fails; plain strings are cmd1..N" {
	start_container
	s=$(make_step "$TID" shell "{\"docker_shell\": {\"container_name\": \"tasksync_${DB8}_step$RUN\", \"command\": [\"echo a\", \"echo oops >&2; exit 4\", \"echo c\"]}}")
	run_ts 1 step run "$s"
	out_has "failure: 1 of 3 commands failed in tasksync_${DB8}_step$RUN: cmd2 (exit 4)"
	run_ts 0 step info "$s" --json
	assert_json_eq '[[o["label"], o["exit_code"], o["output"]] for o in d["results"]["outputs"]]' '[["cmd1", 0, "a\n"], ["cmd2", 4, "oops\n"], ["cmd3", 0, "c\n"]]'
}

@test "docker_shell finds the container by a nested docker object, by image_tag and by image_id" {
	start_container
	img=$(test_image)
	id=$(docker image inspect --format '{{.Id}}' "$img")
	s=$(make_step "$TID" nested "{\"docker_shell\": {\"docker\": {\"container_id\": \"$C\"}, \"command\": [{\"id\": \"cat /etc/hostname\"}]}}")
	run_ts 0 step run "$s"
	[[ $(results "$s" "['outputs'][0]['output']") == "\"${C:0:12}\\n\"" ]]
	# by tag and ID: some running container of that image (others may exist)
	s=$(make_step "$TID" bytag "{\"docker_shell\": {\"image_tag\": \"$img\", \"image_id\": \"$id\", \"command\": [{\"x\": \"true\"}]}}")
	run_ts 0 step run "$s"
	got=$(results "$s" "['container_id']" | tr -d '"')
	[[ $got =~ ^[0-9a-f]{64}$ ]] || fail "container_id: '$got'"
	# the other backend's run, beside this one, may remove its container
	# of that image between the step and this look: then there is nothing
	# to compare; a container that is still there must be of that image
	if img_of=$(docker inspect --format '{{.Image}}' "$got" 2>/dev/null); then
		[[ $img_of == "$id" ]] || fail "$got is of $img_of, not $id"
	fi
	s=$(make_step "$TID" badid "{\"docker_shell\": {\"docker\": {\"image_tag\": \"$img\", \"image_id\": \"sha256:000000000000000000\"}, \"command\": [{\"x\": \"true\"}]}}")
	run_ts 1 step run "$s"
	out_has "failure: no running container of $img with image ID sha256:000000000000000000"
}

@test "docker_shell uses the first container of a docker_pool dependency" {
	img=$(test_image)
	new_task >/dev/null
	p=$(make_step "$TID" pool "{\"docker_pool\": {\"image_tag\": \"$img\", \"pool_size\": 1}}")
	s=$(make_step "$TID" shell "{\"docker_shell\": {\"command\": [{\"n\": \"cat /app/hello.txt\"}], \"depends_on\": [{\"id\": $p}]}}")
	run_ts 0 task run "$TID"
	[[ $(results "$s" "['container_name']") == "\"task_${TID}_volume_original_$DB8\"" ]]
	[[ $(results "$s" "['outputs'][0]['output']") == '"hello 1\n"' ]]
}

@test "docker_shell: TIMEOUT_SECONDS is a hard timeout that leaves no process behind" {
	start_container
	write_conf "TIMEOUT_SECONDS=2"
	s=$(make_step "$TID" hang "{\"docker_shell\": {\"command\": [{\"hang\": \"bash -c 'sleep 1000 & sleep 1000'\"}, {\"after\": \"echo still usable\"}], \"depends_on\": [{\"id\": $RUN}]}}")
	t0=$SECONDS
	run_ts 1 step run "$s"
	((SECONDS - t0 < 15)) || fail "took $((SECONDS - t0)) s"
	# the time it really took: 2 s, or a little more on a loaded machine
	[[ $output =~ "failure: 1 of 2 commands failed in tasksync_${DB8}_step$RUN: hang (TIMEOUT after "[2-7]" s)" ]] ||
		{ show_run; fail "no TIMEOUT after 2-7 s"; }
	run_ts 0 step info "$s" --json
	assert_json_eq '[[o["label"], o["exit_code"], o.get("timed_out"), o.get("timeout_seconds")] for o in d["results"]["outputs"]]' '[["hang", 124, true, 2], ["after", 0, null, null]]'
	ms=$(json_get 'd["results"]["outputs"][0]["duration_ms"]')
	((ms >= 1900 && ms < 8000)) || fail "duration $ms ms"
	run container_ps "$C"
	[[ $output != *sleep* ]] || fail "left behind: $output"
	[[ $output == *tail* ]] || fail "the main command is gone: $output"
}

@test "docker_shell: the sweep after a timeout also kills what left the process group" {
	start_container
	s=$(make_step "$TID" escape "{\"docker_shell\": {\"timeout_seconds\": 1, \"command\": [{\"escape\": \"setsid sleep 1001 & sleep 1000\"}], \"depends_on\": [{\"id\": $RUN}]}}")
	run_ts 1 step run "$s"
	out_has "escape (TIMEOUT after"
	run container_ps "$C"
	[[ $output != *sleep* ]] || fail "left behind: $output"
	[[ $(docker inspect --format '{{.State.Running}}' "$C") == true ]]
}

@test "docker_shell: a stopped or missing container is a clear failure" {
	start_container
	s=$(make_step "$TID" shell "{\"docker_shell\": {\"command\": [\"true\"], \"depends_on\": [{\"id\": $RUN}]}}")
	docker kill "$C" >/dev/null
	run_ts 1 step run "$s"
	out_has "failure: container 'tasksync_${DB8}_step$RUN' is not running (exited with code 137)"
	docker rm -f "$C" >/dev/null
	run_ts 1 step run "$s"
	out_has "failure: container '$C' does not exist"
	s2=$(make_step "$TID" nothing '{"docker_shell": {"command": ["true"]}}')
	run_ts 1 step run "$s2"
	out_has "failure: no container: set container_name or container_id"
	s3=$(make_step "$TID" badcmd '{"docker_shell": {"container_name": "x", "command": [{"a": 1}]}}')
	run_ts 1 step run "$s3"
	out_has "failure: docker_shell.command[0].a must be a string"
}

@test "docker_shell: a daemon that is down, or hangs, is a clear failure" {
	new_task >/dev/null
	s=$(make_step "$TID" shell '{"docker_shell": {"container_name": "c", "command": ["true"]}}')
	fake_docker down
	TASK_SYNC_DOCKER=$FAKE_DOCKER run_ts 1 step run "$s"
	out_has "failure: cannot inspect container 'c': docker daemon not reachable: Cannot connect"
	fake_docker hang
	t0=$SECONDS
	TASK_SYNC_DOCKER=$FAKE_DOCKER TASK_SYNC_DOCKER_TIMEOUT_MS=500 run_ts 1 step run "$s"
	((SECONDS - t0 < 10)) || fail "took $((SECONDS - t0)) s"
	out_has "docker daemon not reachable"
	no_fake_left
}

@test "docker_shell: one docker call with a dependency's container; a name is inspected first, then used by its ID" {
	start_container
	log_docker
	s=$(make_step "$TID" shell "{\"docker_shell\": {\"command\": [\"true\"], \"depends_on\": [{\"id\": $RUN}]}}")
	TASK_SYNC_DOCKER=$LOGGED run_ts 0 step run "$s"
	[[ $(cat "$DOCKER_LOG") == "exec $C" ]] || fail "calls: $(cat "$DOCKER_LOG")"
	[[ $(results "$s" "['container_name']") == "\"tasksync_${DB8}_step$RUN\"" ]]

	# by name: one inspect (whose is it?) before the commands, which run in the
	# ID it saw
	: >"$DOCKER_LOG"
	s2=$(make_step "$TID" byname "{\"docker_shell\": {\"container_name\": \"tasksync_${DB8}_step$RUN\", \"command\": [\"true\", \"true\"]}}")
	TASK_SYNC_DOCKER=$LOGGED run_ts 0 step run "$s2"
	out_has "success: 2 commands ran in tasksync_${DB8}_step$RUN"
	[[ $(LC_ALL=C sort "$DOCKER_LOG" | tr "\n" " ") == "container inspect exec $C exec $C " ]] || fail "calls: $(cat "$DOCKER_LOG")"
	[[ $(results "$s2" "['container_id']") == "\"$C\"" ]]
}

@test "docker_shell: a command whose output looks like the daemon's refusal is still its own result" {
	start_container
	s=$(make_step "$TID" mimic "{\"docker_shell\": {\"command\": [{\"m\": \"echo 'Error response from daemon: No such container: x'; exit 1\"}], \"depends_on\": [{\"id\": $RUN}]}}")
	run_ts 1 step run "$s"
	out_has "failure: 1 of 1 commands failed in tasksync_${DB8}_step$RUN: m (exit 1)"
}
