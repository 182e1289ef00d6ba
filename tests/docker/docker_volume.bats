#!/usr/bin/env bats
# docker_extract_volume and docker_volume_pool end to end: per-candidate
# folders on the host, one container per candidate mounting its folder,
# resets and patches, ownership, name conflicts

load docker_helpers

# write PATCH (relative to $LP): hello.txt becomes TEXT, and NEWFILE is added
make_patch() {
	local d
	d=$(mktemp -d)
	(cd "$d" && git init -q && printf 'hello 1\n' >hello.txt && git add . &&
		git -c user.name=t -c user.email=t@example.com commit -qm init &&
		printf '%s\n' "$2" >hello.txt && printf 'x\n' >"$3" && git add -A &&
		git diff --cached) >"$LP/$1"
	rm -rf "$d"
}

# a task whose folder belongs to nobody, with extract and pool steps; sets
# EXTRACT and POOL
volume_task() {
	local img pool_extra=${1:-}
	img=$(test_image) || return 1
	chown 65534:65534 "$LP"
	new_task >/dev/null
	"$TS_BIN" task edit "$TID" --set docker.image_tag="$img" >/dev/null
	EXTRACT=$(make_step "$TID" extract '{"docker_extract_volume": {"app_folder": "/app", "pool_size": 3}}')
	POOL=$(make_step "$TID" pool "{\"docker_volume_pool\": {\"pool_size\": 3, \"depends_on\": [{\"id\": $EXTRACT}]$pool_extra}}")
}

@test "docker_extract_volume copies the app folder into original and the candidate folders, owned by the task folder's owner" {
	volume_task
	run_ts 0 step run "$EXTRACT"
	out_has "success: copied /app from task-sync-test/app:1 into 3 folders"
	for d in original volume_golden volume_solution1; do
		[[ $(cat "$LP/$d/hello.txt") == "hello 1" ]] || fail "$d/hello.txt"
		[[ -d $LP/$d/.git ]] || fail "$d has no .git"
		[[ -z $(find "$LP/$d" \( ! -uid 65534 -o ! -gid 65534 \) -print -quit) ]] ||
			fail "$d has files not owned by the task folder's owner"
	done
	[[ ! -e $LP/volume_solution2 ]]
	[[ -z $(labelled_containers) ]] || fail "the helper container was left behind"
	run_ts 0 step info "$EXTRACT" --json
	assert_json_eq 'sorted(d["results"]["folders"])' '["golden", "original", "solution1"]'
	assert_json_eq 'd["results"]["folders"]["golden"]' "\"$LP/volume_golden\""
	[[ $(task_json "$TID" "d['settings']['volume_name']") == "\"volume_task_$TID\"" ]]
}

@test "docker_extract_volume is fresh while nothing changed; a run makes fresh copies" {
	volume_task
	run_ts 0 step run "$EXTRACT"
	run_ts 0 step run "$EXTRACT"
	out_has "fresh"
	echo stray >"$LP/volume_golden/stray.txt"
	rm -rf "$LP/volume_solution1"
	run_ts 0 step run "$EXTRACT"
	out_has "success: copied"
	[[ -e $LP/volume_solution1/hello.txt ]]
	[[ ! -e $LP/volume_golden/stray.txt ]]
}

@test "docker_extract_volume: a missing image or app folder is a clear failure, no helper left" {
	volume_task
	ts task edit "$TID" --set docker.image_tag=task-sync-test/no-such:404 >/dev/null
	run_ts 1 step run "$EXTRACT"
	out_has "failure: image 'task-sync-test/no-such:404' not found"
	ts task edit "$TID" --set docker.image_tag=task-sync-test/app:1 >/dev/null
	ts step edit "$EXTRACT" --set docker_extract_volume.app_folder=/nope >/dev/null
	run_ts 1 step run "$EXTRACT"
	out_has "failure: copying /nope out of task-sync-test/app:1 failed: "
	[[ -z $(labelled_containers) ]]
	ts task edit "$TID" --unset local_path >/dev/null
	run_ts 1 step run "$EXTRACT"
	out_has "is not a directory: set the task's local_path"
}

@test "docker_volume_pool mounts each candidate's folder, resets it and applies its patches" {
	volume_task ', "held_out_test_file": "tests.patch"'
	make_patch golden.patch "hello golden" golden_new.txt
	make_patch solution1.patch "hello one" one_new.txt
	# the held-out tests only add a file
	printf '%s\n' 'diff --git a/test_hidden.txt b/test_hidden.txt' 'new file mode 100644' \
		'--- /dev/null' '+++ b/test_hidden.txt' '@@ -0,0 +1 @@' '+hidden' >"$LP/tests.patch"
	run_ts 0 task run "$TID"
	out_has "success: 3 containers running from sha256:"
	out_has ", repositories reset and patches applied"
	[[ $(cat "$LP/volume_golden/hello.txt") == "hello golden" ]]
	[[ $(cat "$LP/volume_solution1/hello.txt") == "hello one" ]]
	[[ $(cat "$LP/original/hello.txt") == "hello 1" ]]
	for d in original volume_golden volume_solution1; do
		[[ $(cat "$LP/$d/test_hidden.txt") == hidden ]] || fail "$d lacks the held-out test"
		[[ -z $(find "$LP/$d" \( ! -uid 65534 -o ! -gid 65534 \) -print -quit) ]] ||
			fail "$d has files not owned by the task folder's owner"
	done
	for role in original golden solution1; do
		c=task_${TID}_volume_${role}_$DB8
		run docker inspect --format '{{.State.Running}} {{.HostConfig.Init}} {{.HostConfig.NetworkMode}} {{index .Config.Labels "task-sync.role"}} {{range .Mounts}}{{.Source}}:{{.Destination}}{{end}}' "$c"
		dir=volume_$role
		[[ $role == original ]] && dir=original
		[[ $output == "true true none $role $LP/$dir:/app" ]] || fail "$c: $output, want true true none $role $LP/$dir:/app"
	done
	[[ $(docker exec "task_${TID}_volume_golden_$DB8" cat /app/hello.txt) == "hello golden" ]]
	run_ts 0 task info "$TID" --json
	assert_json_eq 'sorted(d["settings"]["containers_map"])' '["golden", "original", "solution1"]'
	assert_json_eq 'd["settings"]["containers_map"]["golden"]["container_name"]' "\"task_${TID}_volume_golden_$DB8\""
	run_ts 0 step info "$POOL" --json
	assert_json_eq '[[c["role"], c["patches"]] for c in d["results"]["containers"]]' '[["original", ["tests.patch"]], ["golden", ["golden.patch", "tests.patch"]], ["solution1", ["solution1.patch", "tests.patch"]]]'
	golden_id=$(json_get 'd["results"]["containers_map"]["golden"]["container_id"]')

	# a second run keeps the containers and resets the work in them
	echo junk >"$LP/volume_golden/junk.txt"
	echo changed >"$LP/volume_solution1/hello.txt"
	run_ts 0 step run "$POOL"
	[[ ! -e $LP/volume_golden/junk.txt ]]
	[[ $(cat "$LP/volume_solution1/hello.txt") == "hello one" ]]
	run_ts 0 step info "$POOL" --json
	assert_json_eq 'd["results"]["containers_map"]["golden"]["container_id"]' "$golden_id"
}

@test "docker_volume_pool: a patch that does not apply fails for that candidate only" {
	volume_task
	make_patch golden.patch "hello golden" golden_new.txt
	printf 'not a patch\n' >"$LP/solution1.patch"
	run_ts 1 task run "$TID"
	out_has "failure: solution1: git apply solution1.patch failed: "
	[[ $(cat "$LP/volume_golden/hello.txt") == "hello golden" ]]
	run_ts 0 step info "$POOL" --json
	assert_json_eq '[[c["role"], c["patches"], "error" in c] for c in d["results"]["containers"]]' '[["original", [], false], ["golden", ["golden.patch"], false], ["solution1", [], true]]'
	[[ $(labelled_containers | wc -l) -eq 3 ]]
}

@test "docker_volume_pool: a missing folder or a stranger's container is a clear failure" {
	volume_task
	lone=$(make_step "$TID" lone '{"docker_volume_pool": {"pool_size": 1}}')
	run_ts 1 step run "$lone"
	out_has "original: '$LP/original' does not exist: run the docker_extract_volume step first"
	[[ -z $(labelled_containers) ]]

	run_ts 0 step run "$EXTRACT"
	cleanup_later container "task_${TID}_volume_golden_$DB8"
	stranger=$(docker run -d --network none --name "task_${TID}_volume_golden_$DB8" task-sync-test/app:1 sleep 300)
	run_ts 1 step run "$POOL"
	out_has "golden: a container named 'task_${TID}_volume_golden_$DB8' exists that is not this task's (no task-sync labels): left alone; remove or rename it"
	[[ $(docker inspect --format '{{.Id}} {{.State.Running}}' "task_${TID}_volume_golden_$DB8") == "$stranger true" ]]
	[[ $(labelled_containers | wc -l) -eq 2 ]]
}

@test "docker_extract_volume and docker_volume_pool: a daemon that is down, or hangs, is a clear failure" {
	volume_task
	lone=$(make_step "$TID" lone '{"docker_volume_pool": {"pool_size": 1}}')
	fake_docker down
	export TASK_SYNC_DOCKER=$FAKE_DOCKER
	run_ts 1 step run "$EXTRACT"
	out_has "failure: cannot inspect image 'task-sync-test/app:1': docker daemon not reachable: Cannot connect"
	run_ts 1 step run "$lone"
	out_has "failure: cannot inspect image 'task-sync-test/app:1': docker daemon not reachable"
	fake_docker hang
	export TASK_SYNC_DOCKER_TIMEOUT_MS=500
	t0=$SECONDS
	run_ts 1 step run "$EXTRACT"
	run_ts 1 step run "$lone"
	((SECONDS - t0 < 10)) || fail "took $((SECONDS - t0)) s"
	out_has "docker daemon not reachable"
	no_fake_left
}
